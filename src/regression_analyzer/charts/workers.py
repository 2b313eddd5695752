"""Where the charts are drawn: in this process, or spread over a few drawing processes.

Loading matplotlib takes about half a second, and drawing ten charts about as long again on
one core. A command started with `ChartWorkers.start()` first thing gets processes that load
matplotlib while the table is read and the model fitted, then draw the charts side by side.
They come from a 'forkserver' that imports charts.drawing once, so each drawing process starts
in milliseconds with matplotlib already loaded, and none is forked from a threaded process.

The web service does not use them: its analyses already are one process each (WORKERS of
them), so each draws its own charts in its own process and the process count stays bounded.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor
from pathlib import Path
from types import TracebackType

from ..cores import usable_cores
from .input import ChartInput

_DRAWING_MODULE = "regression_analyzer.charts.drawing"

log = logging.getLogger(__name__)


def _draw(chart: str, data: ChartInput, index: int | None, path: str) -> tuple[int, str]:
    from .drawing import draw_chart

    return draw_chart(chart, data, index, path)


class Drawing:
    """One chart being drawn; `result()` waits for it: (points plotted, note).

    If its drawing process died (the kernel's OOM killer, a signal), the chart is drawn in
    this process instead: the drawing processes are a speed-up, never a reason to fail.
    """

    def __init__(
        self, future: Future[tuple[int, str]], chart: str, data: ChartInput, index: int | None,
        path: Path,
    ) -> None:  # fmt: skip
        self._future = future
        self._args = (chart, data, index, str(path))

    def result(self) -> tuple[int, str]:
        """Wait for the chart; re-raise the drawing's own error."""
        try:
            return self._future.result()
        except BrokenExecutor:
            log.warning("a chart-drawing process died; drawing %s here", self._args[3])
            return _draw(*self._args)


class ChartWorkers:
    """Draws charts, each handed back as a Drawing (points plotted, note)."""

    def __init__(self, executor: Executor | None, processes: int = 1) -> None:
        self._executor = executor
        self._processes = processes

    @classmethod
    def in_this_process(cls) -> ChartWorkers:
        """Draw each chart right away, in the calling process."""
        return cls(None)

    @classmethod
    def start(cls, processes: int | None = None) -> ChartWorkers:
        """Up to `processes` drawing processes (default: one per core), loading matplotlib now.

        Returns immediately: the forkserver imports matplotlib in the background, and the first
        `draw` waits for it only if it is not ready yet. One core: draw in this process.
        """
        count = processes if processes is not None else usable_cores()
        if count < 2:
            return cls.in_this_process()
        try:
            ctx = multiprocessing.get_context("forkserver")
        except ValueError:  # no forkserver on this platform
            return cls.in_this_process()
        ctx.set_forkserver_preload(["__main__", _DRAWING_MODULE])
        from multiprocessing import forkserver

        try:
            forkserver.ensure_running()
            executor = ProcessPoolExecutor(max_workers=count, mp_context=ctx)
        except OSError as exc:  # no /dev/shm for its semaphores, no room for a socket, ...
            log.warning("drawing charts in this process: no drawing processes (%s)", exc)
            return cls.in_this_process()
        return cls(executor, count)

    @property
    def processes(self) -> int:
        """How many processes draw (1: this one)."""
        return self._processes if self._executor is not None else 1

    def draw(self, chart: str, data: ChartInput, index: int | None, path: Path) -> Drawing:
        """Draw one chart (see drawing.draw_chart) into path."""
        if self._executor is not None:
            try:
                future = self._executor.submit(_draw, chart, data, index, str(path))
            except (BrokenExecutor, OSError) as exc:  # the processes could not start
                log.warning("drawing charts in this process: %s", exc)
                self._executor = None
            else:
                return Drawing(future, chart, data, index, path)
        done: Future[tuple[int, str]] = Future()
        try:
            done.set_result(_draw(chart, data, index, str(path)))
        except Exception as exc:  # handed to whoever waits, as a pool would
            done.set_exception(exc)
        return Drawing(done, chart, data, index, path)

    def close(self) -> None:
        """Stop the drawing processes (after the charts already asked for are written)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    def __enter__(self) -> ChartWorkers:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

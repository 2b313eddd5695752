"""Where the charts are drawn: in this process, or spread over a few drawing processes.

Loading matplotlib takes about half a second, and drawing ten charts about as long again on
one core. A command started with `ChartWorkers.start()` first thing gets processes that load
matplotlib while the table is read and the model fitted, then draw the charts side by side.
They come from a 'forkserver' that imports chart_drawing once, so each drawing process starts
in milliseconds with matplotlib already loaded, and none is forked from a threaded process.

The web service does not use them: its analyses already are one process each (WORKERS of
them), so each draws its own charts in its own process and the process count stays bounded.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from types import TracebackType

from .chart_input import ChartInput

_DRAWING_MODULE = "regression_analyzer.chart_drawing"


def _draw(chart: str, data: ChartInput, index: int | None, path: str) -> tuple[int, str]:
    from .chart_drawing import draw_chart

    return draw_chart(chart, data, index, path)


class ChartWorkers:
    """Draws charts and hands back a Future per chart (points plotted, note)."""

    def __init__(self, executor: Executor | None) -> None:
        self._executor = executor

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
        count = processes if processes is not None else _cores()
        if count < 2:
            return cls.in_this_process()
        try:
            ctx = multiprocessing.get_context("forkserver")
        except ValueError:  # no forkserver on this platform
            return cls.in_this_process()
        ctx.set_forkserver_preload(["__main__", _DRAWING_MODULE])
        from multiprocessing import forkserver

        forkserver.ensure_running()
        return cls(ProcessPoolExecutor(max_workers=count, mp_context=ctx))

    @property
    def processes(self) -> int:
        """How many processes draw (1: this one)."""
        return 1 if self._executor is None else self._executor._max_workers  # type: ignore[attr-defined]

    def draw(
        self, chart: str, data: ChartInput, index: int | None, path: Path
    ) -> Future[tuple[int, str]]:
        """Draw one chart (see chart_drawing.draw_chart) into path."""
        if self._executor is not None:
            return self._executor.submit(_draw, chart, data, index, str(path))
        done: Future[tuple[int, str]] = Future()
        try:
            done.set_result(_draw(chart, data, index, str(path)))
        except Exception as exc:  # handed to whoever waits, as a pool would
            done.set_exception(exc)
        return done

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


def _cores() -> int:
    """Cores this process may run on (the affinity mask, which containers and taskset set)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1

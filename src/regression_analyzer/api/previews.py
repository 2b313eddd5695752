"""Upload previews: columns, types and first rows, built in a limited child process.

A preview parses the user's file, so it never runs in the service process: one hostile
workbook could otherwise grow the service past its memory (a 32 KB .xlsx padded to column
XFD reached 878 MB). `PreviewRunner` starts one short-lived child per preview (from the same
forkserver as the analyses, so it starts in milliseconds), with the memory cap and watchdog
of `isolation.enter_worker_process`, a time limit, and at most WORKERS at once; the child logs
in the service's format (logs.configure_child_logging). A preview refused for a reason other
than success is reported to `on_refused` with its PreviewRefusal class (the metrics count it).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import math
import os
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

from .. import errors
from ..errors import InputError, LimitExceededError
from ..jobs.isolation import WorkerContext, enter_worker_process, memory_limit_message
from ..logs import configure_child_logging
from .schemas import ColumnPreview, TablePreview

log = logging.getLogger(__name__)

PREVIEW_SAMPLE_ROWS = 1000  # rows the column types are judged on
PREVIEW_ROWS = 10  # rows shown


def _json_cell(value: Any) -> Any:
    """A preview cell as JSON: NaN -> null, numpy scalars -> Python, dates -> ISO text."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def build_preview(path: Path) -> TablePreview:
    """Columns, dtypes and first rows. Parses the file: call it only in a child process.

    Reads PREVIEW_SAMPLE_ROWS data rows (enough to tell the columns' types); a workbook is
    still streamed to its end, so its real width is checked on every row.
    """
    from ..loading import describe_columns, load_table

    table = load_table(path, max_rows=PREVIEW_SAMPLE_ROWS)
    frame = table.frame
    rows = [
        {str(k): _json_cell(v) for k, v in record.items()}
        for record in frame.head(PREVIEW_ROWS).to_dict(orient="records")
    ]
    return TablePreview(
        columns=[ColumnPreview(**column) for column in describe_columns(frame)],
        rows=rows,
        rows_previewed=len(frame),
        truncated=table.truncated,
        transposed=table.transposed,
        kind=table.kind,
        sheet=table.sheet,
        sheets=table.sheets,
    )


# What a child sends back: ("ok", preview JSON) or (kind, error class, message, errno).
_Outcome = tuple[str, str, str, int]
# Why a preview was refused, as a class an operator can count: input (the table: unreadable,
# unsupported, over a loading limit), memory (WORKER_MEMORY_MB), timeout (PREVIEW_TIMEOUT_S),
# crashed (the child died without answering), storage (the disk full), internal (a bug, logged).
PreviewRefusal = Literal["input", "memory", "timeout", "crashed", "storage", "internal"]
_REFUSALS: dict[str, PreviewRefusal] = {
    "input": "input",
    "memory": "memory",
    "timeout": "timeout",
    "os": "storage",
    "failed": "internal",
}


def refusal_of(outcome: _Outcome | None) -> PreviewRefusal | None:
    """The class of a child's answer: None for a preview, "crashed" for no answer."""
    if outcome is None:
        return "crashed"
    if outcome[0] == "ok":
        return None
    return _REFUSALS.get(outcome[0], "internal")


def _ignore_refusal(reason: PreviewRefusal) -> None:
    """The default of PreviewRunner's on_refused: nobody counts."""


def _preview_child(path: str, conn: Connection, memory_mb: int, service_pid: int) -> None:
    """The child's whole life: the service's log format, limits, the preview, one message."""
    configure_child_logging()
    enter_worker_process(memory_mb, service_pid)
    outcome: _Outcome
    started = time.monotonic()
    try:
        preview = build_preview(Path(path))
        log.debug(
            "preview built in %.0f ms: %d rows, %d columns",
            (time.monotonic() - started) * 1000,
            preview.rows_previewed,
            len(preview.columns),
        )
        outcome = ("ok", "", preview.model_dump_json(), 0)
    except MemoryError:
        log.warning("preview hit the memory limit of %d MB", memory_mb)
        outcome = ("memory", "", "", 0)
    except InputError as exc:
        outcome = ("input", type(exc).__name__, str(exc), 0)
    except OSError as exc:
        outcome = ("os", "", exc.strerror or str(exc), exc.errno or 0)
    except Exception:
        log.exception("preview failed")
        outcome = ("failed", "", "", 0)
    with contextlib.suppress(OSError):
        conn.send(outcome)
    conn.close()


class PreviewRunner:
    """Builds previews in limited child processes; raises the errors the edge maps."""

    def __init__(
        self,
        context: WorkerContext,
        memory_mb: int,
        timeout_s: float,
        concurrency: int,
        on_refused: Callable[[PreviewRefusal], None] = _ignore_refusal,
    ) -> None:
        self.context = context
        self.memory_mb = memory_mb
        self.timeout_s = timeout_s
        self.on_refused = on_refused
        self._slots = asyncio.Semaphore(concurrency)

    async def preview(self, path: Path, shown_name: str) -> TablePreview:
        """The preview of the file at `path`; `shown_name` is what error messages call it."""
        async with self._slots:
            outcome = await asyncio.to_thread(self._run_child, path)
        refusal = refusal_of(outcome)
        if refusal is not None:
            self.on_refused(refusal)
        return self._interpret(outcome, shown_name)

    def _run_child(self, path: Path) -> _Outcome | None:
        reader, writer = self.context.Pipe(duplex=False)
        process = self.context.Process(
            target=_preview_child,
            args=(str(path), writer, self.memory_mb, os.getpid()),
            name="preview",
            daemon=True,
        )
        try:
            process.start()
            writer.close()
            if not reader.poll(self.timeout_s):
                return ("timeout", "", "", 0)
            received: _Outcome = reader.recv()
            return received
        except EOFError:
            return None  # the child died without answering (killed, or crashed)
        finally:
            if process.is_alive():
                process.kill()
            process.join(timeout=5)
            reader.close()
            with contextlib.suppress(ValueError):
                process.close()

    def _interpret(self, outcome: _Outcome | None, name: str) -> TablePreview:
        if outcome is None:
            raise LimitExceededError(
                f"{name}: reading the table stopped unexpectedly; it may need more than "
                f"the {self.memory_mb} MB of memory allowed (WORKER_MEMORY_MB)"
            )
        kind, error_class, text, code = outcome
        if kind == "ok":
            return TablePreview.model_validate_json(text)
        if kind == "timeout":
            raise LimitExceededError(
                f"{name}: reading the table took longer than {self.timeout_s:g} s "
                "(PREVIEW_TIMEOUT_S); it is too large or too complex to preview"
            )
        if kind == "memory":
            raise LimitExceededError(f"{name}: {memory_limit_message(self.memory_mb)}")
        if kind == "input":
            raised = getattr(errors, error_class, InputError)
            if not (isinstance(raised, type) and issubclass(raised, InputError)):
                raised = InputError
            raise raised(text)
        if kind == "os" and code in (errno.ENOSPC, errno.EDQUOT):
            raise OSError(code, text)
        raise InputError(f"{name}: the table could not be read")

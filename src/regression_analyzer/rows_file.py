"""rows.csv: one line per row used in the fit (fitted, residuals, leverage, Cook's distance).

Written in record batches by pyarrow's CSV writer: a million rows never become one big string,
and pyarrow formats floats (shortest round-trip form) in C++ without holding the GIL, so the
pipeline lets it run on a thread while the charts are drawn.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from .atomic_files import replaced_atomically
from .stats.influence import RowDiagnostics

ROWS_FILE = "rows.csv"
BATCH_ROWS = 65_536


def write_rows_csv(path: Path, per_row: RowDiagnostics) -> None:
    """Write the per-row diagnostics to `path` atomically; undefined values stay empty."""
    columns = per_row.columns()
    schema = pa.schema([(name, pa.int64() if name == "row" else pa.float64()) for name in columns])
    total = len(per_row.rows)
    options = pa_csv.WriteOptions(quoting_style="needed")
    with (
        replaced_atomically(path) as tmp,
        pa_csv.CSVWriter(str(tmp), schema, write_options=options) as writer,
    ):
        for start in range(0, max(total, 1), BATCH_ROWS):
            stop = start + BATCH_ROWS
            arrays = [
                pa.array(values[start:stop], type=field.type, from_pandas=True)
                for values, field in zip(columns.values(), schema, strict=True)
            ]
            writer.write_batch(pa.record_batch(arrays, schema=schema))


class BackgroundTask:
    """A function run on its own thread; `wait` joins it and re-raises what it raised."""

    def __init__(self, work: Callable[[], None]) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # handed to the waiting thread
            self._error = exc

    def wait(self) -> None:
        """Block until the work is done; raise its exception if it failed."""
        self._thread.join()
        if self._error is not None:
            raise self._error

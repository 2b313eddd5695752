"""Read a CSV or Excel table into a clean DataFrame.

Handles unknown encodings, delimiters, decimal commas, thousands separators, null markers,
sheets, sideways tables and bad files. Every failure is a typed errors.InputError.

load_table is the way in; its parts:

file_kind  which kind a file is, by extension and content; other formats refused by name
limits     what a file may cost to load (header size, width, cells, zip bombs)
csv_files  a CSV's encoding, delimiter and header, then its table (arrow_csv: pyarrow's reader
           for plain files)
excel      one sheet of an .xlsx/.xlsm/.xls workbook
cleaning   missing markers, column names, numbers and dates in text, empty rows, infinities
sideways   tables with variables as rows, found and turned around
tables     the table as a reader hands it over (_RawTable) and as it is returned (LoadedTable)
"""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EmptyTableError, InputError
from .cleaning import (
    NULL_MARKERS,
    _clean_header,
    _drop_empty,
    _infinite_to_missing,
    _normalise_columns,
    _truncate_list,
)
from .csv_files import _read_csv
from .excel import _column_letter, _read_excel
from .file_kind import FileKind, detect_file_kind
from .sideways import _turn_sideways, looks_sideways
from .tables import LoadedTable, _RawTable

__all__ = [
    "NULL_MARKERS",
    "FileKind",
    "LoadedTable",
    "describe_columns",
    "detect_file_kind",
    "load_table",
    "looks_sideways",
]


def load_table(
    path: Path,
    *,
    sheet: str | None = None,
    transpose: bool | None = None,
    max_rows: int | None = None,
) -> LoadedTable:
    """Load a CSV/TSV/TXT or Excel table.

    sheet picks an Excel sheet by name (first sheet by default; ignored for CSV). transpose
    None lets looks_sideways decide; True/False force it. max_rows keeps only the first
    max_rows data rows, for a preview (Excel counts rows holding a value; CSV counts lines,
    blank ones included); the result's truncated says whether rows were left out and
    total_rows how many data rows the whole file has, when known (not for CSV). The limits
    still apply to the whole file: an Excel sheet is read to its end. Raises
    UnsupportedFileError, CorruptFileError, EmptyTableError, ColumnNotFoundError (unknown
    sheet) or LimitExceededError (a header or width beyond MAX_HEADER_BYTES / MAX_COLUMNS).
    """
    if max_rows is not None and max_rows < 1:
        raise ValueError(f"max_rows must be at least 1, not {max_rows}")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found or not a regular file")
    kind = detect_file_kind(path)
    raw = _read_csv(path, max_rows) if kind == "csv" else _read_excel(path, kind, sheet, max_rows)
    frame = raw.frame
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise EmptyTableError(f"{path.name}: no data rows (empty file or header only)")
    frame.columns = pd.Index(_clean_header(frame.columns))
    file_columns = dict(zip(frame.columns, range(1, frame.shape[1] + 1), strict=True))
    frame, numbers = _drop_empty(frame, raw.row_numbers)
    if frame.empty:
        raise EmptyTableError(f"{path.name}: every value is missing")

    notes: list[str] = []
    if kind == "csv" and sheet is not None:
        notes.append(f"The sheet option ({sheet!r}) was ignored: CSV files have no sheets.")
    converted = _normalise_columns(frame, raw.delimiter)
    if transpose is None:
        transposed, reason = looks_sideways(frame)
    elif transpose:
        transposed, reason = True, "transposed: requested by the user"
    else:
        transposed, reason = False, "not transposed: turned off by the user"
    numbering = _row_numbering(path, raw)
    if transposed:
        numbering = _column_numbering(path, raw, file_columns[frame.columns[0]])
        frame, numbers = _turn_sideways(path, frame, file_columns)
        converted = _normalise_columns(frame, raw.delimiter)
        notes.append(f"The table was read sideways and turned around ({reason}).")
    if converted:
        notes.append(
            "Text columns read as numbers (decimal commas, thousands separators or spaces): "
            + _truncate_list([str(c) for c in converted], limit=8)
        )
    if infinite := _infinite_to_missing(frame):
        notes.append(infinite)
    if frame.empty or frame.shape[1] == 0:
        raise EmptyTableError(f"{path.name}: every value is missing")
    return LoadedTable(
        frame=frame,
        kind=kind,
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        sheet=raw.sheet,
        transposed=transposed,
        transpose_reason=reason,
        warnings=notes,
        row_numbers=numbers,
        row_numbering=numbering,
        truncated=raw.truncated,
        total_rows=_total_rows(raw, len(frame), transposed=transposed),
        sheets=raw.sheets,
    )


def _total_rows(raw: _RawTable, loaded: int, *, transposed: bool) -> int | None:
    """The data rows of the whole file: those loaded unless the reader cut the file short."""
    if not raw.truncated:
        return loaded
    # A sideways table's rows are the file's columns, which were all read.
    return None if transposed else raw.total_rows


def _row_numbering(path: Path, raw: _RawTable) -> str:
    """What the row numbers of a table read the normal way round are, for the report."""
    if raw.sheet is not None:
        return (
            f"spreadsheet row numbers in sheet {raw.sheet!r} of {path.name} "
            f"(row {raw.header_number} is the header)"
        )
    kind = "CSV line numbers" if path.suffix.lower() == ".csv" else "line numbers"
    return f"{kind} in {path.name} (line {raw.header_number} is the header)"


def _column_numbering(path: Path, raw: _RawTable, label_column: int) -> str:
    """What the row numbers of a sideways table are: the file's column numbers."""
    if raw.sheet is None:
        where, unit, labels = path.name, "file", f"column {label_column}"
    else:
        where, unit = f"sheet {raw.sheet!r} of {path.name}", "sheet"
        labels = f"column {label_column}, {_column_letter(label_column)},"
    return (
        f"column numbers in {where}: the table was read sideways, so each observation is "
        f"a column of the {unit} ({labels} holds the variable names)"
    )


def _json_safe(value: Any) -> str | float | int | bool | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def describe_columns(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Per column: name, dtype, nulls and up to 5 JSON-safe sample values (dates as ISO)."""
    described = []
    for name in frame.columns:
        column = frame[name]
        sample = [_json_safe(v) for v in column.dropna().head(5).tolist()]
        described.append(
            {
                "name": str(name),
                "dtype": str(column.dtype),
                "nulls": int(column.isna().sum()),
                "sample": sample,
            }
        )
    return described

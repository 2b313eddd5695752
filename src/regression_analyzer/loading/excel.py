"""Reading one sheet of an Excel workbook (.xlsx/.xlsm through openpyxl, .xls through xlrd).

The header is the first row holding a value, each data row keeps its sheet row number, and
an .xlsx sheet is streamed row by row so that its width and cell count are refused before a
far-away stray cell costs gigabytes. Formula errors (#DIV/0! ...) read as missing.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.io.parsers import TextParser  # type: ignore[attr-defined]  # not in pandas-stubs

from ..errors import (
    ColumnNotFoundError,
    CorruptFileError,
    EmptyTableError,
    InputError,
    LimitExceededError,
)
from . import limits
from .cleaning import _PANDAS_NULL_MARKERS, NULL_MARKERS, _truncate_list
from .file_kind import FileKind
from .limits import _check_zip_bomb
from .tables import _RawTable

HEADER_SEARCH_ROWS = (16, 1000)  # Excel rows searched for the header, a few first
_GAP_BLOCK = 256  # cells of a row checked at once for being all empty
# What Excel shows in a cell whose formula failed; such cells read as missing.
_EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"}
    | {"#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#UNKNOWN!", "#BUSY!"}
)

_MISSING_TEXT = frozenset(NULL_MARKERS) | _PANDAS_NULL_MARKERS | _EXCEL_ERRORS


def _read_excel(
    path: Path, kind: FileKind, sheet: str | None, max_rows: int | None = None
) -> _RawTable:
    """One sheet of a workbook, its header found, with each data row's sheet row number."""
    if kind == "xlsx":
        _check_zip_bomb(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's style/validation chatter
            if kind == "xlsx":
                return _read_xlsx(path, sheet, max_rows)
            return _read_xls(path, sheet, max_rows)
    except InputError:
        raise
    except Exception as exc:  # openpyxl/xlrd raise many unrelated types for broken files
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CorruptFileError(f"{path.name}: cannot be read as .{kind} ({first[:120]})") from exc


def _choose_sheet(path: Path, names: list[str], sheet: str | None) -> str:
    """The sheet named by the user, else the first one."""
    if not names:
        raise EmptyTableError(f"{path.name}: the workbook has no sheets")
    if sheet is None:
        return names[0]
    if sheet in names:
        return sheet
    raise ColumnNotFoundError(
        f"{path.name}: no sheet named {sheet!r}; available: {_truncate_list(names)}"
    )


def _read_xls(path: Path, sheet: str | None, max_rows: int | None) -> _RawTable:
    """An old-style .xls sheet through pandas; the format itself caps it at 256 columns."""
    book = pd.ExcelFile(path, engine="xlrd")
    chosen = _choose_sheet(path, [str(name) for name in book.sheet_names], sheet)
    header_index = _xls_header_index(book, chosen)
    frame = book.parse(chosen, header=header_index, na_values=NULL_MARKERS, keep_default_na=True)
    if frame.shape[1] > limits.MAX_COLUMNS:
        raise LimitExceededError(
            f"{path.name} has {frame.shape[1]:,} columns in sheet {chosen!r}; "
            f"the limit is {limits.MAX_COLUMNS:,}"
        )
    raw = _sheet_table(frame, header_index, chosen)
    raw.sheets = [str(name) for name in book.sheet_names]
    valued = np.flatnonzero(frame.notna().any(axis=1).to_numpy())
    if max_rows is not None and len(valued) > max_rows:
        end = int(valued[max_rows - 1]) + 1
        raw.frame, raw.row_numbers = frame.iloc[:end], raw.row_numbers[:end]
        raw.truncated, raw.total_rows = True, len(valued)
    return raw


def _xls_header_index(book: pd.ExcelFile, sheet: str) -> int:
    """The 0-based sheet row of the header: the first row holding anything.

    pandas takes sheet row 1 as the header even when the table starts lower down, which
    turns the real header into a data row.
    """
    for rows in HEADER_SEARCH_ROWS:
        probe = book.parse(
            sheet, header=None, nrows=rows, na_values=NULL_MARKERS, keep_default_na=True
        )
        # pandas trims trailing empty rows, so an all-empty window reads as no rows at all
        # and says nothing about where the sheet ends: keep looking further down.
        filled = np.flatnonzero(probe.notna().any(axis=1).to_numpy())
        if len(filled):
            return int(filled[0])
    return 0


def _sheet_table(frame: pd.DataFrame, header_index: int, sheet: str) -> _RawTable:
    """A parsed sheet with the sheet row number of each of its data rows."""
    # Empty rows are kept (as all-missing rows) so data row i sits on sheet row header + 2 + i.
    first_row = header_index + 2
    numbers = np.arange(first_row, first_row + len(frame), dtype=np.int64)
    return _RawTable(frame, numbers, header_index + 1, sheet=sheet)


@dataclass
class _SheetRows:
    """A sheet's cells converted as pandas converts them, each row cut after its last value."""

    rows: list[list[Any]]  # from sheet row 1, only the kept ones
    width: int  # the last filled column over all rows, kept or not
    count: int  # rows up to the last one with a filled cell, kept or not
    valued: int  # with max_rows, rows holding a value (see _holds_value), kept or not


def _read_xlsx(path: Path, sheet: str | None, max_rows: int | None) -> _RawTable:
    """An .xlsx/.xlsm sheet streamed once through openpyxl, its width checked row by row.

    pandas' own reader pads every row to the widest row before anything can be checked, so
    one value in column XFD per row costs 16,384 cells a row: gigabytes from a small file.
    """
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    book = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        worksheets = book.worksheets
        names = [str(worksheet.title) for worksheet in worksheets]
        chosen = _choose_sheet(path, names, sheet)
        worksheet = worksheets[names.index(chosen)]
        # The declared <dimension> is whatever the file claims, often wrong, and openpyxl
        # would pad every row to its width: let each row be as long as its own last cell.
        worksheet.reset_dimensions()
        sheet_rows = _stream_rows(path, chosen, worksheet.iter_rows(values_only=True), max_rows)
    finally:
        book.close()
    _check_sheet_cells(path, chosen, sheet_rows)
    raw = _sheet_rows_table(sheet_rows, chosen, max_rows)
    raw.sheets = names
    return raw


def _stream_rows(
    path: Path, sheet: str, values: Iterable[Sequence[object]], max_rows: int | None
) -> _SheetRows:
    """The sheet's converted rows, refusing the first row that is too wide.

    With max_rows, rows are kept until max_rows rows past the header hold a value, but every
    row is still read, for its width and the row counts.
    """
    rows: list[list[Any]] = []
    width = count = valued = 0
    wanted: int | None = None  # with max_rows, rows with a value still to keep, once known
    for index, cells in enumerate(values):
        end = _filled_width(cells)
        if end > limits.MAX_COLUMNS:
            raise LimitExceededError(
                f"{path.name} has {end:,} columns in sheet {sheet!r}; the limit is "
                f"{limits.MAX_COLUMNS:,} (row {index + 1} has a value in column "
                f"{_column_letter(end)})"
            )
        if end:
            width, count = max(width, end), index + 1
        holds = max_rows is not None and end > 0 and _holds_value(cells[:end])
        valued += holds
        if wanted == 0:
            continue
        rows.append([_excel_value(cell) for cell in cells[:end]])
        if wanted is not None:
            wanted -= holds
        elif max_rows is not None and len(rows) in HEADER_SEARCH_ROWS:
            wanted = _still_wanted(rows, max_rows)
    # A sheet's formatting often runs on below its table: pandas drops trailing empty rows.
    del rows[count:]
    return _SheetRows(rows, width, count, valued)


def _still_wanted(rows: list[list[Any]], max_rows: int) -> int | None:
    """How many more rows with a value to keep, once the header is known among rows."""
    header_index = _first_filled_row(rows)
    if header_index is None and len(rows) < HEADER_SEARCH_ROWS[-1]:
        return None  # the header may still come
    kept = sum(map(_holds_value, rows[(header_index or 0) + 1 :]))
    return max(max_rows - kept, 0)


def _filled_width(cells: Sequence[object]) -> int:
    """The 1-based column of a row's last cell that is neither empty nor blank text, or 0."""
    end = len(cells)
    while end:
        start = max(end - _GAP_BLOCK, 0)
        block = cells[start:end]
        # openpyxl fills the gap before a far-right cell with None: a row reaching column XFD
        # holds 16,383 of them, skipped a block at a time at C speed.
        if block.count(None) == len(block):
            end = start
            continue
        for offset in range(len(block) - 1, -1, -1):
            cell = block[offset]
            if cell is not None and not (isinstance(cell, str) and (not cell or cell.isspace())):
                return start + offset + 1
        end = start
    return 0


def _excel_value(cell: object) -> object:
    """One cell as pandas' openpyxl reader hands it on (its _convert_cell)."""
    if cell is None:
        return ""
    if isinstance(cell, float):
        return int(cell) if cell.is_integer() else cell
    if isinstance(cell, str) and cell in _EXCEL_ERRORS:
        # Cells holding a formula error: pandas reads them as missing, and openpyxl's
        # values-only rows give the error's text without its type.
        return np.nan
    return cell


def _holds_value(cells: Sequence[object]) -> bool:
    """Whether a row, as read or converted, has a cell that loading keeps.

    Rows of only empty cells, blank text, null markers and formula errors are dropped as
    empty, so they do not count towards max_rows nor total_rows.
    """
    return not all(map(_is_missing, cells))


def _is_missing(cell: object) -> bool:
    """Whether one cell, as read or converted, loads as a missing value."""
    if cell is None:
        return True
    if isinstance(cell, str):
        return cell in _MISSING_TEXT or cell.isspace()
    return isinstance(cell, float) and math.isnan(cell)


def _first_filled_row(rows: list[list[Any]]) -> int | None:
    """The index of the first row holding a value pandas does not read as missing."""
    width = max((len(row) for row in rows), default=0)
    if width == 0:
        return None
    probe = _parse_rows([row + [""] * (width - len(row)) for row in rows], header=None)
    filled = np.flatnonzero(probe.notna().any(axis=1).to_numpy())
    return int(filled[0]) if len(filled) else None


def _header_index(rows: list[list[Any]]) -> int:
    """The 0-based sheet row of the header: the first row holding anything, else row 1.

    pandas takes sheet row 1 as the header even when the table starts lower down, which
    turns the real header into a data row.
    """
    for window in HEADER_SEARCH_ROWS:
        found = _first_filled_row(rows[:window])
        if found is not None:
            return found
    return 0


def _parse_rows(rows: list[list[Any]], header: int | None) -> pd.DataFrame:
    """Equal-length rows as a frame, typed as pandas types a sheet (ExcelFile.parse does this)."""
    if not rows:
        return pd.DataFrame()
    parser = TextParser(
        rows, header=header, na_values=NULL_MARKERS, keep_default_na=True, skip_blank_lines=False
    )
    try:
        frame: pd.DataFrame = parser.read()
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    return frame


def _check_sheet_cells(path: Path, sheet: str, sheet_rows: _SheetRows) -> None:
    cells = sheet_rows.count * sheet_rows.width
    if cells > limits.MAX_TABLE_CELLS:
        raise LimitExceededError(
            f"{path.name}: sheet {sheet!r} spans {sheet_rows.count:,} rows x "
            f"{sheet_rows.width:,} columns = {cells:,} cells; the limit is "
            f"{limits.MAX_TABLE_CELLS:,} cells (delete stray cells far below or right of the table)"
        )


def _sheet_rows_table(sheet_rows: _SheetRows, sheet: str, max_rows: int | None) -> _RawTable:
    """The table of a streamed sheet, saying so when max_rows left rows with values out."""
    rows = sheet_rows.rows
    header_index = _header_index(rows)
    total = 0
    if max_rows is not None:
        total = sheet_rows.valued - sum(map(_holds_value, rows[: header_index + 1]))
        _keep_values(rows, header_index, max_rows)
    for row in rows:
        row.extend([""] * (sheet_rows.width - len(row)))
    raw = _sheet_table(_parse_rows(rows, header_index), header_index, sheet)
    if max_rows is not None and total > max_rows:
        raw.truncated, raw.total_rows = True, total
    return raw


def _keep_values(rows: list[list[Any]], header_index: int, max_rows: int) -> None:
    """Cut rows after the max_rows-th row past the header that holds a value."""
    seen = 0
    for position in range(header_index + 1, len(rows)):
        seen += _holds_value(rows[position])
        if seen == max_rows:
            del rows[position + 1 :]
            return


def _column_letter(number: int) -> str:
    """A 1-based column number as the letters a spreadsheet shows (1 -> A, 28 -> AB)."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters

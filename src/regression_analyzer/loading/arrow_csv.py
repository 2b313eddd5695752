"""A plain CSV read by pyarrow's multi-threaded parser, to the frame pandas' C parser makes.

pyarrow parses on every core (on two cores a million rows take 0.59 s against pandas' 0.69 s),
but it differs where CSVs are not plain: it keeps spaces after a delimiter, infers dates, has
its own null markers, refuses blank lines in a table, keeps duplicate column names. So
`read_plain_csv` answers only when it can prove the result is the C engine's frame, and returns
None otherwise: the caller then reads the file as before. tests/loading/test_arrow_csv.py runs
tricky files through both readers and through load_table with and without pyarrow.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

# Types that convert to the dtypes pandas' C engine gives (int64, float64, bool, str).
_SAME_AS_PANDAS = {"int64", "double", "bool", "string", "large_string"}
_TEMPORAL_PREFIXES = ("date", "time", "timestamp", "duration")
_SPACE = (" ", "\t")


def read_plain_csv(
    path: Path,
    *,
    delimiter: str,
    encoding: str,
    header_line: int,
    null_markers: Iterable[str],
    sample: str,
) -> pd.DataFrame | None:
    """The table as pandas.read_csv(engine="c", skipinitialspace=True) reads it, or None.

    header_line: 0-based line of the header (lines before it are blank). sample: the file's
    first characters, for the checks that need no parsing.
    """
    if encoding != "utf-8" or header_line != 0:
        return None
    if any(f"{delimiter}{space}" in sample for space in _SPACE):
        return None  # skipinitialspace would strip these; pyarrow keeps them
    try:
        import pyarrow as pa  # type: ignore[import-untyped]  # no stubs
        import pyarrow.csv as pacsv  # type: ignore[import-untyped]
    except ImportError:  # an optional speed-up: without it, pandas' own parser reads
        return None
    markers = sorted(set(null_markers))
    try:
        table = _read(pacsv, path, delimiter, markers, {})
        temporal = [f.name for f in table.schema if str(f.type).startswith(_TEMPORAL_PREFIXES)]
        if temporal:
            # pandas leaves dates as text for the loader to parse; read those columns as text.
            table = _read(pacsv, path, delimiter, markers, dict.fromkeys(temporal, pa.string()))
    except (pa.ArrowException, OSError, UnicodeDecodeError):
        return None  # odd quoting, ragged or blank lines, bad bytes: pandas decides
    if table.num_rows == 0:
        return None  # pandas types the columns of a header-only file as text
    names = table.column_names
    if len(set(names)) != len(names) or any(_untidy(name) for name in names):
        return None  # pandas renames duplicates ("a.1") and blank names ("Unnamed: 0")
    schema = table.schema
    # A block per column, as pandas' parser makes, converted column by column with each
    # column's Arrow buffers freed as it goes (self_destruct).
    frame: pd.DataFrame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    # Hand the parser's buffers back to the system now, not at the allocator's leisure: the
    # stages that follow need that memory (a million rows peaked 200 MB higher without this).
    pa.default_memory_pool().release_unused()
    for field in schema:
        kind = str(field.type)
        column = frame[field.name]
        if kind == "null":
            # An all-empty column: pandas makes it float NaN.
            frame[field.name] = pd.Series(float("nan"), index=frame.index, dtype="float64")
        elif not _converted_as_pandas(kind, column):
            return None
    return frame


def _read(pacsv: Any, path: Path, delimiter: str, markers: list[str], types: dict[str, Any]) -> Any:
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(use_threads=True),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            quote_char='"',
            double_quote=True,
            escape_char=False,
            newlines_in_values=True,
            ignore_empty_lines=False,
        ),
        convert_options=pacsv.ConvertOptions(
            null_values=markers,
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            column_types=types,
            true_values=["True", "TRUE", "true"],
            false_values=["False", "FALSE", "false"],
        ),
    )


def _converted_as_pandas(kind: str, column: pd.Series) -> bool:
    """Whether pandas' C engine gives this column the same values and dtype."""
    if kind not in _SAME_AS_PANDAS:
        return False
    if kind == "bool":
        return not column.isna().any()  # pandas keeps True/False/NaN as objects
    if kind == "double":
        return not _beyond_int64(column)  # pyarrow makes such integers floats, pandas not
    if kind in ("string", "large_string"):
        return _text_as_pandas_reads_it(column)
    return True


def _beyond_int64(column: pd.Series) -> bool:
    largest = column.abs().max()
    return bool(largest >= 2.0**63)


def _untidy(name: str) -> bool:
    return not name or name != name.strip()


def _text_as_pandas_reads_it(column: pd.Series) -> bool:
    """False when pandas' C engine could have read this text column otherwise.

    It strips spaces around numbers and parses some spellings pyarrow does not ("+1", "1.",
    "Infinity"), so a column of text that pandas would see as numbers, or text with spaces
    at either end, is left to pandas.
    """
    values = column.dropna()
    if values.empty:
        return False
    if values.str.startswith(_SPACE).any() or values.str.endswith(_SPACE).any():
        return False
    try:
        pd.to_numeric(values)
    except (ValueError, TypeError):
        return True
    return False

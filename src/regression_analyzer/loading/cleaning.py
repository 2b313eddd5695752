"""Cleaning a parsed table's values: missing markers, column names, numbers, dates, empty rows.

What reads as missing (NULL_MARKERS and pandas' own), unique column names, text columns that
are numbers in any common format (decimal commas, thousands separators, spaces) or dates,
rows and columns with nothing in them, and infinities (read as missing).
"""

from __future__ import annotations

import contextlib
import math
import re
import warnings
from datetime import date, datetime

import numpy as np
import pandas as pd

NULL_MARKERS = ["", "NA", "N/A", "n/a", "na", "null", "NULL", "Null", "None", "none", "-", "?"]
NULL_MARKERS += ["#N/A", "nan", "NaN", "NAN", "#NA", "N.A.", "--"]

SAMPLE_VALUES = 2000  # values per column that decide a number format before full conversion

# pandas' own null markers, added to NULL_MARKERS by keep_default_na (pandas._libs.parsers
# STR_NA_VALUES, which has no type information).
_PANDAS_NULL_MARKERS = frozenset(
    {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN"}
    | {"<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
)

# What pandas' read_csv(na_values=NULL_MARKERS, keep_default_na=True) reads as missing.
_NULL_MARKERS_READ = frozenset(NULL_MARKERS) | _PANDAS_NULL_MARKERS

_SPACE_GROUP = re.compile(r"(?<=\d)[\s\u00a0\u202f](?=\d{3}(?:\D|$))")  # "1 234"
_PEEK = 64  # characters of a first value checked in plain Python before vectorised work
_NUMBER_CHARS = re.compile(r"[+\-\d.,\s\u00a0\u202f]+")  # all a number can hold
_US_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?$")
_EU_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)?(?:,\d+)?$")
_ISO_DATE = r"\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DMY_DATE = r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(?: \d{1,2}:\d{2}(?::\d{2})?)?"
_DATE_LIKE = re.compile(rf"^(?:{_ISO_DATE}|{_DMY_DATE}|\d{{4}}/\d{{1,2}}/\d{{1,2}})$")


def _clean_header(columns: pd.Index) -> list[str]:
    """Strip names, name unnamed columns column_N (1-based position), make names unique.

    A repeated name gets the first free suffix from _2 on (x, x_2, x_3, ...), never a name
    already taken, also by a column literally called x_2.
    """
    cleaned: list[str] = []
    seen: set[str] = set()
    next_suffix: dict[str, int] = {}
    for position, raw in enumerate(columns, start=1):
        name = unique = _header_name(raw, position)
        if unique in seen:
            # Every suffix below the last one handed out for this name is taken, so resuming
            # there gives the same names as searching from _2 without the quadratic cost.
            suffix = next_suffix.get(name, 2)
            while (unique := f"{name}_{suffix}") in seen:
                suffix += 1
            next_suffix[name] = suffix + 1
        seen.add(unique)
        cleaned.append(unique)
    return cleaned


def _header_name(raw: object, position: int) -> str:
    """One header cell as a column name; blank or pandas' Unnamed: N becomes column_N."""
    if isinstance(raw, datetime | date | pd.Timestamp):
        name = pd.Timestamp(raw).date().isoformat()
    elif isinstance(raw, float) and raw.is_integer():
        name = str(int(raw))
    else:
        name = str(raw).strip()
    if not name or name.startswith("Unnamed:") or name.lower() == "nan":
        return f"column_{position}"
    return name


def _as_text(series: pd.Series) -> pd.Series:
    """Non-null values as stripped strings, nulls kept as NaN."""
    mask = series.notna()
    text = series[mask].astype(str).str.strip()
    return text[text != ""]


def _to_number(series: pd.Series, delimiter: str | None) -> pd.Series | None:
    """A float version of a text column if every value is a number once normalised.

    Decides the format on a sample, then converts everything in a few vectorised passes:
    only values holding a group separator are checked against the full pattern, and any
    value that still fails to parse leaves the column as text rather than half-converted.
    """
    first = _first_text(series)
    if first is not None and not _may_be_number(first):
        return None
    text = _as_text(series)
    if text.empty:
        return None
    sample = text.head(SAMPLE_VALUES)
    if sample.str.contains(r"\s", regex=True).any():
        # Spaces (incl. no-break spaces) between digit groups are thousands separators: "1 234".
        text = text.str.replace(_SPACE_GROUP.pattern, "", regex=True)
        sample = text.head(SAMPLE_VALUES)
    us = bool(sample.str.match(_US_NUMBER).all())
    eu = bool(sample.str.match(_EU_NUMBER).all())
    if not (us or eu) or not sample.str.contains(r"\d", regex=True).all():
        return None
    # Both fit only when every separator is followed by exactly three digits ("1,234"):
    # a comma-delimited file then means thousands, a ;/tab one means decimal commas.
    modes = ["us", "eu"] if us and (not eu or delimiter == ",") else ["eu", "us"]
    for mode in modes if us and eu else modes[:1]:
        numbers = _parse_numbers(text, us_style=mode == "us")
        if numbers is not None:
            return numbers.reindex(series.index)
    return None


def _first_text(series: pd.Series, look: int = 64) -> str | None:
    """The first non-blank value among the first few, stripped and cut to _PEEK + 1 chars.

    Every vectorised string call costs a fixed ~0.1 ms in pandas, which on a wide table of
    a few rows is nearly all the work: one value in plain Python rejects most text columns.
    The cut keeps a huge cell from being held as a second copy while the column is checked.
    """
    for value in series.iloc[:look].tolist():
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            continue
        if text := str(value).strip():
            return text[: _PEEK + 1]
    return None


def _may_be_number(text: str) -> bool:
    """Whether one value may pass the sample checks of _to_number (which all values must).

    A value longer than _PEEK (cut by _first_text) is only checked for number characters,
    which every prefix of a number has; the full vectorised check decides the rest.
    """
    if not _NUMBER_CHARS.fullmatch(text[:_PEEK]):
        return False
    if len(text) > _PEEK:
        return True
    if not re.search(r"\d", text):
        return False
    text = _SPACE_GROUP.sub("", text)
    return bool(_US_NUMBER.match(text) or _EU_NUMBER.match(text))


def _parse_numbers(text: pd.Series, *, us_style: bool) -> pd.Series | None:
    group, pattern = (",", _US_NUMBER) if us_style else (".", _EU_NUMBER)
    grouped = text.str.contains(group, regex=False)
    if grouped.any() and not text[grouped].str.match(pattern).all():
        return None
    normal = text.str.replace(group, "", regex=False)
    if not us_style:
        normal = normal.str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(normal, errors="coerce")
    if numbers.isna().any():
        return None
    return numbers.astype(float)


def _to_dates(series: pd.Series) -> pd.Series | None:
    """A datetime version of an object column whose every value looks like and parses as a date."""
    first = _first_text(series)
    if first is not None and len(first) <= _PEEK and not _DATE_LIKE.match(first):
        return None
    text = _as_text(series)
    if text.empty or not text.head(SAMPLE_VALUES).str.match(_DATE_LIKE).all():
        return None
    if not text.str.match(_DATE_LIKE).all():
        return None
    iso = text.str.match(r"^\d{4}[-/]").all()
    leading = pd.to_numeric(text.str.extract(r"^(\d{1,2})[/.-]")[0], errors="coerce")
    dayfirst = bool((leading > 12).any())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # format inference notes are not the user's concern
        parsed = pd.to_datetime(
            text, format="ISO8601" if iso else "mixed", dayfirst=dayfirst, errors="coerce"
        )
    if parsed.isna().any():
        return None
    return parsed.reindex(series.index)


def _normalise_columns(frame: pd.DataFrame, delimiter: str | None) -> list[str]:
    """Convert numeric- and date-looking text columns in place; returns the numeric ones."""
    converted: list[str] = []
    for name in frame.columns:
        column = frame[name]
        if column.dtype != object and not isinstance(column.dtype, pd.StringDtype):
            continue  # already typed by the C parser: no per-cell work
        numbers = _to_number(column, delimiter)
        if numbers is not None:
            frame[name] = numbers
            converted.append(name)
            continue
        dates = _to_dates(column)
        if dates is not None:
            frame[name] = dates
    return converted


def _drop_empty(frame: pd.DataFrame, numbers: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Drop fully empty rows, then fully empty columns; numbers follow the kept rows.

    A row is empty when every cell is missing, or when it was a whitespace-only line: pandas
    puts such a line's tabs into the first cell once blank lines are kept as rows.
    """
    missing = frame.isna()
    empty = missing.all(axis=1).to_numpy()
    blank_text = _blank_text_rows(frame, missing)
    if blank_text is not None:
        empty = empty | blank_text
    if empty.any():
        frame = _restore_types(frame[~empty], first_was_blank=blank_text is not None)
        numbers = numbers[~empty]
        missing = missing[~empty]
    filled = ~missing.all(axis=0).to_numpy()
    if not filled.all():
        frame = frame.loc[:, filled]
    return frame.reset_index(drop=True), numbers


def _blank_text_rows(frame: pd.DataFrame, missing: pd.DataFrame) -> np.ndarray | None:
    """Rows whose only non-missing cell is whitespace in the first column, or None."""
    first = frame.iloc[:, 0]
    if first.dtype != object and not isinstance(first.dtype, pd.StringDtype):
        return None  # a typed column holds no whitespace: the common, free case
    candidates = first.notna().to_numpy()
    if frame.shape[1] > 1:
        candidates = candidates & missing.iloc[:, 1:].all(axis=1).to_numpy()
    if not candidates.any():
        return None
    blank = np.zeros(len(frame), dtype=bool)
    blank[candidates] = (first[candidates].astype(str).str.strip() == "").to_numpy()
    return blank if blank.any() else None


def _restore_types(frame: pd.DataFrame, *, first_was_blank: bool) -> pd.DataFrame:
    """Give columns that are complete again the type their empty rows took away.

    pandas types a column from all its cells, empty lines included: one missing cell makes
    whole numbers floats and True/False objects, and a whitespace line makes the first column
    text. Had pandas skipped those lines, as it used to, the types would be the narrow ones.
    """
    if frame.empty:
        return frame
    for position, name in enumerate(frame.columns):
        column = frame[name]
        if column.hasnans:
            continue
        if column.dtype == np.float64:
            values = column.to_numpy()
            whole = np.isfinite(values).all() and (values == np.trunc(values)).all()
            if whole and np.abs(values).max() < 2**53:
                frame[name] = values.astype(np.int64)
        elif column.dtype == object and pd.api.types.infer_dtype(column) == "boolean":
            frame[name] = column.astype(bool)
        elif position == 0 and first_was_blank:
            with contextlib.suppress(TypeError, ValueError):  # real text stays text
                frame[name] = pd.to_numeric(column)
    return frame


def _infinite_to_missing(frame: pd.DataFrame) -> str | None:
    """Replace ±inf in float columns by NaN in place; the warning that counts them, or None.

    "inf", "Infinity" or "1e999" in a file parse as infinite floats, which no fit can use.
    """
    counts: list[str] = []
    for name in frame.columns:
        column = frame[name]
        if not pd.api.types.is_float_dtype(column):
            continue
        # This runs on every table: plain float64 is viewed, not copied, and a finite sum
        # (one fast pass) rules out any infinity before the per-cell test.
        plain = column.dtype == np.float64
        values = column.to_numpy() if plain else column.to_numpy(dtype=float, na_value=np.nan)
        if np.isfinite(values.sum()):
            continue
        infinite = np.isinf(values)
        count = int(np.count_nonzero(infinite))
        if count:
            frame[name] = column.mask(infinite)
            counts.append(f"{name} ({count})")
    if not counts:
        return None
    return f"Infinite values read as missing: {_truncate_list(counts, limit=8)}."


def _truncate_list(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names) - limit} more)" if len(names) > limit else "")

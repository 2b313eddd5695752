"""Read a CSV or Excel table into a clean DataFrame.

Handles unknown encodings, delimiters, decimal commas, thousands separators, null markers,
sheets, sideways tables and bad files. Every failure is a typed errors.InputError.
"""

from __future__ import annotations

import codecs
import csv
import math
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from charset_normalizer import from_bytes

from .errors import (
    ColumnNotFoundError,
    CorruptFileError,
    EmptyTableError,
    InputError,
    UnsupportedFileError,
)

FileKind = Literal["csv", "xlsx", "xls"]

CSV_EXTENSIONS = {".csv", ".tsv", ".txt"}
XLSX_EXTENSIONS = {".xlsx", ".xlsm"}
XLS_EXTENSIONS = {".xls"}
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")

NULL_MARKERS = ["", "NA", "N/A", "n/a", "na", "null", "NULL", "Null", "None", "none", "-", "?"]
NULL_MARKERS += ["#N/A", "nan", "NaN", "NAN", "#NA", "N.A.", "--"]
DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024
SAMPLE_VALUES = 2000  # values per column that decide a number format before full conversion

# Zip-bomb limits, checked on the archive directory before anything is decompressed.
MAX_UNCOMPRESSED_BYTES = 500 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_MIN_BYTES = 10 * 1024 * 1024

_US_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?$")
_EU_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)?(?:,\d+)?$")
_ISO_DATE = r"\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DMY_DATE = r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(?: \d{1,2}:\d{2}(?::\d{2})?)?"
_DATE_LIKE = re.compile(rf"^(?:{_ISO_DATE}|{_DMY_DATE}|\d{{4}}/\d{{1,2}}/\d{{1,2}})$")
_OBSERVATION_LABEL = re.compile(
    r"^(?:[+-]?\d+(?:[.,]\d+)?|(?:19|20)\d{2}(?:[-/ ]?(?:q[1-4]|h[12]|m?\d{1,2}))?"
    r"|q[1-4](?:[-/ ]?\d{2,4})?|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
    rf"(?:[-/ ]?\d{{2,4}})?|{_ISO_DATE}|{_DMY_DATE})$",
    re.IGNORECASE,
)


@dataclass
class LoadedTable:
    """A loaded table and how it was read (reported in the report's source section)."""

    frame: pd.DataFrame
    kind: FileKind
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    transposed: bool = False
    transpose_reason: str = ""
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- file kind


def detect_file_kind(path: Path) -> FileKind:
    """The kind of a table file, checked by extension AND content.

    A missing or unsupported extension raises UnsupportedFileError (HTTP 415). A supported
    extension whose content is not that kind (a .csv of binary junk, an .xlsx that is not a
    zip, an .xls that is not OLE2) raises CorruptFileError (HTTP 422), consistently.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in CSV_EXTENSIONS | XLSX_EXTENSIONS | XLS_EXTENSIONS:
        shown = suffix or "no extension"
        raise UnsupportedFileError(
            f"{path.name}: unsupported file type ({shown}); "
            "use .csv, .tsv, .txt, .xlsx, .xlsm or .xls"
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise CorruptFileError(f"{path.name}: cannot be read ({exc.strerror})") from exc
    if suffix in XLSX_EXTENSIONS:
        if not head.startswith(ZIP_MAGIC):
            raise CorruptFileError(f"{path.name}: not a valid .xlsx workbook (not a zip archive)")
        return "xlsx"
    if suffix in XLS_EXTENSIONS:
        if not head.startswith(OLE2_MAGIC):
            raise CorruptFileError(f"{path.name}: not a valid .xls workbook (no OLE2 header)")
        return "xls"
    if _looks_binary(head):
        raise CorruptFileError(f"{path.name}: content is binary, not a text CSV table")
    return "csv"


def _has_utf16_bom(head: bytes) -> bool:
    return head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def _looks_binary(head: bytes) -> bool:
    """NUL bytes or many control characters mean binary (UTF-16 with a BOM is text)."""
    if _has_utf16_bom(head):
        return False
    if head.startswith((ZIP_MAGIC, OLE2_MAGIC)) or b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return bool(head) and controls / len(head) > 0.05


# ---------------------------------------------------------------------------- CSV


def _detect_encoding(path: Path) -> str:
    """BOMs first, then a strict UTF-8 try (fast, most files), then charset-normalizer."""
    with path.open("rb") as handle:
        head = handle.read(4 * SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if _has_utf16_bom(head):
        return "utf-16"
    if _decodes(path, "utf-8"):
        return "utf-8"
    # Only single-byte Western code pages are plausible once UTF-8 failed; restricting the
    # candidates stops charset-normalizer from picking exotic pages on short samples.
    best = from_bytes(head, cp_isolation=["cp1252", "latin_1"]).best()
    if best is not None and best.encoding == "cp1252" and _decodes(path, "cp1252"):
        return "cp1252"
    return "latin-1"  # decodes any byte string


def _decodes(path: Path, encoding: str, chunk: int = 8 * 1024 * 1024) -> bool:
    """Whether the whole file decodes strictly, streamed so big files never sit in memory."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as handle:
            while block := handle.read(chunk):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _sniff_delimiter(sample: str) -> str:
    """csv.Sniffer restricted to , ; tab |; falls back to the most consistent per-line count."""
    lines = [line for line in sample.splitlines() if line.strip()][:50]
    if not lines:
        return ","
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
        # A delimiter absent from the header is a decimal comma or similar noise.
        if sniffed in lines[0]:
            return sniffed
    except csv.Error:
        pass
    best, best_score = ",", 0.0
    for delim in DELIMITERS:
        counts = [line.count(delim) for line in lines]
        if counts[0] == 0:
            continue
        consistent = sum(1 for c in counts if c == counts[0]) / len(counts)
        score = consistent * counts[0]
        if score > best_score:
            best, best_score = delim, score
    return best


def _read_csv(path: Path) -> tuple[pd.DataFrame, str, str]:
    encoding = _detect_encoding(path)
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        sample = handle.read(SNIFF_BYTES)
    if not sample.strip():
        raise EmptyTableError(f"{path.name}: the file is empty")
    delimiter = _sniff_delimiter(sample)
    try:
        frame = pd.read_csv(
            path,
            sep=delimiter,
            encoding=encoding,
            na_values=NULL_MARKERS,
            keep_default_na=True,
            skipinitialspace=True,
            low_memory=False,
            engine="c",
        )
    except pd.errors.EmptyDataError as exc:
        raise EmptyTableError(f"{path.name}: the file is empty") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CorruptFileError(f"{path.name}: cannot be parsed as CSV ({first})") from exc
    return frame, encoding, delimiter


# ---------------------------------------------------------------------------- Excel


def _check_zip_bomb(path: Path) -> None:
    """Reject broken zips and decompression bombs before openpyxl inflates anything."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise CorruptFileError(f"{path.name}: not a valid .xlsx workbook (broken zip)") from exc
    total = sum(entry.file_size for entry in entries)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise CorruptFileError(
            f"{path.name}: workbook would expand to {total // 2**20} MB "
            f"(limit {MAX_UNCOMPRESSED_BYTES // 2**20} MB); refusing to open it"
        )
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size >= RATIO_CHECK_MIN_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise CorruptFileError(
                f"{path.name}: entry {entry.filename} compresses {ratio:.0f}:1 "
                f"(limit {MAX_COMPRESSION_RATIO}:1), a likely zip bomb; refusing to open it"
            )


def _read_excel(path: Path, kind: FileKind, sheet: str | None) -> tuple[pd.DataFrame, str]:
    if kind == "xlsx":
        _check_zip_bomb(path)
    engine = "openpyxl" if kind == "xlsx" else "xlrd"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's style/validation chatter
            book = pd.ExcelFile(path, engine=engine)
            names = [str(name) for name in book.sheet_names]
            if not names:
                raise EmptyTableError(f"{path.name}: the workbook has no sheets")
            if sheet is None:
                chosen = names[0]
            elif sheet in names:
                chosen = sheet
            else:
                raise ColumnNotFoundError(
                    f"{path.name}: no sheet named {sheet!r}; available: {_truncate_list(names)}"
                )
            frame = book.parse(chosen, na_values=NULL_MARKERS, keep_default_na=True)
    except (EmptyTableError, ColumnNotFoundError):
        raise
    except Exception as exc:  # openpyxl/xlrd raise many unrelated types for broken files
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CorruptFileError(f"{path.name}: cannot be read as .{kind} ({first[:120]})") from exc
    return frame, chosen


def _truncate_list(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names) - limit} more)" if len(names) > limit else "")


# ---------------------------------------------------------------------------- cleaning


def _clean_header(columns: pd.Index) -> list[str]:
    """Strip names, name unnamed columns column_N (1-based position), make names unique."""
    cleaned: list[str] = []
    seen: set[str] = set()
    for position, raw in enumerate(columns, start=1):
        if isinstance(raw, datetime | date | pd.Timestamp):
            name = pd.Timestamp(raw).date().isoformat()
        elif isinstance(raw, float) and raw.is_integer():
            name = str(int(raw))
        else:
            name = str(raw).strip()
        if not name or name.startswith("Unnamed:") or name.lower() == "nan":
            name = f"column_{position}"
        unique, suffix = name, 2
        while unique in seen:
            unique, suffix = f"{name}_{suffix}", suffix + 1
        seen.add(unique)
        cleaned.append(unique)
    return cleaned


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
    text = _as_text(series)
    if text.empty:
        return None
    sample = text.head(SAMPLE_VALUES)
    if sample.str.contains(r"\s", regex=True).any():
        # Spaces (incl. no-break spaces) between digit groups are thousands separators: "1 234".
        text = text.str.replace(r"(?<=\d)[\s\u00a0\u202f](?=\d{3}(?:\D|$))", "", regex=True)
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
    text = _as_text(series)
    if text.empty or not text.head(SAMPLE_VALUES).str.match(_DATE_LIKE).all():
        return None
    if not text.str.match(_DATE_LIKE).all():
        return None
    iso = text.str.match(r"^\d{4}[-/]").all()
    first = pd.to_numeric(text.str.extract(r"^(\d{1,2})[/.-]")[0], errors="coerce")
    dayfirst = bool((first > 12).any())
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


def _drop_empty(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.dropna(axis=0, how="all").dropna(axis=1, how="all")
    return frame.reset_index(drop=True)


# ---------------------------------------------------------------------------- sideways


def looks_sideways(frame: pd.DataFrame) -> tuple[bool, str]:
    """Whether a table has variables as rows and observations as columns, and why.

    Heuristic: sideways when (1) the first column holds distinct, non-numeric labels (the
    variable names, e.g. 'revenue', 'price'), (2) at least 80% of the other headers look like
    observation labels (numbers, years, dates, quarters or month names) and (3) there are at
    least two such header labels. A normal table's header holds names, so (2) fails.
    """
    if frame.shape[1] < 3 or frame.shape[0] < 1:
        return False, "not transposed: too few columns to be a sideways table"
    # Cheap checks first: a big table must not pay for stringifying its first column.
    first = frame.iloc[:, 0]
    if pd.api.types.is_numeric_dtype(first) or pd.api.types.is_datetime64_any_dtype(first):
        return False, "not transposed: the first column holds numbers or dates, not names"
    headers = [str(c) for c in frame.columns[1:]]
    observation_like = [h for h in headers if _OBSERVATION_LABEL.match(h.strip())]
    if len(observation_like) < 2 or len(observation_like) / len(headers) < 0.8:
        return False, "not transposed: the header row holds column names"
    labels = _as_text(first)
    if labels.empty or labels.duplicated().any() or len(labels) < first.notna().sum():
        return False, "not transposed: the first column does not hold distinct row labels"
    if pd.to_numeric(labels, errors="coerce").notna().mean() > 0.5:
        return False, "not transposed: the first column holds numbers, not variable names"
    shown_rows = ", ".join(labels.head(3).tolist())
    shown_cols = ", ".join(headers[:3])
    return True, (
        f"transposed: the first column holds variable names ({shown_rows}, …) and the header "
        f"row holds {len(observation_like)} observation labels ({shown_cols}, …)"
    )


def _transpose(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn a variables-as-rows table around; the old header becomes an 'observation' column."""
    body = frame.set_index(frame.columns[0])
    turned = body.T.reset_index()
    names = ["observation", *(str(v).strip() for v in body.index)]
    turned.columns = pd.Index(_clean_header(pd.Index(names)))
    return turned.infer_objects()


# ---------------------------------------------------------------------------- entry points


def load_table(
    path: Path, *, sheet: str | None = None, transpose: bool | None = None
) -> LoadedTable:
    """Load a CSV/TSV/TXT or Excel table.

    sheet picks an Excel sheet by name (first sheet by default; ignored for CSV). transpose
    None lets looks_sideways decide; True/False force it. Raises UnsupportedFileError,
    CorruptFileError, EmptyTableError or ColumnNotFoundError (unknown sheet).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found or not a regular file")
    kind = detect_file_kind(path)
    encoding = delimiter = chosen_sheet = None
    if kind == "csv":
        frame, encoding, delimiter = _read_csv(path)
    else:
        frame, chosen_sheet = _read_excel(path, kind, sheet)
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise EmptyTableError(f"{path.name}: no data rows (empty file or header only)")
    frame.columns = pd.Index(_clean_header(frame.columns))
    frame = _drop_empty(frame)
    if frame.empty:
        raise EmptyTableError(f"{path.name}: every value is missing")

    notes: list[str] = []
    if kind == "csv" and sheet is not None:
        notes.append(f"The sheet option ({sheet!r}) was ignored: CSV files have no sheets.")
    converted = _normalise_columns(frame, delimiter)
    if transpose is None:
        transposed, reason = looks_sideways(frame)
    elif transpose:
        transposed, reason = True, "transposed: requested by the user"
    else:
        transposed, reason = False, "not transposed: turned off by the user"
    if transposed:
        frame = _drop_empty(_transpose(frame))
        converted = _normalise_columns(frame, delimiter)
        notes.append(f"The table was read sideways and turned around ({reason}).")
    if converted:
        notes.append(
            "Text columns read as numbers (decimal commas, thousands separators or spaces): "
            + _truncate_list([str(c) for c in converted], limit=8)
        )
    if frame.empty or frame.shape[1] == 0:
        raise EmptyTableError(f"{path.name}: every value is missing")
    return LoadedTable(
        frame=frame,
        kind=kind,
        encoding=encoding,
        delimiter=delimiter,
        sheet=chosen_sheet,
        transposed=transposed,
        transpose_reason=reason,
        warnings=notes,
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


def describe_columns(frame: pd.DataFrame) -> list[dict]:
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

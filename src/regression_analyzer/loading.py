"""Read a CSV or Excel table into a clean DataFrame.

Handles unknown encodings, delimiters, decimal commas, thousands separators, null markers,
sheets, sideways tables and bad files. Every failure is a typed errors.InputError.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import math
import re
import warnings
import zipfile
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from charset_normalizer import from_bytes
from pandas.io.parsers import TextParser  # type: ignore[attr-defined]  # not in pandas-stubs

from .arrow_csv import read_plain_csv
from .errors import (
    ColumnNotFoundError,
    CorruptFileError,
    EmptyTableError,
    InputError,
    LimitExceededError,
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
SCAN_CHUNK_BYTES = 8 * 1024 * 1024  # whole-file passes stream in blocks of this size

# Cost-bomb limits, checked before pandas parses anything: a 256 KB header of repeated names
# or a 100 MB single line costs minutes or gigabytes to parse, far beyond its file size.
MAX_HEADER_BYTES = 1024 * 1024
MAX_COLUMNS = 2000  # at this width a table of a few rows still loads in about a second
# A table's rows x its width, empty rows included: what reading it materialises. Excel's own
# maximum is 1,048,576 rows; 50 million cells is that at 47 columns. A 2 KB file of a wide
# header and one value a million rows down would otherwise cost tens of gigabytes.
MAX_TABLE_CELLS = 50_000_000
HEADER_SEARCH_ROWS = (16, 1000)  # Excel rows searched for the header, a few first
_GAP_BLOCK = 256  # cells of a row checked at once for being all empty
# What Excel shows in a cell whose formula failed; such cells read as missing.
_EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"}
    | {"#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#UNKNOWN!", "#BUSY!"}
)
# pandas' own null markers, added to NULL_MARKERS by keep_default_na (pandas._libs.parsers
# STR_NA_VALUES, which has no type information).
_PANDAS_NULL_MARKERS = frozenset(
    {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN"}
    | {"<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
)

# Zip-bomb limits, checked on the archive directory before anything is decompressed.
MAX_UNCOMPRESSED_BYTES = 500 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_MIN_BYTES = 10 * 1024 * 1024

_MISSING_TEXT = frozenset(NULL_MARKERS) | _PANDAS_NULL_MARKERS | _EXCEL_ERRORS
# What pandas' read_csv(na_values=NULL_MARKERS, keep_default_na=True) reads as missing.
_NULL_MARKERS_READ = frozenset(NULL_MARKERS) | _PANDAS_NULL_MARKERS

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what both pandas and the csv module end lines on
_ASCII_COMPATIBLE = {"utf-8", "utf-8-sig", "cp1252", "latin-1"}  # a 0x0A byte is a newline

# Formats that get renamed to .csv/.xlsx by mistake: (magic at the start, what it is, advice).
# Naming the format beats a later "no usable columns" from parsing it as a table.
_ZIP = "a zip archive"
_SIGNATURES: tuple[tuple[re.Pattern[bytes], str, str], ...] = tuple(
    (re.compile(pattern), what, advice)
    for pattern, what, advice in (
        (rb"%PDF-", "a PDF document", ""),
        (rb"\x89PNG\r\n\x1a\n", "a PNG image", ""),
        (rb"\xff\xd8\xff", "a JPEG image", ""),
        (rb"GIF8[79]a", "a GIF image", ""),
        (rb"\x1f\x8b", "a gzip archive", "unpack it first"),
        (rb"BZh[1-9](?:1AY&SY|\x17rE8P\x90)", "a bzip2 archive", "unpack it first"),
        (rb"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "unpack it first"),
        (rb"\xfd7zXZ\x00", "an xz archive", "unpack it first"),
        (rb"Rar!\x1a\x07", "a RAR archive", "unpack it first"),
        (rb"PK(?:\x03\x04|\x05\x06|\x07\x08)", _ZIP, ""),
        (
            re.escape(OLE2_MAGIC),
            "an old-style Office file (an .xls workbook or a .doc document)",
            "if it is an Excel workbook, rename it to {stem}.xls",
        ),
        (rb"SQLite format 3\x00", "an SQLite database", "export the table as CSV"),
        (rb"\{\\rtf", "an RTF document", "save the table as CSV"),
        (rb"\x7fELF", "a Linux executable (ELF)", ""),
        (rb"(?s)MZ.{0,256}This program cannot be run in DOS mode", "a Windows executable", ""),
        (rb"\xcf\xfa\xed\xfe|\xce\xfa\xed\xfe|\xfe\xed\xfa[\xce\xcf]", "a macOS executable", ""),
        (
            rb"(?i)(?:\xef\xbb\xbf)?\s*<(?:!doctype\s+html|html)[\s>]",
            "an HTML web page",
            "save the table itself as CSV",
        ),
        (rb"(?i)(?:\xef\xbb\xbf)?\s*<\?xml\s", "an XML document", ""),
    )
)

_SPACE_GROUP = re.compile(r"(?<=\d)[\s\u00a0\u202f](?=\d{3}(?:\D|$))")  # "1 234"
_PEEK = 64  # characters of a first value checked in plain Python before vectorised work
_NUMBER_CHARS = re.compile(r"[+\-\d.,\s\u00a0\u202f]+")  # all a number can hold
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
    # Per row of frame, the row's number as the user finds it in the file (CSV line,
    # spreadsheet row, or file column for a sideways table); row_numbering says which.
    row_numbers: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    row_numbering: str = ""
    # Whether max_rows left rows of the file out, and the file's data rows holding a value
    # (None when not known: a CSV file or a sideways table that was cut).
    truncated: bool = False
    total_rows: int | None = None
    sheets: list[str] = field(default_factory=list)  # a workbook's sheet names, in order

    def __post_init__(self) -> None:
        # Tables built by hand (tests, fakes) get plain positions so the field stays aligned.
        if len(self.row_numbers) == 0 and len(self.frame) > 0:
            self.row_numbers = np.arange(1, len(self.frame) + 1, dtype=np.int64)
            self.row_numbering = self.row_numbering or "row positions in the loaded table"
        self.row_numbers = np.asarray(self.row_numbers, dtype=np.int64)


@dataclass
class _RawTable:
    """A parsed file before cleaning, with each row's number in the file."""

    frame: pd.DataFrame
    row_numbers: np.ndarray
    header_number: int  # the header's CSV line or spreadsheet row
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    truncated: bool = False  # the reader stopped after max_rows data rows
    total_rows: int | None = None  # then, the data rows holding a value, if known
    sheets: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- file kind


def detect_file_kind(path: Path) -> FileKind:
    """The kind of a table file, checked by extension AND content.

    A missing or unsupported extension raises UnsupportedFileError (HTTP 415). A supported
    extension whose content is not that kind (a .csv of binary junk, an .xlsx that is not a
    zip, an .xls that is not OLE2) raises CorruptFileError (HTTP 422), consistently; a
    recognised other format (a PDF, an image, an archive, a web page) is named in the message.
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
            _refuse_known_format(path, head, "an .xlsx workbook")
            raise CorruptFileError(f"{path.name}: not a valid .xlsx workbook (not a zip archive)")
        return "xlsx"
    if suffix in XLS_EXTENSIONS:
        if not head.startswith(OLE2_MAGIC):
            _refuse_known_format(path, head, "an .xls workbook")
            raise CorruptFileError(f"{path.name}: not a valid .xls workbook (no OLE2 header)")
        return "xls"
    _refuse_known_format(path, head, "a CSV table")
    if _looks_binary(head):
        raise CorruptFileError(f"{path.name}: content is binary, not a text CSV table")
    return "csv"


def _identify_format(head: bytes) -> tuple[str, str] | None:
    """(what the file is, advice with {stem} for its name) for a known non-CSV format."""
    for pattern, what, advice in _SIGNATURES:
        if not pattern.match(head):
            continue
        if what != _ZIP:
            return what, advice
        # Office files are zips whose first entries name their parts.
        if b"xl/" in head:
            return "an Excel workbook (.xlsx)", "rename it to {stem}.xlsx"
        if b"word/" in head:
            return "a Word document (.docx)", "save the table as CSV or .xlsx"
        return _ZIP, (
            "it may be an Excel .xlsx or Word .docx file saved under the wrong name: "
            "give it its right extension"
        )
    return None


def _refuse_known_format(path: Path, head: bytes, expected: str) -> None:
    """Raise CorruptFileError naming the format when head is a known non-table format."""
    known = _identify_format(head)
    if known is None:
        return
    what, advice = known
    message = f"{path.name} is {what}, not {expected}"
    if advice:
        message += "; " + advice.format(stem=path.stem)
    raise CorruptFileError(message)


def _has_utf16_bom(head: bytes) -> bool:
    return head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when head is BOM-less UTF-16 text, else None.

    Text in the Latin range (digits, delimiters, newlines, most Western letters) is a NUL
    byte beside every character byte, so one byte position is mostly NUL and the other
    almost never. The decoded head must also be text, not control characters.
    """
    sample = head[: len(head) // 2 * 2]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
    for encoding, nuls, stray in (
        ("utf-16-le", odd_nuls, even_nuls),
        ("utf-16-be", even_nuls, odd_nuls),
    ):
        if nuls * 2 < pairs or stray * 50 > pairs:
            continue
        text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample)
        if _control_share(np.frombuffer(text.encode("utf-32-le"), dtype="<u4")) <= 0.05:
            return encoding
    return None


def _control_share(codes: np.ndarray) -> float:
    """The share of control characters, other than tab, newlines and form feed, in codes."""
    if len(codes) == 0:
        return 0.0
    controls = (codes < 32) & ~np.isin(codes, (9, 10, 12, 13))
    return float(np.count_nonzero(controls)) / len(codes)


def _looks_binary(head: bytes) -> bool:
    """NUL bytes or many control characters mean binary (UTF-16 text is not)."""
    if _has_utf16_bom(head) or _utf16_without_bom(head):
        return False
    if head.startswith((ZIP_MAGIC, OLE2_MAGIC)) or b"\x00" in head:
        return True
    return _control_share(np.frombuffer(head, dtype=np.uint8)) > 0.05


# ---------------------------------------------------------------------------- CSV


def _detect_encoding(path: Path) -> tuple[str, int | None]:
    """The file's encoding, and its line count when finding the encoding read it all.

    BOMs first, then BOM-less UTF-16, then a strict UTF-8 try (fast, most files), then
    charset-normalizer.
    """
    with path.open("rb") as handle:
        head = handle.read(4 * SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", None
    if _has_utf16_bom(head):
        return "utf-16", None
    if utf16 := _utf16_without_bom(head):
        return utf16, None
    if (lines := _scan(path, "utf-8")) is not None:
        return "utf-8", lines
    # Only single-byte Western code pages are plausible once UTF-8 failed; restricting the
    # candidates stops charset-normalizer from picking exotic pages on short samples.
    best = from_bytes(head, cp_isolation=["cp1252", "latin_1"]).best()
    cp1252 = best is not None and best.encoding == "cp1252"
    if cp1252 and (lines := _scan(path, "cp1252")) is not None:
        return "cp1252", lines
    return "latin-1", None  # decodes any byte string


def _scan(path: Path, encoding: str) -> int | None:
    """The file's physical line count if it decodes strictly, else None.

    Streamed so big files never sit in memory. Only line feeds are counted: a file whose
    lines end in a lone carriage return gets a short count, which merely sends it down the
    exact (slower) row numbering.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    ascii_compatible = encoding in _ASCII_COMPATIBLE
    lines, ends_with_newline = 0, True
    try:
        with path.open("rb") as handle:
            while block := handle.read(SCAN_CHUNK_BYTES):
                if not ascii_compatible:
                    text = decoder.decode(block)
                    lines += text.count("\n")
                    ends_with_newline = text.endswith("\n") if text else ends_with_newline
                    continue
                # ASCII is valid in these encodings, so a pure-ASCII block (the common case,
                # checked at memory speed) needs decoding only to finish a split character.
                if not block.isascii() or decoder.getstate()[0]:
                    decoder.decode(block)
                # numpy counts bytes several times faster than bytes.count.
                lines += int(np.count_nonzero(np.frombuffer(block, np.uint8) == 10))
                ends_with_newline = block.endswith(b"\n")
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return lines + (0 if ends_with_newline else 1)


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


def _find_header(path: Path, head: str) -> tuple[int, str]:
    """(blank lines before the header, the text from the header on) within the bounded head.

    Refuses a header line that does not end within MAX_HEADER_BYTES: pandas would hold the
    whole line, however long, and turn every field of it into a column.
    """
    start, line_number = 0, 1
    while True:
        end = _LINE_BREAK.search(head, start)
        line = head[start : end.start() if end else len(head)]
        if line.strip(" \t"):
            if end is None and len(head) > MAX_HEADER_BYTES:
                raise LimitExceededError(
                    f"line {line_number} of {path.name} is longer than "
                    f"{MAX_HEADER_BYTES / 2**20:g} MB; a table's header is not that long"
                )
            return line_number - 1, head[start:]
        if end is None:
            break
        start, line_number = end.end(), line_number + 1
    if len(head) <= MAX_HEADER_BYTES:
        raise EmptyTableError(f"{path.name}: the file is empty")
    raise LimitExceededError(
        f"{path.name} has no header within its first {MAX_HEADER_BYTES / 2**20:g} MB; "
        "a table's header is not that far down"
    )


def _check_width(path: Path, from_header: str, delimiter: str) -> int:
    """Refuse a header of more than MAX_COLUMNS fields before pandas builds the columns;
    the number of fields."""
    try:
        fields = len(next(csv.reader(io.StringIO(from_header), delimiter=delimiter)))
    except csv.Error:  # a field over the csv module's size limit: count separators
        fields = _LINE_BREAK.split(from_header, maxsplit=1)[0].count(delimiter) + 1
    if fields > MAX_COLUMNS:
        raise LimitExceededError(
            f"{path.name} has {fields:,} columns; the limit is {MAX_COLUMNS:,}"
        )
    return fields


def _check_padding(path: Path, fields: int, lines: int | None) -> None:
    """Refuse a CSV whose table would be mostly cells that are not in the file.

    pandas pads every short line to the header's width: 2,000 header fields over 20,000
    lines of "1" is 40 million cells from 50 KB. A real table has at least one byte per cell
    (its separator), so only a file far smaller than its cell count is refused.
    """
    if lines is None:
        return
    cells = fields * lines
    size = path.stat().st_size
    if cells > MAX_TABLE_CELLS and size < cells:
        raise LimitExceededError(
            f"{path.name}: {fields:,} header columns x {lines:,} lines = {cells:,} cells from "
            f"{size:,} bytes (most lines are far shorter than the header); the limit is "
            f"{MAX_TABLE_CELLS:,} cells for such a file"
        )


def _read_csv(path: Path, max_rows: int | None = None) -> _RawTable:
    """A CSV table from its header on; with max_rows, only that many data rows."""
    encoding, lines = _detect_encoding(path)
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        head = handle.read(MAX_HEADER_BYTES + 1)  # bounded even when the file has no newline
    if not head[:SNIFF_BYTES].strip():
        raise EmptyTableError(f"{path.name}: the file is empty")
    blank_lines, from_header = _find_header(path, head)
    delimiter = _sniff_delimiter(head[:SNIFF_BYTES])
    # Also with max_rows: a preview refuses what the analysis would refuse.
    _check_padding(path, _check_width(path, from_header, delimiter), lines)
    frame = None
    if max_rows is None and lines is not None:
        # pyarrow when the file is plain enough to give pandas' frame (see arrow_csv); a
        # preview reads few rows and keeps pandas' parser, which can stop early.
        frame = read_plain_csv(
            path,
            delimiter=delimiter,
            encoding=encoding,
            header_line=blank_lines,
            null_markers=_NULL_MARKERS_READ,
            sample=head[:SNIFF_BYTES],
        )
    if frame is None:
        frame = _read_csv_with_pandas(path, delimiter, encoding, blank_lines, max_rows)
    truncated = max_rows is not None and len(frame) > max_rows
    if truncated:
        frame = frame.iloc[:max_rows]
    elif lines is None:
        lines = _scan(path, encoding)
    numbers = _csv_line_numbers(
        path, encoding, delimiter, blank_lines, len(frame), lines, cut=truncated
    )
    return _RawTable(
        frame,
        numbers,
        blank_lines + 1,
        encoding=encoding,
        delimiter=delimiter,
        truncated=truncated,
    )


def _read_csv_with_pandas(
    path: Path, delimiter: str, encoding: str, blank_lines: int, max_rows: int | None
) -> pd.DataFrame:
    """pandas' C parser: every dialect the sniffer finds, and the errors users read."""
    try:
        return pd.read_csv(
            path,
            sep=delimiter,
            encoding=encoding,
            na_values=NULL_MARKERS,
            keep_default_na=True,
            skipinitialspace=True,
            # Blank lines stay as empty rows, so the row index maps to the file's records;
            # _drop_empty removes them afterwards.
            skip_blank_lines=False,
            header=blank_lines,
            low_memory=False,
            engine="c",
            # One row more than wanted tells whether the file goes on.
            nrows=None if max_rows is None else max_rows + 1,
        )
    except pd.errors.EmptyDataError as exc:
        raise EmptyTableError(f"{path.name}: the file is empty") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "out of memory" in first:
            # pandas' C tokenizer reports a failed allocation as a parse error; it is the
            # memory limit, not the file, and the caller says so.
            raise MemoryError(first) from exc
        raise CorruptFileError(f"{path.name}: cannot be parsed as CSV ({first})") from exc


def _csv_line_numbers(
    path: Path,
    encoding: str,
    delimiter: str,
    header_index: int,
    records: int,
    lines: int | None,
    *,
    cut: bool = False,
) -> np.ndarray:
    """The physical line on which each data record starts.

    When the file has exactly one line per record (no quoted newlines), record i is on line
    header + 1 + i, computed without reading the file again. Otherwise, or when the records
    are only the file's first ones (cut), the csv module, which splits records as pandas
    does, finds where each one starts.
    """
    first = header_index + 2
    if cut or lines != header_index + 1 + records:
        exact = _record_start_lines(
            path, encoding, delimiter, header_index, records, whole_file=not cut
        )
        if exact is not None:
            return exact
    return np.arange(first, first + records, dtype=np.int64)


def _record_start_lines(
    path: Path,
    encoding: str,
    delimiter: str,
    header_index: int,
    records: int,
    *,
    whole_file: bool = True,
) -> np.ndarray | None:
    """Start lines of the data records by the csv module; None if it splits them otherwise.

    Without whole_file, the records are the file's first ones and reading stops after them.
    """
    starts, consumed = array("q"), 0
    wanted = header_index + 1 + records
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, skipinitialspace=True)
        try:
            for _ in reader:
                starts.append(consumed + 1)
                consumed = reader.line_num
                if not whole_file and len(starts) == wanted:
                    break
        except csv.Error:  # e.g. a field over its size limit: fall back to positions
            return None
    data = np.frombuffer(starts, dtype=np.int64)[header_index + 1 :]
    return data.copy() if len(data) == records else None


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
    if frame.shape[1] > MAX_COLUMNS:
        raise LimitExceededError(
            f"{path.name} has {frame.shape[1]:,} columns in sheet {chosen!r}; "
            f"the limit is {MAX_COLUMNS:,}"
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
        if end > MAX_COLUMNS:
            raise LimitExceededError(
                f"{path.name} has {end:,} columns in sheet {sheet!r}; the limit is "
                f"{MAX_COLUMNS:,} (row {index + 1} has a value in column {_column_letter(end)})"
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
    if cells > MAX_TABLE_CELLS:
        raise LimitExceededError(
            f"{path.name}: sheet {sheet!r} spans {sheet_rows.count:,} rows x "
            f"{sheet_rows.width:,} columns = {cells:,} cells; the limit is "
            f"{MAX_TABLE_CELLS:,} cells (delete stray cells far below or right of the table)"
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


def _truncate_list(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names) - limit} more)" if len(names) > limit else "")


# ---------------------------------------------------------------------------- cleaning


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


def _turn_sideways(
    path: Path, frame: pd.DataFrame, file_columns: dict[str, int]
) -> tuple[pd.DataFrame, np.ndarray]:
    """The transposed table, and for each observation the file column it came from."""
    # Each row of the file becomes a column: refuse before paying for the turn.
    if len(frame) + 1 > MAX_COLUMNS:
        raise LimitExceededError(
            f"{path.name} read sideways has {len(frame) + 1:,} columns (one per row of "
            f"the file); the limit is {MAX_COLUMNS:,}"
        )
    observations = np.array([file_columns[c] for c in frame.columns[1:]], dtype=np.int64)
    return _drop_empty(_transpose(frame), observations)


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


def _column_letter(number: int) -> str:
    """A 1-based column number as the letters a spreadsheet shows (1 -> A, 28 -> AB)."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


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

"""Reading a CSV/TSV/TXT file: its encoding, delimiter and header, then the table.

The encoding comes from BOMs, a strict UTF-8 pass or charset-normalizer; the delimiter from
csv.Sniffer among , ; tab |; the header is the first non-blank line. A plain file is parsed
by pyarrow (arrow_csv), any other by pandas' C parser, and each record keeps the physical line
it starts on.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from array import array
from pathlib import Path

import numpy as np
import pandas as pd
from charset_normalizer import from_bytes

from ..errors import CorruptFileError, EmptyTableError, LimitExceededError
from . import limits
from .arrow_csv import read_plain_csv
from .cleaning import _NULL_MARKERS_READ, NULL_MARKERS
from .file_kind import SNIFF_BYTES, _has_utf16_bom, _utf16_without_bom
from .limits import _check_padding
from .tables import _RawTable

DELIMITERS = ",;\t|"
SCAN_CHUNK_BYTES = 8 * 1024 * 1024  # whole-file passes stream in blocks of this size

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what both pandas and the csv module end lines on
_ASCII_COMPATIBLE = {"utf-8", "utf-8-sig", "cp1252", "latin-1"}  # a 0x0A byte is a newline


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
            if end is None and len(head) > limits.MAX_HEADER_BYTES:
                raise LimitExceededError(
                    f"line {line_number} of {path.name} is longer than "
                    f"{limits.MAX_HEADER_BYTES / 2**20:g} MB; a table's header is not that long"
                )
            return line_number - 1, head[start:]
        if end is None:
            break
        start, line_number = end.end(), line_number + 1
    if len(head) <= limits.MAX_HEADER_BYTES:
        raise EmptyTableError(f"{path.name}: the file is empty")
    raise LimitExceededError(
        f"{path.name} has no header within its first {limits.MAX_HEADER_BYTES / 2**20:g} MB; "
        "a table's header is not that far down"
    )


def _check_width(path: Path, from_header: str, delimiter: str) -> int:
    """Refuse a header of more than MAX_COLUMNS fields before pandas builds the columns;
    the number of fields."""
    try:
        fields = len(next(csv.reader(io.StringIO(from_header), delimiter=delimiter)))
    except csv.Error:  # a field over the csv module's size limit: count separators
        fields = _LINE_BREAK.split(from_header, maxsplit=1)[0].count(delimiter) + 1
    if fields > limits.MAX_COLUMNS:
        raise LimitExceededError(
            f"{path.name} has {fields:,} columns; the limit is {limits.MAX_COLUMNS:,}"
        )
    return fields


def _read_csv(path: Path, max_rows: int | None = None) -> _RawTable:
    """A CSV table from its header on; with max_rows, only that many data rows."""
    encoding, lines = _detect_encoding(path)
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        head = handle.read(limits.MAX_HEADER_BYTES + 1)  # bounded even when the file has no newline
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

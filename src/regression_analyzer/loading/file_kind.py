"""Which kind of table file a path holds, by its extension AND its first bytes.

A file of another format renamed to .csv or .xlsx (a PDF, an image, an archive, a web page)
is refused naming that format; binary content in a .csv is refused; UTF-16 text is text.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Literal

import numpy as np

from ..errors import CorruptFileError, UnsupportedFileError

FileKind = Literal["csv", "xlsx", "xls"]

CSV_EXTENSIONS = {".csv", ".tsv", ".txt"}
XLSX_EXTENSIONS = {".xlsx", ".xlsm"}
XLS_EXTENSIONS = {".xls"}
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")

SNIFF_BYTES = 64 * 1024  # a file's head, read for its kind (csv_files: encoding, delimiter)

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

"""What a file may cost to load: the limits, and the refusals that need no parsing.

A small file can cost far more than its size once parsed: a 256 KB header of repeated
names, a 100 MB single line, a wide header over many short lines, a zip that inflates a
thousandfold. The readers (csv_files, excel, sideways) check these limits where they read,
as limits.NAME at call time, so that a test tightens a limit for every reader in one place.
Every refusal is a LimitExceededError or, for a zip bomb, a CorruptFileError.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..errors import CorruptFileError, LimitExceededError

# Cost-bomb limits, checked before pandas parses anything: a 256 KB header of repeated names
# or a 100 MB single line costs minutes or gigabytes to parse, far beyond its file size.
MAX_HEADER_BYTES = 1024 * 1024
MAX_COLUMNS = 2000  # at this width a table of a few rows still loads in about a second
# A table's rows x its width, empty rows included: what reading it materialises. Excel's own
# maximum is 1,048,576 rows; 50 million cells is that at 47 columns. A 2 KB file of a wide
# header and one value a million rows down would otherwise cost tens of gigabytes.
MAX_TABLE_CELLS = 50_000_000

# Zip-bomb limits, checked on the archive directory before anything is decompressed.
MAX_UNCOMPRESSED_BYTES = 500 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_MIN_BYTES = 10 * 1024 * 1024


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

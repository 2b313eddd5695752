"""Uploads: streamed to DATA_DIR with the size limit enforced while streaming, then checked.

Layout: ``DATA_DIR/uploads/<upload_id>/<sanitized name>`` and ``.../meta.json`` (UploadInfo).
pandas is only imported (lazily, in a thread) to build the preview.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
import unicodedata
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, cast

from anyio import to_thread
from python_multipart.multipart import MultipartParser, parse_options_header

from ..atomic_files import write_atomic
from ..errors import InputError, UnsupportedFileError
from .schemas import ColumnPreview, TablePreview, UploadInfo

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls"}
ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
PREVIEW_BYTES = 256 * 1024  # enough for a header and plenty of rows, cheap to parse
PREVIEW_ROWS = 10
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


class UploadTooLarge(Exception):
    """The body passed MAX_UPLOAD_MB; mapped to 413 at the edge."""


class UploadNotFound(Exception):
    """No upload with this id; mapped to 404."""


def sanitize_filename(raw: str) -> str:
    """A safe single path component: no directories, no dot-files, ASCII, at most 120 chars."""
    name = unicodedata.normalize("NFKC", raw).replace("\\", "/").split("/")[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = stem[:100] or "upload"
    return f"{stem}.{suffix[:10]}" if suffix else stem


def check_suffix(filename: str) -> None:
    """415 early (before any data is stored) for an extension we cannot read."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = suffix or "no extension"
        raise UnsupportedFileError(
            f"{filename}: unsupported file type ({shown}); "
            "use .csv, .tsv, .txt, .xlsx, .xlsm or .xls"
        )


class _StreamedFile:
    """Receives one multipart body; keeps the part named "file" on disk, hashing and counting."""

    def __init__(self, directory: Path, limit: int) -> None:
        self.directory = directory
        self.limit = limit
        self.size = 0
        self.sha = hashlib.sha256()
        self.filename: str | None = None
        self.path: Path | None = None
        self._handle: BinaryIO | None = None
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._in_file = False
        self.error: Exception | None = None

    # -- python-multipart callbacks (synchronous, called from parser.write) ----------------
    def on_part_begin(self) -> None:
        self._headers = {}
        self._in_file = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if options.get(b"name") != b"file" or self.path is not None:
            return  # other fields (and a second file) are ignored, never stored
        raw = options.get(b"filename")
        if raw is None:
            return
        self.filename = sanitize_filename(raw.decode("utf-8", "replace"))
        check_suffix(self.filename)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".incoming-")
        self.path = Path(tmp)
        self._handle = os.fdopen(fd, "wb")
        self._in_file = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_file or self._handle is None:
            return
        chunk = data[start:end]
        self.size += len(chunk)
        if self.size > self.limit:
            raise UploadTooLarge
        self.sha.update(chunk)
        self._handle.write(chunk)

    def on_part_end(self) -> None:
        if self._in_file and self._handle is not None:
            self._handle.close()
            self._handle = None
        self._in_file = False

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def _json_cell(value: Any) -> Any:
    """A preview cell as JSON: NaN -> null, numpy scalars -> Python, dates -> ISO text."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def build_preview(path: Path) -> TablePreview:
    """Columns, dtypes and first rows. Blocking: call in a thread. Raises InputError."""
    # Imported here: pandas must not load when the service starts (health stays light).
    from ..loading import describe_columns, detect_file_kind, load_table

    kind = detect_file_kind(path)
    sheets: list[str] = []
    truncated = False
    if kind == "csv":
        with path.open("rb") as handle:
            head = handle.read(PREVIEW_BYTES + 1)
        truncated = len(head) > PREVIEW_BYTES
        if truncated:
            # Cut at the last complete line so the preview never shows half a row.
            head = head[: head.rfind(b"\n", 0, PREVIEW_BYTES) + 1] or head[:PREVIEW_BYTES]
        with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
            sample = Path(tmp) / path.name
            sample.write_bytes(head)
            table = load_table(sample)
    else:
        import pandas as pd

        with pd.ExcelFile(path) as book:
            sheets = [str(name) for name in book.sheet_names]
        table = load_table(path)
    frame = table.frame
    rows = [
        {str(k): _json_cell(v) for k, v in record.items()}
        for record in frame.head(PREVIEW_ROWS).to_dict(orient="records")
    ]
    return TablePreview(
        columns=[ColumnPreview(**column) for column in describe_columns(frame)],
        rows=rows,
        rows_previewed=len(frame),
        truncated=truncated,
        transposed=table.transposed,
        kind=table.kind,
        sheet=table.sheet,
        sheets=sheets,
    )


class UploadStore:
    """Stored uploads on disk; the disk is the only state, so restarts lose nothing."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        root.mkdir(parents=True, exist_ok=True)

    def _dir(self, upload_id: str) -> Path:
        if not ID_PATTERN.match(upload_id):
            raise UploadNotFound(upload_id)
        return self.root / upload_id

    async def receive(self, content_type: str, body: AsyncIterator[bytes]) -> UploadInfo:
        """Stream a multipart body to disk, then check its kind and build the preview."""
        ctype, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if ctype != b"multipart/form-data" or not boundary:
            raise InputError("send the table as multipart/form-data with a part named 'file'")
        sink = _StreamedFile(self.root, self.max_bytes)
        callbacks = {
            name: getattr(sink, name)
            for name in (
                "on_part_begin",
                "on_header_field",
                "on_header_value",
                "on_header_end",
                "on_headers_finished",
                "on_part_data",
                "on_part_end",
            )
        }
        parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        try:
            async for chunk in body:
                parser.write(chunk)
            parser.finalize()
        except (UploadTooLarge, InputError):
            sink.discard()
            raise
        except Exception as exc:  # the multipart parser's own errors: a malformed body
            sink.discard()
            raise InputError("malformed multipart body") from exc
        if sink.path is None or sink.filename is None:
            raise InputError("no file: send the table in a multipart part named 'file'")
        if sink.size == 0:
            sink.discard()
            raise InputError(f"{sink.filename}: the file is empty")
        return await self._store(sink)

    async def _store(self, sink: _StreamedFile) -> UploadInfo:
        upload_id = uuid.uuid4().hex
        directory = self.root / upload_id
        directory.mkdir()
        assert sink.path is not None and sink.filename is not None
        final = directory / sink.filename
        os.replace(sink.path, final)
        try:
            preview = await to_thread.run_sync(build_preview, final)
        except InputError:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        except Exception as exc:
            shutil.rmtree(directory, ignore_errors=True)
            log.exception("preview failed for an upload")
            raise InputError(f"{sink.filename}: the table could not be read") from exc
        info = UploadInfo(
            upload_id=upload_id,
            filename=sink.filename,
            size=sink.size,
            sha256=sink.sha.hexdigest(),
            created_at=datetime.now(UTC),
            preview=preview,
        )
        write_atomic(directory / "meta.json", info.model_dump_json())
        return info

    def get(self, upload_id: str) -> UploadInfo:
        meta = self._dir(upload_id) / "meta.json"
        try:
            return UploadInfo.model_validate_json(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UploadNotFound(upload_id) from exc

    def path_of(self, info: UploadInfo) -> Path:
        return self.root / info.upload_id / info.filename

    def delete(self, upload_id: str) -> None:
        directory = self._dir(upload_id)
        if not (directory / "meta.json").exists():
            raise UploadNotFound(upload_id)
        # Rename first so a concurrent reader never sees a half-deleted upload.
        trash = self.root / f".deleted-{upload_id}-{uuid.uuid4().hex[:8]}"
        os.replace(directory, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def cleanup_older_than(self, cutoff: datetime) -> int:
        """Remove uploads created before cutoff and leftovers of aborted uploads."""
        removed = 0
        for entry in self.root.iterdir():
            try:
                mtime = datetime.fromtimestamp(entry.stat().st_mtime, UTC)
            except OSError:
                continue
            if entry.name.startswith(".") and mtime < cutoff:
                _remove(entry)
                continue
            if ID_PATTERN.match(entry.name) and mtime < cutoff:
                _remove(entry)
                removed += 1
        return removed

    def remove_stale_incoming(self) -> None:
        """At start: partial files of uploads interrupted by a crash are garbage."""
        for entry in self.root.glob(".incoming-*"):
            entry.unlink(missing_ok=True)
        for entry in self.root.glob(".deleted-*"):
            shutil.rmtree(entry, ignore_errors=True)


def _remove(entry: Path) -> None:
    if entry.is_dir():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def read_json(path: Path) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(path.read_text(encoding="utf-8")))

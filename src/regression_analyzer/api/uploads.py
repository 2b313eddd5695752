"""Uploads: streamed to DATA_DIR with the size limit enforced while streaming, then checked.

Layout: ``DATA_DIR/uploads/<upload_id>/<sanitized name>`` (upload_layout.py knows it) and
``.../meta.json`` (UploadInfo). The preview is built by a limited child process
(previews.PreviewRunner); this module never parses a table.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
import unicodedata
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, cast

from python_multipart.multipart import MultipartParser, parse_options_header

from ..atomic_files import write_atomic
from ..errors import InputError, UnsupportedFileError
from ..upload_layout import ID_PATTERN, UploadNotFound, stored_upload_path
from .previews import PreviewRunner
from .schemas import UploadInfo

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls"}
# Everything in the body but the file's bytes (part headers, other fields) is small in any
# real form; bounded so a body of many tiny parts cannot cost more than a real upload.
MAX_FORM_PARTS = 20
MAX_FORM_OVERHEAD_BYTES = 64 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


class UploadTooLarge(Exception):
    """The body passed MAX_UPLOAD_MB; mapped to 413 at the edge."""


class FormTooLarge(Exception):
    """Too many parts, or too many bytes outside the file part; mapped to 413."""


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
        self._parts = 0
        self._overhead = 0

    def _count_overhead(self, size: int) -> None:
        self._overhead += size
        if self._overhead > MAX_FORM_OVERHEAD_BYTES:
            raise FormTooLarge(
                f"the form's fields and part headers exceed {MAX_FORM_OVERHEAD_BYTES // 1024} KB"
                " (only the part named 'file' may be large)"
            )

    # -- python-multipart callbacks (synchronous, called from parser.write) ----------------
    def on_part_begin(self) -> None:
        self._headers = {}
        self._in_file = False
        self._parts += 1
        if self._parts > MAX_FORM_PARTS:
            raise FormTooLarge(f"the form has more than {MAX_FORM_PARTS} parts")

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_overhead(end - start)
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_overhead(end - start)
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
            self._count_overhead(end - start)  # other fields are read and dropped, but bounded
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


class UploadStore:
    """Stored uploads on disk; the disk is the only state, so restarts lose nothing."""

    def __init__(self, root: Path, max_bytes: int, previews: PreviewRunner) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.previews = previews
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
        except (UploadTooLarge, FormTooLarge, InputError, OSError):
            # OSError: the disk (full, read-only), not the client; the edge answers 507/500.
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
            preview = await self.previews.preview(final, sink.filename)
            info = UploadInfo(
                upload_id=upload_id,
                filename=sink.filename,
                size=sink.size,
                sha256=sink.sha.hexdigest(),
                created_at=datetime.now(UTC),
                preview=preview,
            )
            write_atomic(directory / "meta.json", info.model_dump_json())
        except BaseException:
            # Without meta.json the upload does not exist: leave nothing half-stored behind.
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return info

    def get(self, upload_id: str) -> UploadInfo:
        meta = self._dir(upload_id) / "meta.json"
        try:
            return UploadInfo.model_validate_json(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UploadNotFound(upload_id) from exc

    def path_of(self, info: UploadInfo) -> Path:
        return stored_upload_path(self.root, info.upload_id, info.filename)

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
            # Without meta.json the upload is still being received or previewed: not yet old.
            complete = (entry / "meta.json").exists()
            if ID_PATTERN.match(entry.name) and complete and mtime < cutoff:
                _remove(entry)
                removed += 1
        return removed

    def remove_stale_incoming(self, min_age_s: float = 0) -> None:
        """At start: partial files of uploads interrupted by a crash are garbage. With
        `min_age_s` (shared storage), only those older: another node may be receiving one."""
        cutoff = time.time() - min_age_s

        def stale(entry: Path) -> bool:
            try:
                return min_age_s <= 0 or entry.stat().st_mtime < cutoff
            except OSError:
                return False

        for entry in self.root.glob(".incoming-*"):
            if stale(entry):
                entry.unlink(missing_ok=True)
        for entry in self.root.iterdir():
            if ID_PATTERN.match(entry.name) and not (entry / "meta.json").exists() and stale(entry):
                _remove(entry)  # stored, but the preview never finished
        for entry in self.root.glob(".deleted-*"):
            if stale(entry):
                shutil.rmtree(entry, ignore_errors=True)


def _remove(entry: Path) -> None:
    if entry.is_dir():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def read_json(path: Path) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(path.read_text(encoding="utf-8")))

"""The one place where typed errors become HTTP statuses: install_error_handlers(app).

Every answer of an error is ``{"detail": ...}`` (schemas.ErrorResponse).
"""

from __future__ import annotations

import errno
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import InputError, UnsupportedFileError
from ..jobs.model import JobNotFound
from ..upload_layout import UploadNotFound
from .uploads import FormTooLarge, UploadTooLarge

log = logging.getLogger(__name__)
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """The one place where typed errors become HTTP statuses."""

    @app.exception_handler(UnsupportedFileError)
    async def _unsupported(_: Request, exc: UnsupportedFileError) -> JSONResponse:
        return _error(415, str(exc))

    @app.exception_handler(InputError)
    async def _input(_: Request, exc: InputError) -> JSONResponse:
        return _error(422, str(exc))

    @app.exception_handler(UploadTooLarge)
    async def _too_large(_: Request, __: UploadTooLarge) -> JSONResponse:
        limit = app.state.settings.max_upload_mb
        # Connection: close, because the rest of the body is not read.
        return _error(413, f"the file is larger than {limit:g} MB", {"Connection": "close"})

    @app.exception_handler(FormTooLarge)
    async def _form_too_large(_: Request, exc: FormTooLarge) -> JSONResponse:
        return _error(413, str(exc), {"Connection": "close"})

    @app.exception_handler(OSError)
    async def _storage(request: Request, exc: OSError) -> JSONResponse:
        if exc.errno in _DISK_FULL:
            log.error(
                "no space left to store %s %s: %s", request.method, request.url.path, exc.strerror
            )
            return _error(
                507,
                "the server's storage is full; nothing was stored. Try again later "
                "(the operator has been told in the log)",
            )
        log.error("storage error on %s %s", request.method, request.url.path, exc_info=exc)
        return _error(500, "internal error; it has been logged")

    if app.state.settings.shared_mode:
        from ..jobs.shared.engine import RETRY_AFTER_S, QueueUnavailable

        @app.exception_handler(QueueUnavailable)
        async def _engine_down(request: Request, exc: QueueUnavailable) -> JSONResponse:
            log.error("queue engine down on %s %s: %s", request.method, request.url.path, exc)
            return _error(
                503,
                "the job queue is unreachable, so analyses cannot be started or looked up "
                "right now; uploads are kept. Try again shortly",
                {"Retry-After": str(RETRY_AFTER_S)},
            )

    @app.exception_handler(UploadNotFound)
    async def _no_upload(_: Request, __: UploadNotFound) -> JSONResponse:
        return _error(404, "no upload with this id")

    @app.exception_handler(JobNotFound)
    async def _no_job(_: Request, __: JobNotFound) -> JSONResponse:
        return _error(404, "no analysis with this id")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's list of problems, minus the echoed input (it could be large or sensitive).
        problems = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": problems}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return _error(500, "internal error; it has been logged")

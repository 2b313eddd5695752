"""The FastAPI application: ``regression_analyzer.api.main:app``.

Nothing heavy is imported here (no pandas, statsmodels or matplotlib): health answers in
milliseconds and analyses import the pipeline inside their own worker processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..errors import InputError, UnsupportedFileError
from .body_limit import BodySizeLimitMiddleware
from .isolation import worker_context
from .jobs import JobNotFound, JobQueue, now, open_job_store
from .local_queue import LocalJobQueue
from .logs import RequestLogMiddleware, configure_logging
from .previews import PreviewRunner
from .ratelimit import RateLimiter, SlidingWindowLimiter
from .routes import charts, jobs, system, uploads
from .security_headers import SecurityHeadersMiddleware
from .settings import Settings, get_settings
from .uploads import FormTooLarge, UploadNotFound, UploadStore, UploadTooLarge

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
API_PREFIX = "/api/v1"
UPLOAD_PATH = f"{API_PREFIX}/upload"
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
# In shared mode another node may be receiving an upload right now: only leftovers older than
# this are a crashed node's.
SHARED_STALE_UPLOAD_S = 3600


async def _retention_loop(app: FastAPI, settings: Settings) -> None:
    """Every RETENTION_CHECK_S, remove uploads and finished jobs older than RETENTION_DAYS
    (in shared mode on one node per period: the queue decides whose turn it is)."""
    while True:
        try:
            if not await app.state.jobs.retention_turn():
                await asyncio.sleep(settings.retention_check_s)
                continue
            cutoff = now() - timedelta(days=settings.retention_days)
            gone_jobs = app.state.jobs.cleanup_older_than(cutoff)
            gone_uploads = app.state.uploads.cleanup_older_than(cutoff)
            # Every run is logged (hourly by default): in shared mode it says which node ran it.
            log.info("retention run: removed %d job(s), %d upload(s)", gone_jobs, gone_uploads)
        except Exception:
            log.exception("retention run failed; will retry")
        await asyncio.sleep(settings.retention_check_s)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.uploads.remove_stale_incoming(
        min_age_s=SHARED_STALE_UPLOAD_S if settings.shared_mode else 0
    )
    await app.state.jobs.start()
    retention = None
    if settings.retention_days > 0:
        retention = asyncio.create_task(_retention_loop(app, settings), name="retention")
    log.info(
        "regression-analyzer %s ready: data=%s output=%s workers=%d queue=%s",
        __version__,
        settings.data_dir,
        settings.output_dir,
        settings.workers,
        "shared" if settings.shared_mode else "local",
    )
    try:
        yield
    finally:
        if retention is not None:
            retention.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await retention
        await app.state.jobs.shutdown()
        log.info("shut down; unfinished jobs stay queued")


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
        from .queue_engine import RETRY_AFTER_S, QueueUnavailable

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


def _job_queue(settings: Settings) -> tuple[JobQueue, RateLimiter, RateLimiter]:
    """The job queue and the two rate limiters: in this process (local mode), or in the
    queue engine at QUEUE_URL (shared mode: redis and arq are imported only then)."""
    store = open_job_store(settings)
    if not settings.shared_mode:
        return (
            LocalJobQueue(
                store,
                workers=settings.workers,
                queue_max=settings.queue_max,
                timeout_s=settings.job_timeout_s,
                grace_s=settings.shutdown_grace_s,
                memory_mb=settings.worker_memory_mb,
                uploads_dir=settings.uploads_dir,
            ),
            SlidingWindowLimiter(settings.rate_limit),
            SlidingWindowLimiter(settings.upload_rate_limit),
        )
    from .ratelimit import SharedRateLimiter
    from .shared_queue import SharedJobQueue, SharedJobStore

    assert isinstance(store, SharedJobStore)
    queue = SharedJobQueue(
        store,
        workers=settings.workers,
        queue_max=settings.queue_max,
        timeout_s=settings.job_timeout_s,
        grace_s=settings.shutdown_grace_s,
        memory_mb=settings.worker_memory_mb,
        lease_s=settings.queue_lease_s,
        retention_check_s=settings.retention_check_s,
        uploads_dir=settings.uploads_dir,
    )
    return (
        queue,
        SharedRateLimiter(store.engine, "analyses", settings.rate_limit),
        SharedRateLimiter(store.engine, "uploads", settings.upload_rate_limit),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application from settings (the environment by default)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format, settings.log_vendor_sdks)
    app = FastAPI(
        title="regression-analyzer",
        version=__version__,
        summary="Upload a table, run a regression analysis, read the report and charts.",
        lifespan=lifespan,
        # Swagger UI loads its assets from a CDN, which the page's policy forbids: opt-in.
        docs_url="/docs" if settings.api_docs else None,
        redoc_url="/redoc" if settings.api_docs else None,
    )
    app.state.settings = settings
    app.state.api_token = settings.api_token()
    previews = PreviewRunner(
        worker_context(),
        memory_mb=settings.worker_memory_mb,
        timeout_s=settings.preview_timeout_s,
        concurrency=settings.workers,
    )
    app.state.uploads = UploadStore(settings.uploads_dir, settings.max_upload_bytes, previews)
    app.state.jobs, app.state.limiter, app.state.upload_limiter = _job_queue(settings)

    for router in (system.router, uploads.router, jobs.router, charts.router):
        app.include_router(router, prefix=API_PREFIX)
    install_error_handlers(app)

    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        )
    app.add_middleware(
        BodySizeLimitMiddleware,
        limit=settings.max_body_bytes,
        exempt_paths=frozenset({UPLOAD_PATH}),
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestLogMiddleware)  # last added = outermost: it logs every answer

    # The page holds no data (everything comes from the API with the token), so it is public.
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    return app


app = create_app()

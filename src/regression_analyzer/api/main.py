"""The FastAPI application: ``regression_analyzer.api.main:app``.

create_app builds it from the settings: the metrics (regression_analyzer.metrics), the upload
store, the job queue (regression_analyzer.jobs) and the rate limiters, the routes, the error
handlers (errors.py), the middlewares (middleware/) and the web page; the lifespan starts and
stops the job queue and retention.

Nothing heavy is imported here (no pandas, statsmodels or matplotlib): health answers in
milliseconds and analyses import the pipeline inside their own processes (jobs/child.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import get_args

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..jobs.isolation import worker_context
from ..jobs.queue import JobQueue
from ..jobs.retention import retention_loop
from ..jobs.service import open_job_queue
from ..jobs.wiring import queue_engine_of
from ..logs import configure_logging
from ..metrics.scrape import Limits, ServiceState
from ..metrics.service import ServiceMetrics
from ..settings import Settings, get_settings
from .deps import RATE_LIMITS
from .errors import install_error_handlers
from .middleware.body_limit import BodySizeLimitMiddleware
from .middleware.metrics import RequestMetricsMiddleware
from .middleware.request_log import RequestLogMiddleware
from .middleware.security_headers import SecurityHeadersMiddleware
from .previews import PreviewRefusal, PreviewRunner
from .ratelimit import open_rate_limiter
from .routes import charts, jobs, metrics, system, uploads
from .uploads import UploadStore

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
API_PREFIX = "/api/v1"
UPLOAD_PATH = f"{API_PREFIX}/upload"
# In shared mode another node may be receiving an upload right now: only leftovers older than
# this are a crashed node's.
SHARED_STALE_UPLOAD_S = 3600


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.uploads.remove_stale_incoming(
        min_age_s=SHARED_STALE_UPLOAD_S if settings.shared_mode else 0
    )
    await app.state.jobs.start()
    retention = None
    if settings.retention_days > 0:
        retention = asyncio.create_task(
            retention_loop(app.state.jobs, app.state.uploads, settings), name="retention"
        )
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


def watch_state(service_metrics: ServiceMetrics, queue: JobQueue, settings: Settings) -> None:
    """Add what is read at each scrape: the queue's depth (all nodes), free space, limits."""
    ServiceState(
        queue.depth,
        {"data": settings.data_dir, "output": settings.output_dir},
        Limits(settings.queue_max, settings.workers, settings.ready_min_free_mb),
    ).register(service_metrics.registry)


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
    app.state.metrics = service_metrics = ServiceMetrics(get_args(PreviewRefusal), RATE_LIMITS)
    previews = PreviewRunner(
        worker_context(),
        memory_mb=settings.worker_memory_mb,
        timeout_s=settings.preview_timeout_s,
        concurrency=settings.workers,
        on_refused=service_metrics.count_refused_preview,
    )
    app.state.uploads = UploadStore(settings.uploads_dir, settings.max_upload_bytes, previews)
    app.state.jobs = open_job_queue(settings, events=service_metrics)
    watch_state(service_metrics, app.state.jobs, settings)
    # In shared mode the rate limits count in the queue engine, for all nodes.
    engine = queue_engine_of(settings, app.state.jobs.store)
    app.state.limiter = open_rate_limiter(engine, "analyses", settings.rate_limit)
    app.state.upload_limiter = open_rate_limiter(engine, "uploads", settings.upload_rate_limit)

    for router in (system.router, uploads.router, jobs.router, charts.router):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(metrics.router)  # /metrics, where Prometheus looks by default
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
    app.add_middleware(RequestMetricsMiddleware, metrics=service_metrics, routes=app.router.routes)
    app.add_middleware(RequestLogMiddleware)  # last added = outermost: it logs every answer

    # The page holds no data (everything comes from the API with the token), so it is public.
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    return app


app = create_app()

"""Health, readiness and the configured LLM providers."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from ... import __version__
from ..deps import Credentials, Jobs, Settings_, require_token, token_accepted
from ..schemas import Health, ProviderInfo, Readiness, ReadinessSummary
from .common import errors

log = logging.getLogger(__name__)
router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health, summary="Liveness (no token needed)")
async def health() -> Health:
    """Answers at once; touches no disk and imports nothing heavy."""
    return Health(status="ok", version=__version__)


def _free_mb(directory: Path) -> float:
    try:
        return round(shutil.disk_usage(directory).free / 2**20, 1)
    except OSError:
        return 0.0


def _writable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".ready-"):
            pass
        return os.access(directory, os.W_OK)
    except OSError:
        return False


@router.get(
    "/ready",
    response_model=Readiness | ReadinessSummary,
    responses={503: {"model": Readiness, "description": "Not ready"}},
    summary="Readiness: storage writable with free space, workers alive, queue engine reachable",
)
async def ready(
    request: Request, settings: Settings_, jobs: Jobs, credentials: Credentials
) -> JSONResponse:
    """No token needed, so load balancers and Kubernetes probes can ask; the details (free
    space, queue lengths) only with the token."""
    engine = await jobs.engine_reachable()
    body = Readiness(
        ready=False,
        data_dir_writable=_writable(settings.data_dir),
        output_dir_writable=_writable(settings.output_dir),
        data_dir_free_mb=_free_mb(settings.data_dir),
        output_dir_free_mb=_free_mb(settings.output_dir),
        min_free_mb=settings.ready_min_free_mb,
        workers_alive=jobs.alive(),
        running=jobs.running,
        queued=jobs.queued if engine is not False else 0,
        queue="shared" if settings.shared_mode else "local",
        queue_engine_reachable=engine,
    )
    enough_space = min(body.data_dir_free_mb, body.output_dir_free_mb) >= body.min_free_mb
    body.ready = (
        body.data_dir_writable
        and body.output_dir_writable
        and enough_space
        and body.workers_alive
        and engine is not False
    )
    if not enough_space:
        log.warning(
            "not ready: %.1f MB free in DATA_DIR, %.1f MB in OUTPUT_DIR (READY_MIN_FREE_MB=%g)",
            body.data_dir_free_mb,
            body.output_dir_free_mb,
            body.min_free_mb,
        )
    shown = body if token_accepted(request, credentials) else ReadinessSummary(ready=body.ready)
    return JSONResponse(shown.model_dump(), status_code=200 if body.ready else 503)


@router.get(
    "/providers",
    response_model=list[ProviderInfo],
    responses=errors(401),
    dependencies=[Depends(require_token)],
    summary="Which LLM providers have a key (never the key)",
)
async def providers() -> list[ProviderInfo]:
    from ...llm import configured_providers  # imported on demand: the SDKs are not light

    return [ProviderInfo(**p.model_dump()) for p in configured_providers()]

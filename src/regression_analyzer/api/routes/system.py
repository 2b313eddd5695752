"""Health, readiness and the configured LLM providers."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from ... import __version__
from ..deps import Jobs, Settings_, require_token
from ..schemas import Health, ProviderInfo, Readiness
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
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready"}, **errors(401)},
    dependencies=[Depends(require_token)],
    summary="Readiness: directories writable with free space, workers alive",
)
async def ready(settings: Settings_, jobs: Jobs) -> JSONResponse:
    body = Readiness(
        ready=False,
        data_dir_writable=_writable(settings.data_dir),
        output_dir_writable=_writable(settings.output_dir),
        data_dir_free_mb=_free_mb(settings.data_dir),
        output_dir_free_mb=_free_mb(settings.output_dir),
        min_free_mb=settings.ready_min_free_mb,
        workers_alive=jobs.alive(),
        running=jobs.running,
        queued=jobs.queued,
    )
    enough_space = min(body.data_dir_free_mb, body.output_dir_free_mb) >= body.min_free_mb
    body.ready = (
        body.data_dir_writable and body.output_dir_writable and enough_space and body.workers_alive
    )
    if not enough_space:
        log.warning(
            "not ready: %.1f MB free in DATA_DIR, %.1f MB in OUTPUT_DIR (READY_MIN_FREE_MB=%g)",
            body.data_dir_free_mb,
            body.output_dir_free_mb,
            body.min_free_mb,
        )
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)


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

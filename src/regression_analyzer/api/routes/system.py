"""Health, readiness and the configured LLM providers."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from ... import __version__
from ..deps import Jobs, Settings_, require_token
from ..schemas import Health, ProviderInfo, Readiness
from .common import errors

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health, summary="Liveness (no token needed)")
async def health() -> Health:
    """Answers at once; touches no disk and imports nothing heavy."""
    return Health(status="ok", version=__version__)


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
    summary="Readiness: directories writable, workers alive",
)
async def ready(settings: Settings_, jobs: Jobs) -> JSONResponse:
    body = Readiness(
        ready=False,
        data_dir_writable=_writable(settings.data_dir),
        output_dir_writable=_writable(settings.output_dir),
        workers_alive=jobs.alive(),
        running=jobs.running,
        queued=jobs.queued,
    )
    body.ready = body.data_dir_writable and body.output_dir_writable and body.workers_alive
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

"""GET /metrics: the service's metrics in Prometheus' text format, behind the API token like
every other route (docs/operations.md, "Metrics", says why not a port of its own)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from ..deps import Metrics, require_token
from .common import errors

router = APIRouter(tags=["system"], dependencies=[Depends(require_token)])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **errors(401),
    },
    summary="Metrics for Prometheus (text format)",
)
def metrics(service_metrics: Metrics) -> Response:
    """A plain (not async) function: FastAPI runs it in its thread pool, so the queue engine
    read in shared mode never holds up the event loop."""
    body, content_type = service_metrics.render()
    return Response(body, media_type=content_type)

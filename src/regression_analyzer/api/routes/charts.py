"""Chart PNGs of a job: listed from the report, served with ETag and Cache-Control."""

from __future__ import annotations

import hashlib
import re

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from ...jobs.store import JobStore
from ...stored_report import read_report
from ..deps import JobStoreDep, require_token
from ..schemas import ChartList
from .common import errors
from .jobs import chart_url

router = APIRouter(tags=["charts"], dependencies=[Depends(require_token)])

# A chart name is one plain file-name component; anything else is simply not found.
_CHART_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,150}\.png$")


def _charts(store: JobStore, job_id: str) -> list[str]:
    state = store.get(job_id)
    if state.status != "completed":
        return []
    try:
        text = (store.job_dir(job_id) / "report.json").read_text(encoding="utf-8")
        return list(read_report(text).charts)
    except (OSError, ValueError):
        return []


@router.get(
    "/charts/{job_id}",
    response_model=ChartList,
    responses=errors(401, 404),
    summary="The charts of a completed job",
)
async def list_charts(job_id: str, store: JobStoreDep) -> ChartList:
    names = _charts(store, job_id)
    return ChartList(job_id=job_id, charts=names, urls=[chart_url(job_id, n) for n in names])


@router.get(
    "/charts/{job_id}/{name}",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}},
        304: {"description": "Not modified (ETag matched)"},
        **errors(401, 404),
    },
    summary="One chart (PNG)",
)
async def get_chart(job_id: str, name: str, request: Request, store: JobStoreDep) -> Response:
    # Only names the report lists are served, so no path can leave the job directory.
    if not _CHART_NAME.match(name) or name not in _charts(store, job_id):
        raise HTTPException(status_code=404, detail="no such chart")
    path = store.job_dir(job_id) / name
    try:
        data = path.read_bytes()
    except OSError:
        raise HTTPException(status_code=404, detail="no such chart") from None
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    # Charts of a finished job never change: cache for a day, revalidate by ETag after.
    headers = {"ETag": etag, "Cache-Control": "private, max-age=86400"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="image/png", headers=headers)

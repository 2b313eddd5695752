"""Start an analysis, follow it, read its report."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import PlainTextResponse

from ...errors import ColumnNotFoundError
from ...jobs.model import JobState, QueueFull
from ...jobs.store import JobStore
from ...stored_report import ReportSchemaTooNew, read_report
from ..deps import (
    Jobs,
    JobStoreDep,
    Limiter,
    Metrics,
    Uploads,
    enforce_rate_limit,
    require_token,
)
from ..schemas import AnalyzeRequest, JobAccepted, JobResult, UploadInfo
from .common import errors

router = APIRouter(tags=["analyses"], dependencies=[Depends(require_token)])


def chart_url(job_id: str, name: str) -> str:
    return f"/api/v1/charts/{job_id}/{name}"


def _shown(names: list[str], limit: int = 10) -> str:
    more = len(names) - limit
    return ", ".join(names[:limit]) + (f" and {more} more" if more > 0 else "")


def validate_options(body: AnalyzeRequest, info: UploadInfo) -> None:
    """Cheap checks against the stored preview, so obvious mistakes get a 422 at once.

    Skipped where the preview cannot tell (another sheet, a forced orientation that differs
    from the preview's, a preview of the first rows only); the engine checks again and fails
    the job with its message.
    """
    preview = info.preview
    if body.sheet is not None and preview.kind != "csv" and body.sheet not in preview.sheets:
        raise ColumnNotFoundError(
            f"sheet {body.sheet!r} not found; sheets: {_shown(preview.sheets)}"
        )
    same_sheet = body.sheet is None or body.sheet == preview.sheet or preview.kind == "csv"
    same_layout = body.transpose is None or body.transpose == preview.transposed
    # A preview of the first rows drops columns empty in those rows; only a whole table
    # can say a column does not exist.
    if not (same_sheet and same_layout) or preview.truncated:
        return
    columns = [c.name for c in preview.columns]
    if body.target is not None and body.target not in columns:
        raise ColumnNotFoundError(
            f"target column {body.target!r} not found; columns: {_shown(columns)}"
        )
    missing = [f for f in body.features or [] if f not in columns]
    if missing:
        raise ColumnNotFoundError(
            f"feature column(s) not found: {_shown(missing)}; columns: {_shown(columns)}"
        )
    if body.target is not None and body.features and body.target in body.features:
        raise ColumnNotFoundError(f"the target {body.target!r} cannot also be a feature")


@router.post(
    "/analyze",
    response_model=JobAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors(401, 404, 413, 415, 422, 429, 503, 507),
    summary="Start an analysis of an upload",
)
async def analyze(
    body: AnalyzeRequest,
    request: Request,
    uploads: Uploads,
    jobs: Jobs,
    limiter: Limiter,
    metrics: Metrics,
) -> JobAccepted:
    enforce_rate_limit(
        limiter, "analyses", request, "too many analyses from this client; try again shortly"
    )
    info = uploads.get(body.upload_id)
    validate_options(body, info)
    try:
        state = await jobs.submit(
            info.upload_id,
            uploads.path_of(info),
            body.model_dump(exclude={"upload_id"}),
        )
    except QueueFull:
        metrics.count_rate_limited("queue")
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail="the analysis queue is full; try again shortly",
            headers={"Retry-After": str(jobs.retry_after_s())},
        ) from None
    return JobAccepted(
        job_id=state.job_id, status=state.status, results_url=f"/api/v1/results/{state.job_id}"
    )


def _result(state: JobState, store: JobStore) -> JobResult:
    result = JobResult(**state.model_dump(include=set(JobResult.model_fields)))
    if state.status == "completed":
        path = store.job_dir(state.job_id) / "report.json"
        try:
            report = read_report(path.read_text(encoding="utf-8"))
        except ReportSchemaTooNew as exc:
            # Written by a later release (this one was rolled back to): say so, not "unreadable".
            result.status = "failed"
            result.error = str(exc)
            return result
        except (OSError, ValueError):
            result.status = "failed"
            result.error = "The report of this analysis is missing or unreadable."
            return result
        result.report = report
        result.chart_urls = [chart_url(state.job_id, name) for name in report.charts]
        result.report_url = f"/api/v1/results/{state.job_id}/report"
    return result


@router.get(
    "/results/{job_id}",
    response_model=JobResult,
    responses=errors(401, 404),
    summary="Status, progress and (when completed) the report of a job",
)
async def results(job_id: str, store: JobStoreDep) -> JobResult:
    return _result(store.get(job_id), store)


@router.get(
    "/results/{job_id}/report",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/markdown": {"schema": {"type": "string"}}}},
        **errors(401, 404),
    },
    summary="The human-readable report (Markdown)",
)
async def report_markdown(job_id: str, store: JobStoreDep) -> PlainTextResponse:
    state = store.get(job_id)
    path = store.job_dir(job_id) / "report.md"
    if state.status != "completed" or not path.is_file():
        raise HTTPException(status_code=404, detail="no report yet: the job has not completed")
    return PlainTextResponse(
        path.read_text(encoding="utf-8"), media_type="text/markdown; charset=utf-8"
    )

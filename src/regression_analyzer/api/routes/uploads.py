"""Upload a table (streamed), look at it, delete it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status

from ..deps import Metrics, Settings_, UploadLimiter, Uploads, enforce_rate_limit, require_token
from ..schemas import UploadInfo
from ..uploads import UploadTooLarge
from .common import errors

router = APIRouter(tags=["uploads"], dependencies=[Depends(require_token)])

# The body is read from the raw stream (not a FastAPI File parameter), so it is described here.
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post(
    "/upload",
    response_model=UploadInfo,
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 401, 413, 415, 422, 429, 507),
    openapi_extra=_UPLOAD_BODY,
    summary="Upload a CSV or Excel table (multipart part 'file')",
)
async def upload(
    request: Request,
    uploads: Uploads,
    settings: Settings_,
    limiter: UploadLimiter,
    metrics: Metrics,
) -> UploadInfo:
    """Streamed to disk in chunks; 413 as soon as MAX_UPLOAD_MB is passed."""
    enforce_rate_limit(
        limiter,
        "uploads",
        request,
        "too many uploads from this client; try again shortly (UPLOAD_RATE_LIMIT)",
        close=True,  # the body is not read
    )
    declared = request.headers.get("content-length")
    # Multipart framing adds a little; a body far above the limit is refused before reading.
    if declared and declared.isdigit() and int(declared) > settings.max_upload_bytes + 64 * 1024:
        raise UploadTooLarge
    info = await uploads.receive(request.headers.get("content-type", ""), request.stream())
    metrics.count_upload(info.size)
    return info


@router.get(
    "/uploads/{upload_id}",
    response_model=UploadInfo,
    responses=errors(401, 404),
    summary="An upload's details and preview",
)
async def get_upload(upload_id: str, uploads: Uploads) -> UploadInfo:
    return uploads.get(upload_id)


@router.delete(
    "/uploads/{upload_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 404),
    summary="Delete an upload",
)
async def delete_upload(upload_id: str, uploads: Uploads) -> Response:
    uploads.delete(upload_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""FastAPI dependencies: the stores, the settings, the metrics and the bearer-token check."""

from __future__ import annotations

import secrets
from typing import Annotated, Literal, cast, get_args

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..jobs.queue import JobQueue
from ..jobs.store import JobStore
from ..metrics.service import ServiceMetrics
from ..settings import Settings
from .ratelimit import RateLimiter, retry_after_header
from .uploads import UploadStore

_bearer = HTTPBearer(auto_error=False, description="API_TOKEN, when the service has one")
# The limits a 429 can come from, as the metrics name them: RATE_LIMIT, UPLOAD_RATE_LIMIT, and
# QUEUE_MAX (a full queue).
RateLimitName = Literal["analyses", "uploads", "queue"]
RATE_LIMITS: tuple[RateLimitName, ...] = get_args(RateLimitName)


def get_settings_dep(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def get_uploads(request: Request) -> UploadStore:
    return cast(UploadStore, request.app.state.uploads)


def get_jobs(request: Request) -> JobQueue:
    return cast(JobQueue, request.app.state.jobs)


def get_job_store(request: Request) -> JobStore:
    return cast(JobStore, request.app.state.jobs.store)


def get_metrics(request: Request) -> ServiceMetrics:
    return cast(ServiceMetrics, request.app.state.metrics)


def get_limiter(request: Request) -> RateLimiter:
    return cast(RateLimiter, request.app.state.limiter)


def get_upload_limiter(request: Request) -> RateLimiter:
    return cast(RateLimiter, request.app.state.upload_limiter)


def client_key(request: Request) -> str:
    """Whom a rate limit counts: the TCP peer, or the address a trusted proxy forwarded
    (uvicorn rewrites the peer only for FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else "unknown"


def enforce_rate_limit(
    limiter: RateLimiter,
    name: RateLimitName,
    request: Request,
    detail: str,
    close: bool = False,
) -> None:
    """429 with Retry-After once this client has used up the limiter's allowance (counted
    as `name`); `close` when the request's body will not be read."""
    wait = limiter.hit(client_key(request))
    if wait is None:
        return
    get_metrics(request).count_rate_limited(name)
    headers = {"Retry-After": retry_after_header(wait)}
    if close:
        headers["Connection"] = "close"
    raise HTTPException(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS, detail=detail, headers=headers
    )


def token_accepted(request: Request, credentials: HTTPAuthorizationCredentials | None) -> bool:
    """True when the service has no API_TOKEN or the request carries it."""
    expected: str | None = request.app.state.api_token
    if expected is None:
        return True
    given = credentials.credentials if credentials is not None else ""
    # compare_digest: the time taken does not reveal how much of the token matched.
    return secrets.compare_digest(given.encode(), expected.encode())


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """When API_TOKEN is set, every route but health and readiness needs
    `Authorization: Bearer <token>`."""
    if not token_accepted(request, credentials):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="missing or wrong API token",
            headers={"WWW-Authenticate": "Bearer"},
        )


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
Settings_ = Annotated[Settings, Depends(get_settings_dep)]
Uploads = Annotated[UploadStore, Depends(get_uploads)]
Jobs = Annotated[JobQueue, Depends(get_jobs)]
JobStoreDep = Annotated[JobStore, Depends(get_job_store)]
Limiter = Annotated[RateLimiter, Depends(get_limiter)]
Metrics = Annotated[ServiceMetrics, Depends(get_metrics)]
UploadLimiter = Annotated[RateLimiter, Depends(get_upload_limiter)]

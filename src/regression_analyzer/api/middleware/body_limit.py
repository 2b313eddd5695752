"""A cap on request bodies, so a client cannot make the service hold megabytes of JSON.

Uploads have their own, larger limit (MAX_UPLOAD_MB, enforced while streaming to disk);
every other route takes a small JSON body at most (MAX_BODY_KB).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit // 1024} KB (MAX_BODY_KB)"


class BodySizeLimitMiddleware:
    """Pure ASGI: 413 at once for a declared Content-Length above the limit, and 413 as soon
    as a body without one (chunked) passes it, without reading the rest."""

    def __init__(self, app: ASGIApp, limit: int, exempt_paths: frozenset[str]) -> None:
        self.app = app
        self.limit = limit
        self.exempt_paths = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            response = JSONResponse(
                {"detail": _too_large(self.limit)},
                status_code=413,
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # FastAPI lets an HTTPException raised while reading the body through,
                    # so the app's handler answers it like any other 413.
                    raise HTTPException(413, _too_large(self.limit), {"Connection": "close"})
            return message

        await self.app(scope, limited_receive, send)

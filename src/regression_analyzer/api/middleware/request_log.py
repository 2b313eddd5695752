"""The access log: one line per request with a request id (X-Request-ID), method, path,
status and duration; the formatting (text or JSON) is regression_analyzer.logs'."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("regression_analyzer.api.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestLogMiddleware:
    """Pure ASGI (no body buffering, so streamed uploads stay streamed): assigns or echoes
    X-Request-ID and logs method, path, status and duration. Never logs headers or queries,
    so a bearer token cannot end up in the log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration = (time.perf_counter() - started) * 1000
            client = (scope.get("client") or ("-", 0))[0]
            access_log.info(
                "%s %s %s %.1fms id=%s",
                scope["method"],
                scope["path"],
                status,
                duration,
                request_id,
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(duration, 1),
                    "client": client,
                },
            )

"""Logging: one line per request with a request id, text or JSON (LOG_FORMAT)."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("regression_analyzer.api.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_EXTRA = ("request_id", "method", "path", "status", "duration_ms", "client")
# At DEBUG these log whole request bodies, which hold samples of the user's columns.
VENDOR_LOGGERS = ("anthropic", "openai", "httpx", "httpcore")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; request fields are top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _EXTRA:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def quiet_vendor_loggers(verbose: bool) -> None:
    """Keep the LLM SDKs and their HTTP stack at WARNING, unless LOG_VENDOR_SDKS asks."""
    for name in VENDOR_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)


def configure_logging(level: str, fmt: str, vendor_sdks: bool = False) -> None:
    """Root handler for the service; uvicorn's own access log is replaced by ours."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    quiet_vendor_loggers(vendor_sdks)


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

"""Logging of the service and its child processes: text or JSON lines (LOG_FORMAT), and the
LLM SDKs kept quiet. The one line per request is api/middleware/request_log.py's.

The service configures its logging in api/main.py (configure_logging); every child process
that runs a preview or an analysis calls configure_child_logging first, so that under
LOG_FORMAT=json each line any of them writes is JSON too: a child starts from a fresh
interpreter (forkserver or spawn) and would otherwise log in Python's default format.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# The request fields of request_log's lines: top-level keys of a JSON line.
_EXTRA = ("request_id", "method", "path", "status", "duration_ms", "client")
# At DEBUG these log whole request bodies, which hold samples of the user's columns.
VENDOR_LOGGERS = ("anthropic", "openai", "httpx", "httpcore")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
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
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # warnings.warn() of a library would print a bare two-line text to stderr: log it instead.
    logging.captureWarnings(True)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    quiet_vendor_loggers(vendor_sdks)


def configure_child_logging() -> None:
    """In a preview or analysis process: the service's level and format, read from the same
    settings (the environment the service was started with, which every child inherits)."""
    from .settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format, settings.log_vendor_sdks)

"""Describe SDK exceptions in one line. Both SDKs are Stainless-generated, so their exception
classes have the same shape; this works from attributes rather than vendor classes."""

from __future__ import annotations

from typing import Any

_RETRYABLE = {408, 409, 429}


def _error_fields(body: Any) -> tuple[str, str]:
    """(type, message) from an Anthropic or OpenAI error body."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            # OpenAI's "code" (rate_limit_exceeded) says more than its "type" (requests).
            kind = inner.get("code") or inner.get("type") or ""
            return str(kind), str(inner.get("message") or "").strip().rstrip(".")
    return "", ""


def describe_sdk_failure(exc: Exception, *, timeout_s: float, max_retries: int, sdk: Any) -> str:
    """One line for an exception raised by an official SDK (``sdk`` is the module)."""
    retries = f"after {max_retries} retr{'y' if max_retries == 1 else 'ies'}"
    if isinstance(exc, sdk.APITimeoutError):
        return f"request timed out (timeout {timeout_s:g} s, {retries})"
    if isinstance(exc, sdk.APIConnectionError):
        return f"could not connect to the API ({retries})"
    if isinstance(exc, sdk.APIStatusError):
        status = exc.status_code
        kind, message = _error_fields(exc.body)
        tail = f"; gave up {retries}" if status in _RETRYABLE or status >= 500 else ""
        label = f"HTTP {status}" + (f" {kind}" if kind else "")
        return f"{label}{': ' + message if message else ''}{tail}"
    if isinstance(exc, sdk.APIResponseValidationError):
        return "the API's response did not have the expected shape"
    if isinstance(exc, ValueError):  # e.g. a 200 response whose body is not JSON
        return f"the API's response could not be read ({type(exc).__name__})"
    return f"unexpected {type(exc).__name__}"

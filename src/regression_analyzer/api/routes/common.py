"""Shared OpenAPI response declarations, so every answer is in the schema."""

from __future__ import annotations

from typing import Any

from ..schemas import ErrorResponse


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for the given error statuses, all with ErrorResponse bodies."""
    text = {
        400: "Bad request",
        401: "Missing or wrong API token",
        404: "Not found",
        413: "Body larger than its limit (MAX_UPLOAD_MB for uploads, MAX_BODY_KB otherwise)",
        415: "Unsupported file type",
        422: "Invalid input (message says what to fix)",
        429: "Too many requests or queue full (see Retry-After)",
        503: "Not ready",
        507: "The server's storage is full; nothing was stored",
    }
    return {
        code: {"model": ErrorResponse, "description": text.get(code, "Error")} for code in codes
    }

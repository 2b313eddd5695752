"""Run the service under uvicorn (what `regression-analyzer serve` and the container call)."""

from __future__ import annotations

import uvicorn

from ..settings import get_settings
from .storage_dirs import check_storage_dirs


def run_server(host: str = "127.0.0.1", port: int | None = None) -> None:
    """Serve ``regression_analyzer.api.main:app``; port defaults to $PORT (8000).

    Invalid settings and unwritable storage folders raise ConfigurationError before the
    port is bound (the CLI turns it into one line and exit code 2).
    """
    settings = get_settings()
    check_storage_dirs(settings)
    trusted = settings.forwarded_allow_ips.strip()
    uvicorn.run(
        "regression_analyzer.api.main:app",
        host=host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,  # our middleware logs one line per request, with its id
        # A bit under SHUTDOWN_GRACE_S + Docker's margin: stop taking connections first.
        timeout_graceful_shutdown=int(settings.shutdown_grace_s) + 1,
        # X-Forwarded-For decides whom rate limits count, so only named proxies may set it
        # (uvicorn alone would believe any client on loopback).
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or "127.0.0.1",
    )


serve = run_server

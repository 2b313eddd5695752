"""What the request metrics cost per request, in microseconds, two ways:

1. the whole app (every middleware, the routes) called in-process through ASGI, with and
   without RequestMetricsMiddleware, for three kinds of request (a route without parameters,
   a route template with an id, an unmatched path);
2. the middleware alone around an app that answers at once (the routed request's scope as the
   router leaves it), against that app bare: the cost without the app's noise around it.

Rounds interleave the variants; the median of the rounds is shown. In-process, because over
loopback uvicorn's own parsing and the client's work are ~10x the difference and their noise
on a two-core machine hides it.

    .venv/bin/python benchmarks/metrics_cost.py [--requests 2000] [--rounds 41]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from typing import Any

# Settings for the app made below, before the app module reads them: quiet (the access log's
# formatting would dominate) and storage in a throw-away folder.
_ROOT = tempfile.mkdtemp(prefix="metrics-cost-")
os.environ.update(
    DATA_DIR=os.path.join(_ROOT, "data"),
    OUTPUT_DIR=os.path.join(_ROOT, "output"),
    LOG_LEVEL="WARNING",
    RATE_LIMIT="0",
    UPLOAD_RATE_LIMIT="0",
)
os.environ.pop("API_TOKEN", None)
os.environ.pop("API_TOKEN_FILE", None)

from fastapi import FastAPI  # noqa: E402

from regression_analyzer.api.main import create_app  # noqa: E402
from regression_analyzer.api.middleware.metrics import RequestMetricsMiddleware  # noqa: E402
from regression_analyzer.metrics.service import ServiceMetrics  # noqa: E402
from regression_analyzer.settings import Settings  # noqa: E402

PATHS = {
    "/api/v1/health": 200,
    "/api/v1/results/" + "0" * 32: 404,  # a template with an id (no such job)
    "/no/such/path": 404,  # unmatched
}


def make_app(instrumented: bool) -> FastAPI:
    """The service's app as create_app builds it, optionally without the request metrics."""
    app = create_app(Settings())
    if not instrumented:
        app.user_middleware = [
            m for m in app.user_middleware if m.cls is not RequestMetricsMiddleware
        ]
    return app


def scope_of(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }


def bare_app(routed: FastAPI) -> Any:
    """An ASGI app that leaves a routed request's scope (the page's route, "/") and answers
    200 with no body: what the middleware sees, without the work of a real app."""
    route = next(r for r in routed.router.routes if getattr(r, "path_format", "") == "/")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope["route"] = route
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


async def per_request_us(app: Any, path: str, expected: int, requests: int) -> float:
    """Mean microseconds per request of `requests` sequential calls."""
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    template = scope_of(path)
    started = time.perf_counter()
    for _ in range(requests):
        await app(dict(template), receive, send)
    elapsed = time.perf_counter() - started
    assert status == expected, (path, status)
    return elapsed / requests * 1e6


async def main(requests: int, rounds: int) -> None:
    apps = {True: make_app(True), False: make_app(False)}
    for app in apps.values():  # warm up: middleware stack, route index, label children
        for path, expected in PATHS.items():
            await per_request_us(app, path, expected, 200)
    results: dict[tuple[str, bool], list[float]] = {}
    for round_ in range(rounds):
        for path, expected in PATHS.items():
            # ABBA: each variant goes first every other round, against drift of the machine.
            order = list(apps.items()) if round_ % 2 == 0 else list(apps.items())[::-1]
            for instrumented, app in order:
                measured = await per_request_us(app, path, expected, requests)
                results.setdefault((path, instrumented), []).append(measured)
    print(f"{requests} requests x {rounds} rounds, median of rounds (microseconds per request)")
    print(f"{'the whole app, request':<52} {'without':>9} {'with':>9} {'added':>9}")
    for path in PATHS:
        show(f"GET {path}", results[(path, False)], results[(path, True)])
    bare = bare_app(apps[True])
    wrapped = RequestMetricsMiddleware(bare, ServiceMetrics(), apps[True].router.routes)
    alone: dict[bool, list[float]] = {False: [], True: []}
    for round_ in range(rounds):
        variants = ((False, bare), (True, wrapped))
        for instrumented, app in variants if round_ % 2 == 0 else variants[::-1]:
            alone[instrumented].append(await per_request_us(app, "/", 200, requests * 5))
    print(f"{'the middleware alone':<52}")
    show("an app that answers at once", alone[False], alone[True])


def show(name: str, without: list[float], with_: list[float]) -> None:
    """One line: the medians without and with the metrics, and the difference."""
    a, b = statistics.median(without), statistics.median(with_)
    print(f"{name:<52} {a:9.1f} {b:9.1f} {b - a:9.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=41)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.requests, arguments.rounds))

"""Request metrics: each answer counted by route TEMPLATE (``/api/v1/results/{job_id}``, never
the path a client sent, which holds ids), method and status, with its duration
(metrics.service.ServiceMetrics keeps them)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from fastapi import routing as fastapi_routing
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...metrics.service import ServiceMetrics

# Every request no route took (a 404 for a path, a refusal before routing such as a 413 for
# a declared length over MAX_BODY_KB, a redirect to add or drop a slash): one label value.
UNMATCHED = "unmatched"


class RouteTemplates:
    """Which template a routed request had. FastAPI's router leaves the route it took in
    scope["route"]; for a route of an included router that object knows only its path inside
    that router ("/results/{job_id}"), so the whole template is looked up by the object."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._routes = routes
        self._by_route: dict[int, str] | None = None
        self._mounts: list[tuple[str, str]] = []

    def _index(self) -> dict[int, str]:
        # Built at the first request: every route and mount exists by then.
        by_route: dict[int, str] = {}
        for context in fastapi_routing.iter_route_contexts(self._routes):
            template = context.path_format
            if template is None:
                continue
            if isinstance(context.original_route, Mount):
                self._mounts.append((context.original_route.path, template))
            by_route[id(context.original_route)] = template
        self._by_route = by_route
        return by_route

    def of(self, scope: Scope) -> str:
        """The template of the route this request took, or UNMATCHED."""
        by_route = self._by_route if self._by_route is not None else self._index()
        route = scope.get("route")
        if route is not None:
            return by_route.get(id(route)) or str(getattr(route, "path_format", UNMATCHED))
        if scope.get("endpoint") is not None:  # a mount (the static files) took it
            path = str(scope.get("path", ""))
            for prefix, template in self._mounts:
                if path.startswith(prefix + "/"):
                    return template
        return UNMATCHED


class RequestMetricsMiddleware:
    """Pure ASGI (no body buffering, so streamed uploads stay streamed)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, routes: Sequence[BaseRoute]):
        self.app = app
        self.metrics = metrics
        self.templates = RouteTemplates(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app fails before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self.metrics.observe_request(
                self.templates.of(scope), scope["method"], status, time.perf_counter() - started
            )

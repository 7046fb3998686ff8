"""Every API request timed and counted into :class:`~taxiway.observability.api_metrics.ApiMetrics`.

An ASGI middleware, the outermost of the app's own (:func:`taxiway.server.app.create_app`
adds it last), so what the guard answers itself (401, 413) is counted too. The route is
the template of the route that answered (``/v1/services/{service}``, as the router
leaves it in the scope); for an answer given before routing (the guard's), the first of
the API's path templates that matches the path; else ``unmatched``. The method is one of
HTTP's own or ``OTHER``. Neither lets a caller mint series. An exception that escapes
the app counts as a 500 and goes on up.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from starlette.routing import compile_path

from taxiway.observability import api_metrics
from taxiway.server import guard

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


class Templates:
    """The API's path templates, compiled once at first use (the routes are all in by then)."""

    def __init__(self, paths: Callable[[], Iterable[str]]) -> None:
        self._paths = paths
        self._compiled: list[tuple[re.Pattern[str], str]] | None = None

    def of(self, scope: guard.Scope) -> str:
        route = scope.get("route")
        path = getattr(route, "path", None)
        if isinstance(path, str):
            return path
        if self._compiled is None:
            self._compiled = [(compile_path(p)[0], p) for p in self._paths()]
        for pattern, template in self._compiled:
            if pattern.match(scope["path"]):
                return template
        return api_metrics.UNMATCHED


class RequestMetrics:
    def __init__(self, app: guard.App, metrics: api_metrics.ApiMetrics, templates: Templates) -> None:
        self._app = app
        self._metrics = metrics
        self._templates = templates

    async def __call__(self, scope: guard.Scope, receive: guard.Receive, send: guard.Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def sending(message: dict[str, Any] | Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, sending)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            seconds = time.perf_counter() - began
            self._metrics.requested(method, self._templates.of(scope), status, seconds)

"""``GET /metrics``: the control plane's own metrics for Prometheus, to a ``metrics`` token.

Included by :func:`taxiway.server.app.create_app`. The series are
:mod:`taxiway.observability.api_metrics`'s, in Prometheus's text format. A ``metrics``
token may read this and nothing else (an ``admin`` token may too); any other token is
answered 403, no token 401, both problem+json.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from taxiway.observability import api_metrics
from taxiway.server import auth, problems


class MetricsResponse(Response):
    media_type = api_metrics.CONTENT_TYPE


TEXT = {"schema": {"type": "string"}}


def router(metrics: api_metrics.ApiMetrics) -> APIRouter:
    routes = APIRouter()

    @routes.get(
        "/metrics",
        response_class=MetricsResponse,
        responses={
            200: {
                "description": "The metrics, Prometheus's text format 0.0.4",
                "content": {"text/plain": TEXT},
            },
            **problems.responses(403),
        },
    )
    def get_metrics(token: auth.Principal) -> Response:
        """The control plane's request, deploy and last-seen series (``metrics`` scope)."""
        auth.require_metrics(token)
        return MetricsResponse(metrics.exposition())

    return routes

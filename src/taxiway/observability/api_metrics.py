"""The control plane's own metrics, exposed at ``GET /metrics`` on its API (``metrics`` scope).

One :class:`ApiMetrics` per app (:func:`taxiway.server.app.create_app`), with a registry
of its own. The request middleware (:mod:`taxiway.server.request_metrics`) records each
request; when satellites and edges were last seen is read from the store at scrape time
through the callables it was built with, so it is what the store says, whichever
control-plane replica received the report.

Series (docs/metrics.md lists them with their meaning):

- ``taxiway_server_request_duration_seconds{method,route,code}`` histogram: ``route`` is
  the route's template (``/v1/services/{service}``), never the raw path, so a caller
  cannot mint series; a path no route matches is ``unmatched``;
- ``taxiway_server_deploys_total{outcome}``: desired-state changes
  (``PUT /v1/services/{service}/environments/{environment}``), ``deployed``,
  ``conflict`` (another change came first), ``refused`` (any other 4xx) or ``failed``;
- ``taxiway_server_satellite_last_seen_timestamp_seconds{region}`` and
  ``taxiway_server_edge_last_seen_timestamp_seconds{pop}``: the last report of each.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator, Mapping

import prometheus_client
from prometheus_client import exposition
from prometheus_client import registry as prometheus_registry
from prometheus_client.core import GaugeMetricFamily, Metric

from taxiway.plan.observability import names

CONTENT_TYPE = exposition.CONTENT_TYPE_PLAIN_0_0_4
REQUEST_BUCKETS = (*names.DURATION_BUCKETS, 30.0, 60.0)
"""The request buckets and the long polls' (which wait up to 30 s by design)."""
UNMATCHED = "unmatched"
DEPLOY_ROUTE = ("PUT", "/v1/services/{service}/environments/{environment}")

LastSeen = Callable[[], Mapping[str, datetime.datetime]]
"""Name (region, PoP) -> when it last reported."""


def deploy_outcome(code: int) -> str:
    if 200 <= code < 300:
        return "deployed"
    if code == 409:
        return "conflict"
    return "refused" if 400 <= code < 500 else "failed"


class _LastSeen:
    def __init__(self, satellites: LastSeen, edges: LastSeen) -> None:
        self._satellites = satellites
        self._edges = edges

    def describe(self) -> Iterator[Metric]:
        return iter(())  # unchecked: the regions and PoPs are known at scrape time

    def collect(self) -> Iterator[Metric]:
        for name, label, what, seen in (
            ("satellite", names.REGION, "each region's satellite", self._satellites),
            ("edge", names.POP, "each PoP's edge", self._edges),
        ):
            family = GaugeMetricFamily(
                f"taxiway_server_{name}_last_seen_timestamp_seconds",
                f"When {what} last reported to the control plane (epoch seconds).",
                labels=[label],
            )
            for key, at in sorted(seen().items()):
                family.add_metric([key], at.timestamp())
            yield family


class ApiMetrics:
    def __init__(self, satellites: LastSeen, edges: LastSeen) -> None:
        self.registry = prometheus_registry.CollectorRegistry()
        self.request_duration = prometheus_client.Histogram(
            "taxiway_server_request_duration_seconds",
            "API requests by method, route template and status code.",
            ["method", "route", "code"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.deploys = prometheus_client.Counter(
            "taxiway_server_deploys",
            "Desired-state changes asked of the API, by outcome (deployed, conflict, refused, failed).",
            ["outcome"],
            registry=self.registry,
        )
        self.registry.register(_LastSeen(satellites, edges))

    def requested(self, method: str, route: str, code: int, seconds: float) -> None:
        self.request_duration.labels(method, route, str(code)).observe(seconds)
        if (method, route) == DEPLOY_ROUTE:
            self.deploys.labels(deploy_outcome(code)).inc()

    def exposition(self) -> bytes:
        return prometheus_client.generate_latest(self.registry)

"""An edge's own metrics, served by its metrics listener (:mod:`taxiway.observability.metrics_listener`).

One :class:`EdgeMetrics` per edge, with a registry of its own (tests run several edges in
one process). What describes the present — the config version HAProxy serves, each
pool's health and measured RTT — is read at scrape time from the latest status the
controller built (:class:`~taxiway.wire.pop_status.PopStatus`, the very document the
control plane gets), so the two never disagree; the controller counts steering order
changes as it makes them. No series carries ``pop``: the global Prometheus adds it from
the scrape target. ``region`` here is a pool's region, as seen from this PoP.

Series (docs/metrics.md lists them with their meaning):

- ``taxiway_edge_config_version``: the version of the PoP config HAProxy serves (absent
  before the first);
- ``taxiway_edge_pool_up{service,region}``: 1 when the PoP's monitor finds the pool
  healthy, else 0;
- ``taxiway_edge_pool_rtt_seconds{service,region}``: the moving average of the monitor's
  check durations (absent until a check passed);
- ``taxiway_edge_steering_order_changes_total{service}``: each reorder of a service's
  pools (each one a reload of HAProxy).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import prometheus_client
from prometheus_client import exposition
from prometheus_client import registry as prometheus_registry
from prometheus_client.core import GaugeMetricFamily, Metric

from taxiway.plan.observability import names
from taxiway.wire import pop_status

CONTENT_TYPE = exposition.CONTENT_TYPE_PLAIN_0_0_4

Latest = Callable[[], Mapping[str, Any] | None]
"""The latest status body the controller built (``None`` before its first step)."""


class _Present:
    def __init__(self, latest: Latest) -> None:
        self._latest = latest

    def describe(self) -> Iterator[Metric]:
        return iter(())  # unchecked: services and pools are known at scrape time

    def collect(self) -> Iterator[Metric]:
        body = self._latest()
        status = pop_status.PopStatus.model_validate(body) if body is not None else None
        version = GaugeMetricFamily(
            "taxiway_edge_config_version", "The version of the PoP config HAProxy serves."
        )
        served = status.haproxy.get("config_version") if status is not None else None
        if isinstance(served, int) and not isinstance(served, bool):
            version.add_metric([], served)
        yield version
        labels = [names.SERVICE, names.REGION]
        up = GaugeMetricFamily(
            "taxiway_edge_pool_up", "1 when this PoP's monitor finds the pool healthy, else 0.", labels=labels
        )
        rtt = GaugeMetricFamily(
            "taxiway_edge_pool_rtt_seconds",
            "Moving average of this PoP's check durations of the pool.",
            labels=labels,
        )
        for service in status.services if status is not None else ():
            for pool in service.pools:
                up.add_metric([service.service, pool.region], 1.0 if pool.healthy else 0.0)
                if pool.rtt_ms is not None:
                    rtt.add_metric([service.service, pool.region], pool.rtt_ms / 1000.0)
        yield up
        yield rtt


class EdgeMetrics:
    def __init__(self, latest: Latest) -> None:
        self.registry = prometheus_registry.CollectorRegistry()
        self.order_changes = prometheus_client.Counter(
            "taxiway_edge_steering_order_changes",
            "Reorders of a service's pools by steering (each one a reload of HAProxy).",
            [names.SERVICE],
            registry=self.registry,
        )
        self.registry.register(_Present(latest))

    def reordered(self, service: str) -> None:
        self.order_changes.labels(service).inc()

    def exposition(self) -> bytes:
        return prometheus_client.generate_latest(self.registry)

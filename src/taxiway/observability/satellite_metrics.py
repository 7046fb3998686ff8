"""A satellite's own metrics, exposed at ``GET /metrics`` on its API (:mod:`taxiway.satellite.api`).

One :class:`SatelliteMetrics` per satellite, each with a registry of its own (tests run
several satellites in one process, so never ``prometheus_client``'s global one). The
reconciler, the puller and the ingress's metered dataplane record into it as things
happen; what describes the present (instances by state, the ingress's servers, the feed's
lag) is read at scrape time from the callables it was built with, so a scrape always
sees the last tick's view and nothing has to be kept in step. No series carries
``region``: the region's Prometheus adds it from the scrape target.

Series (docs/metrics.md lists them with their meaning):

- ``taxiway_satellite_reconcile_duration_seconds`` histogram: one reconcile step;
- ``taxiway_satellite_instances{service,environment,state}`` gauge, ``state`` one of
  ``ready``, ``starting`` (running, not ready yet) and ``exited``;
- ``taxiway_satellite_instance_restarts_total{service,environment}``: crashed or
  killed instances started again by the supervisor;
- ``taxiway_satellite_feed_lag_seconds``: how long the satellite may have been missing
  definitions the control plane published (see :class:`FeedLag`);
- ``taxiway_satellite_last_successful_pull_timestamp_seconds``;
- ``taxiway_satellite_ingress_reloads_total{outcome}``: starts and reloads of the region
  ingress's HAProxy, ``ok`` or ``failed``;
- ``taxiway_satellite_drain_duration_seconds{service,environment}`` histogram: from a
  server's drain to its removal from the ingress;
- :data:`~taxiway.plan.observability.names.INGRESS_IN_FLIGHT` and
  :data:`~taxiway.plan.observability.names.INGRESS_IN_ROTATION`
  ``{service,environment,revision}`` (:mod:`taxiway.plan.observability.rotation_gauges`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import prometheus_client
from prometheus_client import exposition
from prometheus_client import registry as prometheus_registry
from prometheus_client.core import GaugeMetricFamily, Metric

from taxiway.plan.observability import names, rotation_gauges
from taxiway.plan.region import instance_spec, rotation

CONTENT_TYPE = exposition.CONTENT_TYPE_PLAIN_0_0_4
"""The text exposition format 0.0.4, which Prometheus 2.x reads (0.26 writes it)."""

RECONCILE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""A quiet tick takes about a millisecond; one that starts instances, up to seconds."""
DRAIN_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
"""A drain ends when the last request left or after the grace period (30 s by default)."""

READY, STARTING, EXITED = "ready", "starting", "exited"


class FeedLag(Protocol):
    """What the puller knows of how current the satellite's definitions are."""

    def lag_seconds(self) -> float:
        """0 while the last poll of the feed succeeded (a long poll answers as soon as
        anything is published, so a poll that waits is current); once a poll failed, the
        seconds since the last answer (or since the puller started, before any)."""
        ...

    @property
    def last_pull(self) -> float | None:
        """Epoch seconds of the last successful poll; ``None`` before the first."""
        ...


def state_of(instance: instance_spec.Instance) -> str:
    if instance.state is not instance_spec.InstanceState.RUNNING:
        return EXITED
    return READY if instance.ready else STARTING


class _Present:
    """The series read at scrape time: instances by state, the ingress's servers."""

    def __init__(
        self,
        instances: Callable[[], Sequence[instance_spec.Instance]],
        backends: Callable[[], rotation.Backends | None],
    ) -> None:
        self._instances = instances
        self._backends = backends

    def describe(self) -> Iterator[Metric]:
        return iter(())  # unchecked collector: its label values are only known at scrape time

    def collect(self) -> Iterator[Metric]:
        states = GaugeMetricFamily(
            "taxiway_satellite_instances",
            "Instances the runtime driver lists, by state (ready, starting, exited).",
            labels=[names.SERVICE, names.ENVIRONMENT, "state"],
        )
        counts: dict[tuple[str, str, str], int] = {}
        for instance in self._instances():
            key = (instance.service, instance.environment, state_of(instance))
            counts[key] = counts.get(key, 0) + 1
        for labels, value in sorted(counts.items()):
            states.add_metric(list(labels), value)
        yield states
        in_flight = GaugeMetricFamily(
            names.INGRESS_IN_FLIGHT,
            "Requests at the region ingress's servers of this revision now.",
            labels=[names.SERVICE, names.ENVIRONMENT, names.REVISION],
        )
        in_rotation = GaugeMetricFamily(
            names.INGRESS_IN_ROTATION,
            "Servers of this revision the region ingress sends new requests to.",
            labels=[names.SERVICE, names.ENVIRONMENT, names.REVISION],
        )
        backends = self._backends()
        for labels, gauges in sorted(rotation_gauges.count(backends or {}).items()):
            in_flight.add_metric(list(labels), gauges.in_flight)
            in_rotation.add_metric(list(labels), gauges.in_rotation)
        yield in_flight
        yield in_rotation


def _lag(feed: FeedLag | None) -> float:
    return feed.lag_seconds() if feed is not None else 0.0


def _last_pull(feed: FeedLag | None) -> float:
    return (feed.last_pull or 0.0) if feed is not None else 0.0


class SatelliteMetrics:
    """The satellite's registry and the instruments its parts record into."""

    def __init__(
        self,
        instances: Callable[[], Sequence[instance_spec.Instance]],
        backends: Callable[[], rotation.Backends | None],
        feed: Callable[[], FeedLag | None],
    ) -> None:
        """``instances`` and ``backends`` (the ingress's servers, ``None`` without one) are
        read at each scrape, as is ``feed`` (the puller, ``None`` until it exists)."""
        self.registry = prometheus_registry.CollectorRegistry()
        registry = self.registry
        self.reconcile_duration = prometheus_client.Histogram(
            "taxiway_satellite_reconcile_duration_seconds",
            "One reconcile step: reload, plan, converge the ingress, supervise, report.",
            buckets=RECONCILE_BUCKETS,
            registry=registry,
        )
        self.restarts = prometheus_client.Counter(
            "taxiway_satellite_instance_restarts",
            "Instances the supervisor started again after they exited or were killed.",
            [names.SERVICE, names.ENVIRONMENT],
            registry=registry,
        )
        self.ingress_reloads = prometheus_client.Counter(
            "taxiway_satellite_ingress_reloads",
            "Starts and reloads of the region ingress's HAProxy, by outcome (ok, failed).",
            ["outcome"],
            registry=registry,
        )
        self.drain_duration = prometheus_client.Histogram(
            "taxiway_satellite_drain_duration_seconds",
            "From a server's drain at the region ingress to its removal.",
            [names.SERVICE, names.ENVIRONMENT],
            buckets=DRAIN_BUCKETS,
            registry=registry,
        )
        lag = prometheus_client.Gauge(
            "taxiway_satellite_feed_lag_seconds",
            "0 while the definitions feed answers; else seconds since its last answer.",
            registry=registry,
        )
        lag.set_function(lambda: _lag(feed()))
        last_pull = prometheus_client.Gauge(
            "taxiway_satellite_last_successful_pull_timestamp_seconds",
            "When the definitions feed last answered (epoch seconds; 0 before the first answer).",
            registry=registry,
        )
        last_pull.set_function(lambda: _last_pull(feed()))
        registry.register(_Present(instances, backends))

    def reconciled(self, seconds: float, restarted: Sequence[tuple[str, str]]) -> None:
        """One reconcile step took ``seconds``; ``restarted``: (service, environment) of
        each instance it started again."""
        self.reconcile_duration.observe(seconds)
        for service, environment in restarted:
            self.restarts.labels(service, environment).inc()

    def exposition(self) -> bytes:
        """The registry in the text format, for ``GET /metrics``."""
        return prometheus_client.generate_latest(self.registry)

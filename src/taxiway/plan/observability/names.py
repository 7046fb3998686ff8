"""The names every part of Taxiway's monitoring agrees on: metrics, labels, buckets.

The request log sink exposes the ingress series, the SLO rules query them, the rollout
analysis will compare revisions with them: one spelling, here. Names follow Prometheus's
conventions (``promtool check metrics``): a ``taxiway_`` prefix, base units (seconds,
bytes), ``_total`` on counters.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.utils import floatToGoString

# ---------------------------------------------------------------- platform labels
SERVICE = "service"
ENVIRONMENT = "environment"
REGION = "region"
REVISION = "revision"
INSTANCE = "instance"
POP = "pop"
CODE_CLASS = "code_class"
"""``1xx`` … ``5xx``: the class of the status code the client got."""
OWNER = "owner"
SEVERITY = "severity"
SLO = "slo"
"""The manifest's name of an SLO, on its alerts (``availability``)."""

PLATFORM_LABELS = (SERVICE, ENVIRONMENT, REGION, REVISION, INSTANCE, POP)
"""Set by the platform on every target; a service's own metrics cannot override them
(Prometheus keeps the target's value and renames the scraped one ``exported_<name>``)."""

NO_REVISION = "none"
"""``revision`` of a request no instance answered (HAProxy's own 503, ``<NOSRV>``)."""

# ---------------------------------------------------------------- region ingress (request log sink)
INGRESS_REQUESTS = "taxiway_ingress_requests_total"
"""Counter {service, environment, revision, code_class}: requests the ingress answered."""
INGRESS_DURATION = "taxiway_ingress_request_duration_seconds"
"""Histogram {service, environment, revision}: HAProxy's total active time (``%Ta``)."""
INGRESS_LOG_LINES = "taxiway_ingress_log_lines_total"
"""Counter: request log lines the sink received."""
INGRESS_LOG_UNPARSED = "taxiway_ingress_log_lines_unparsed_total"
"""Counter: lines the sink received but could not read (counted, never silently lost)."""
INGRESS_LOG_DROPPED = "taxiway_ingress_log_lines_dropped_total"
"""Counter: lines HAProxy could not send (its ``DroppedLogs``): a histogram missing them
is a histogram that knows it is missing them."""
INGRESS_IN_FLIGHT = "taxiway_ingress_requests_in_flight"
"""Gauge {service, environment, revision}: requests at the ingress's servers now."""
INGRESS_IN_ROTATION = "taxiway_ingress_instances_in_rotation"
"""Gauge {service, environment, revision}: servers taking new requests."""

DURATION_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds in seconds, 5 ms to 10 s. A service's latency SLO thresholds are added to
its own histogram's bounds, so every threshold is a bucket bound exactly."""


def buckets_for(thresholds: Iterable[float]) -> tuple[float, ...]:
    """The bucket bounds of one service: the defaults and its latency thresholds, sorted."""
    return tuple(sorted(set(DURATION_BUCKETS) | {float(t) for t in thresholds}))


def bucket_label(bound: float) -> str:
    """``le`` as exposed: Go's float formatting, as ``prometheus_client`` writes it
    (``0.25`` → ``"0.25"``, ``1`` → ``"1.0"``, ``inf`` → ``"+Inf"``)."""
    text: str = floatToGoString(bound)  # type: ignore[no-untyped-call]
    return text

"""What a PoP reports about each service (:mod:`taxiway.wire.pop_status`): pools in order,
health, measured RTT, who serves. Pure.

Built by :mod:`taxiway.edge.controller` after every step from the order in force, the
estimates and HAProxy's ``show stat`` rows, and sent by :mod:`taxiway.edge.status_sender` as
``PUT /v1/pops/{pop}/status``::

    {"services": [{"service": "hello", "environment": "production",
                   "steering": "dynamic_latency", "fallback_region": "us-east1",
                   "serving": "europe-west1", "via_fallback": false,
                   "pools": [{"region": "europe-west1", "healthy": true, "rtt_ms": 2.4,
                              "serving": true, "status": "UP"}, ...]}],
     "haproxy": {"pid": 1234, "config_version": 42, "listen": "http://127.0.0.1:PORT",
                 "metrics": "http://127.0.0.1:PORT/metrics"},
     "edge_metrics": "http://127.0.0.1:PORT/metrics"}

``serving`` is what HAProxy does with these servers: the first healthy pool in order, else
(every pool down) the fallback region, whatever its health. Pools HAProxy does not have
(no ingress address yet) come last with ``status: "no ingress"``. ``rtt_ms`` is the moving
average of the PoP's own check durations; ``null`` until a check of that pool passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from taxiway.plan.edge import popconfig, rtt, steering
from taxiway.plan.haproxy import answers
from taxiway.wire import pop_status

NO_INGRESS = "no ingress"
NOT_RUNNING = "no haproxy"


def serving(order: Sequence[str], rows: Mapping[str, answers.StatRow], fallback: str | None) -> str | None:
    """The region HAProxy sends new requests to now."""
    for region in order:
        row = rows.get(region)
        if row is not None and steering.healthy(row):
            return region
    return fallback


def service_report(
    service: popconfig.Service,
    order: Sequence[str],
    rows: Mapping[str, answers.StatRow],
    estimates: Mapping[str, rtt.Estimate],
    fallback: str | None,
) -> dict[str, Any]:
    """One service's entry of the status body, as JSON."""
    return service_status(service, order, rows, estimates, fallback).model_dump()


def service_status(
    service: popconfig.Service,
    order: Sequence[str],
    rows: Mapping[str, answers.StatRow],
    estimates: Mapping[str, rtt.Estimate],
    fallback: str | None,
) -> pop_status.ServiceStatus:
    now = serving(order, rows, fallback) if order else None
    pools = []
    for region in order:
        row = rows.get(region)
        estimate = estimates.get(region)
        pools.append(
            pop_status.PoolStatus(
                region=region,
                healthy=row is not None and steering.healthy(row),
                rtt_ms=round(estimate.rtt_ms, 1) if estimate is not None else None,
                serving=region == now,
                status=row.status if row is not None else NOT_RUNNING,
            )
        )
    for pool in service.pools:
        if pool.region not in order:
            pools.append(pop_status.PoolStatus(region=pool.region, status=NO_INGRESS))
    return pop_status.ServiceStatus(
        service=service.service,
        environment=service.environment,
        steering=service.steering,
        fallback_region=fallback,
        serving=now,
        via_fallback=now is not None and not any(p.serving and p.healthy for p in pools),
        pools=pools,
    )


@dataclass(frozen=True)
class Snapshot:
    """The status body and what, in it, is worth reporting at once when it changes."""

    body: dict[str, Any]

    @property
    def fingerprint(self) -> tuple[Any, ...]:
        """Who serves and which pools are healthy, per service (not RTTs, which drift)."""
        return tuple(
            (s["service"], s["serving"], tuple((p["region"], p["healthy"]) for p in s["pools"]))
            for s in self.body["services"]
        )


def snapshot(
    pop_config: popconfig.PopConfig | None,
    orders: Mapping[str, Sequence[str]],
    rows: Mapping[str, Mapping[str, answers.StatRow]],
    estimates: Mapping[str, Mapping[str, rtt.Estimate]],
    fallbacks: Mapping[str, str | None],
    haproxy: Mapping[str, Any],
    *,
    edge_metrics: str | None = None,
) -> Snapshot:
    """The whole PoP: every service of the config, rendered or not (a service without any
    usable pool reports its pools as ``no ingress``); ``edge_metrics``, the edge's own
    ``/metrics`` URL."""
    services = [
        service_status(
            service,
            orders.get(service.service, ()),
            rows.get(service.service, {}),
            estimates.get(service.service, {}),
            fallbacks.get(service.service),
        )
        for service in (pop_config.services if pop_config is not None else ())
    ]
    body = pop_status.PopStatus(services=services, haproxy=dict(haproxy), edge_metrics=edge_metrics)
    # Without a URL the key is left out, so the body is what it always was.
    return Snapshot(body.model_dump(exclude={"edge_metrics"} if edge_metrics is None else None))

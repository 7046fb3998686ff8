"""A PoP's global load-balancing config as the control plane sends it, checked and typed. Pure.

``GET /v1/pops/{pop}/config`` answers::

    {"pop": "iad", "version": N, "services": [
      {"service": "hello", "environment": "production",
       "steering": "dynamic_latency" | "failover", "failover_order": ["us-east1", ...],
       "fallback_region": "us-east1", "block_health_endpoint": true,
       "monitor": {"protocol", "path", "interval", "timeout", "consecutive_up",
                   "consecutive_down", "expected_codes"},          (durations in seconds)
       "pools": [{"region": "us-east1", "ingress": "http://127.0.0.1:PORT" | null,
                  "monitor_path": "/health"}]}]}   (monitor_path only where it differs)

:func:`parse` turns that into a :class:`PopConfig`. A malformed answer as a whole is a
:class:`~taxiway.errors.ProtocolError`; one malformed service is left out with a
problem naming it, so it cannot take the PoP's other services down. The cache stores
:meth:`PopConfig.to_json`, the same shape, and reads it back through :func:`parse`.

:func:`merge` decides what a new answer changes, by DESIGN principle 2 (an edge keeps
routing its last known config; only an explicit change removes anything):

* ``version`` identifies the content, nothing more (it is a hash, not a counter), so any
  other version is a change, and the edge long-polls with ``after`` = the version it holds.
* Services and pools the answer leaves out are removed: that is the explicit change.
* A pool whose ``ingress`` is ``null`` (its region's satellite has not reported one, or
  the control plane lost it) keeps the address the PoP last had for it: not knowing an
  address is not a removal.
* An answer with **no services at all** while the PoP routes some is not applied: it is
  what a control plane with an empty or lost store answers, and taking it would stop all
  traffic at once. The PoP keeps routing and says so; an operator who really means it
  stops the edge (HAProxy keeps the old config until then).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

from taxiway.errors import ProtocolError
from taxiway.haproxy import config, tokens
from taxiway.haproxy.errors import UnsafeValue

Steering = Literal["dynamic_latency", "failover"]
STEERINGS: tuple[Steering, ...] = ("dynamic_latency", "failover")
PROTOCOLS = ("tcp", "http", "https")


@dataclass(frozen=True)
class Pool:
    region: str
    ingress: str | None
    """``http://IP:PORT`` of the region's ingress HAProxy; ``None`` until one is known."""
    monitor_path: str | None = None
    """The monitor path of the revision the region serves, where it is not the service's
    (a new revision changed it and does not serve there yet)."""

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"region": self.region, "ingress": self.ingress}
        if self.monitor_path is not None:
            document["monitor_path"] = self.monitor_path
        return document


@dataclass(frozen=True)
class Service:
    service: str
    environment: str
    steering: Steering
    failover_order: tuple[str, ...]
    fallback_region: str | None
    monitor: config.Monitor
    block_health_endpoint: bool
    pools: tuple[Pool, ...]

    def to_json(self) -> dict[str, Any]:
        monitor = self.monitor
        return {
            "service": self.service,
            "environment": self.environment,
            "steering": self.steering,
            "failover_order": list(self.failover_order),
            "fallback_region": self.fallback_region,
            "monitor": {
                "protocol": monitor.protocol,
                "path": monitor.path,
                "interval": monitor.interval,
                "timeout": monitor.timeout,
                "consecutive_up": monitor.consecutive_up,
                "consecutive_down": monitor.consecutive_down,
                "expected_codes": monitor.expected_codes,
            },
            "block_health_endpoint": self.block_health_endpoint,
            "pools": [p.to_json() for p in self.pools],
        }


@dataclass(frozen=True)
class PopConfig:
    pop: str
    version: int
    services: tuple[Service, ...] = ()

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.service == name), None)

    def to_json(self) -> dict[str, Any]:
        return {"pop": self.pop, "version": self.version, "services": [s.to_json() for s in self.services]}


@dataclass(frozen=True)
class Parsed:
    config: PopConfig
    problems: tuple[str, ...] = ()
    """One sentence per service left out, naming the service and the field."""


class _Bad(Exception):
    """One service's field is wrong; the message says which and why."""


# ---------------------------------------------------------------------------- parsing


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise _Bad(f"{key}: expected text, got {value!r}")
    return value


def _seconds(data: Mapping[str, Any], key: str) -> float:
    value = data.get(key)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise _Bad(f"monitor.{key}: expected a positive number of seconds, got {value!r}")
    return float(value)


def _count(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise _Bad(f"monitor.{key}: expected a whole number from 1 to 100, got {value!r}")
    return value


def _monitor(data: Any) -> config.Monitor:
    if not isinstance(data, Mapping):
        raise _Bad(f"monitor: expected an object, got {data!r}")
    protocol = data.get("protocol", "tcp")
    if protocol not in PROTOCOLS:
        raise _Bad(f"monitor.protocol: expected one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    path = data.get("path", "/health")
    codes = data.get("expected_codes", "2xx")
    try:
        tokens.http_path(path, "monitor.path")
        tokens.expected_codes(codes, "monitor.expected_codes")
    except UnsafeValue as exc:
        raise _Bad(str(exc)) from None
    return config.Monitor(
        protocol=cast(Literal["tcp", "http", "https"], protocol),
        path=str(path),
        interval=_seconds(data, "interval"),
        timeout=_seconds(data, "timeout"),
        consecutive_up=_count(data, "consecutive_up"),
        consecutive_down=_count(data, "consecutive_down"),
        expected_codes=str(codes),
    )


def _region(value: Any, what: str) -> str:
    try:
        return tokens.region(value, what)
    except UnsafeValue as exc:
        raise _Bad(str(exc)) from None


def _pools(data: Any) -> tuple[Pool, ...]:
    if not isinstance(data, list):
        raise _Bad(f"pools: expected a list, got {data!r}")
    pools: list[Pool] = []
    for index, item in enumerate(data):
        if not isinstance(item, Mapping):
            raise _Bad(f"pools[{index}]: expected an object, got {item!r}")
        region = _region(item.get("region"), f"pools[{index}].region")
        if any(p.region == region for p in pools):
            raise _Bad(f"pools: region {region} appears twice")
        ingress = item.get("ingress")
        if ingress is not None and not isinstance(ingress, str):
            raise _Bad(f"pools[{index}].ingress: expected a URL or null, got {ingress!r}")
        monitor_path = item.get("monitor_path")
        if monitor_path is not None:
            try:
                tokens.http_path(monitor_path, f"pools[{index}].monitor_path")
            except UnsafeValue as exc:
                raise _Bad(str(exc)) from None
        pools.append(Pool(region, ingress or None, monitor_path))
    return tuple(pools)


def _service(data: Any) -> Service:
    if not isinstance(data, Mapping):
        raise _Bad(f"expected an object, got {data!r}")
    name = _text(data, "service")
    try:
        tokens.dns_label(name, "service")
    except UnsafeValue as exc:
        raise _Bad(str(exc)) from None
    steering = data.get("steering", "dynamic_latency")
    if steering not in STEERINGS:
        raise _Bad(f"steering: expected dynamic_latency or failover, got {steering!r}")
    order = data.get("failover_order") or []
    if not isinstance(order, list):
        raise _Bad(f"failover_order: expected a list of regions, got {order!r}")
    fallback = data.get("fallback_region")
    block = data.get("block_health_endpoint", False)
    if not isinstance(block, bool):
        raise _Bad(f"block_health_endpoint: expected true or false, got {block!r}")
    return Service(
        service=name,
        environment=str(data.get("environment") or "production"),
        steering=cast(Steering, steering),
        failover_order=tuple(_region(r, "failover_order") for r in order),
        fallback_region=None if fallback is None else _region(fallback, "fallback_region"),
        monitor=_monitor(data.get("monitor", {})),
        block_health_endpoint=block,
        pools=_pools(data.get("pools", [])),
    )


def parse(answer: Any, pop: str) -> Parsed:
    """Check one answer (or the cache) for ``pop``; see the module docstring."""
    what = f"the config of PoP {pop}"
    if not isinstance(answer, Mapping):
        raise ProtocolError(f"{what}: expected a JSON object")
    if answer.get("pop", pop) != pop:
        raise ProtocolError(f"{what}: the answer is for PoP {answer.get('pop')!r}")
    version = answer.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ProtocolError(f"{what}: version {version!r} is not a whole number")
    items = answer.get("services")
    if not isinstance(items, list):
        raise ProtocolError(f"{what}: services is not a list")
    services: list[Service] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        label = item.get("service") if isinstance(item, Mapping) else None
        try:
            service = _service(item)
        except _Bad as exc:
            problems.append(f"service {label or f'#{index}'}: {exc}; left out")
            continue
        if any(s.service == service.service for s in services):
            problems.append(f"service {service.service}: appears twice; the second is left out")
            continue
        services.append(service)
    return Parsed(PopConfig(pop, version, tuple(services)), tuple(problems))


# ---------------------------------------------------------------------------- merging


@dataclass(frozen=True)
class Merged:
    config: PopConfig
    notes: tuple[str, ...] = ()
    """What the PoP kept that the answer would have dropped, one sentence each."""


def _known_addresses(previous: PopConfig | None) -> dict[tuple[str, str], str]:
    if previous is None:
        return {}
    return {
        (s.service, p.region): p.ingress for s in previous.services for p in s.pools if p.ingress is not None
    }


def merge(previous: PopConfig | None, answer: PopConfig) -> Merged:
    """What the PoP should route after ``answer``, given what it routed before."""
    if previous is not None and previous.services and not answer.services:
        names = ", ".join(s.service for s in previous.services)
        note = (
            f"the control plane answers no services at all (version {answer.version}); "
            f"an empty answer is never taken as 'route nothing': still routing {names}"
        )
        return Merged(replace(previous, version=answer.version), (note,))
    known = _known_addresses(previous)
    notes: list[str] = []
    services: list[Service] = []
    for service in answer.services:
        pools: list[Pool] = []
        for pool in service.pools:
            kept = known.get((service.service, pool.region))
            if pool.ingress is None and kept is not None:
                notes.append(
                    f"{service.service}: no ingress address for {pool.region} in the answer; "
                    f"keeping the last known one, {kept}"
                )
                pool = replace(pool, ingress=kept)
            pools.append(pool)
        services.append(replace(service, pools=tuple(pools)))
    return Merged(replace(answer, services=tuple(services)), tuple(notes))


def same_routing(a: PopConfig | None, b: PopConfig | None) -> bool:
    """Whether two configs route alike (their versions may differ)."""
    if a is None or b is None:
        return a is b
    return a.services == b.services

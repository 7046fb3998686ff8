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

:func:`parse` checks that shape with :mod:`taxiway.wire.pop_config`, then what HAProxy may
be given, and turns it into a :class:`PopConfig`. A malformed answer as a whole is a
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

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from taxiway.plan.haproxy import config, tokens
from taxiway.plan.haproxy.tokens import UnsafeValue
from taxiway.wire import pop_config

Steering = pop_config.Steering


@dataclass(frozen=True)
class Pool:
    region: str
    ingress: str | None
    """``http://IP:PORT`` of the region's ingress HAProxy; ``None`` until one is known."""
    monitor_path: str | None = None
    """The monitor path of the revision the region serves, where it is not the service's
    (a new revision changed it and does not serve there yet)."""

    def to_wire(self) -> pop_config.Pool:
        return pop_config.Pool(region=self.region, ingress=self.ingress, monitor_path=self.monitor_path)


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

    def to_wire(self) -> pop_config.Service:
        monitor = self.monitor
        return pop_config.Service(
            service=self.service,
            environment=self.environment,
            steering=self.steering,
            failover_order=self.failover_order,
            fallback_region=self.fallback_region,
            monitor=pop_config.Monitor(
                protocol=monitor.protocol,
                path=monitor.path,
                interval=monitor.interval,
                timeout=monitor.timeout,
                consecutive_up=monitor.consecutive_up,
                consecutive_down=monitor.consecutive_down,
                expected_codes=monitor.expected_codes,
            ),
            block_health_endpoint=self.block_health_endpoint,
            pools=tuple(p.to_wire() for p in self.pools),
        )


@dataclass(frozen=True)
class PopConfig:
    pop: str
    version: int
    services: tuple[Service, ...] = ()

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.service == name), None)

    def to_json(self) -> dict[str, Any]:
        """The answer's shape (:class:`taxiway.wire.pop_config.PopConfig`), as the cache keeps it."""
        document = pop_config.PopConfig(
            pop=self.pop, version=self.version, services=tuple(s.to_wire() for s in self.services)
        )
        return document.model_dump(mode="json")


@dataclass(frozen=True)
class Parsed:
    config: PopConfig
    problems: tuple[str, ...] = ()
    """One sentence per service left out, naming the service and the field."""


class _Bad(Exception):
    """One service's field is wrong; the message says which and why."""


# ---------------------------------------------------------------------------- parsing


def _safe(check: Any, value: Any, what: str) -> None:
    try:
        check(value, what)
    except UnsafeValue as exc:
        raise _Bad(str(exc)) from None


def _region(value: Any, what: str) -> str:
    try:
        return tokens.region(value, what)
    except UnsafeValue as exc:
        raise _Bad(str(exc)) from None


def _pools(entries: tuple[pop_config.Pool, ...]) -> tuple[Pool, ...]:
    pools: list[Pool] = []
    for index, entry in enumerate(entries):
        region = _region(entry.region, f"pools[{index}].region")
        if any(p.region == region for p in pools):
            raise _Bad(f"pools: region {region} appears twice")
        if entry.monitor_path is not None:
            _safe(tokens.http_path, entry.monitor_path, f"pools[{index}].monitor_path")
        pools.append(Pool(region, entry.ingress or None, entry.monitor_path))
    return tuple(pools)


def _service(data: Any) -> Service:
    """One service of the answer: its shape (:mod:`taxiway.wire.pop_config`), then what
    HAProxy may be given."""
    try:
        entry = pop_config.parse_service(data)
    except pop_config.BadService as exc:
        raise _Bad(str(exc)) from None
    _safe(tokens.dns_label, entry.service, "service")
    monitor = entry.monitor
    _safe(tokens.http_path, monitor.path, "monitor.path")
    _safe(tokens.expected_codes, monitor.expected_codes, "monitor.expected_codes")
    return Service(
        service=entry.service,
        environment=entry.environment,
        steering=entry.steering,
        failover_order=tuple(_region(r, "failover_order") for r in entry.failover_order),
        fallback_region=None
        if entry.fallback_region is None
        else _region(entry.fallback_region, "fallback_region"),
        monitor=config.Monitor(**monitor.model_dump()),
        block_health_endpoint=entry.block_health_endpoint,
        pools=_pools(entry.pools),
    )


def parse(answer: Any, pop: str) -> Parsed:
    """Check one answer (or the cache) for ``pop``; see the module docstring."""
    version, items = pop_config.parse_header(answer, pop)
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

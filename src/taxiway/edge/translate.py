"""A PoP config plus the pool orders steering chose, as the HAProxy model to render. Pure.

Called by :mod:`taxiway.edge.controller` on every step; what comes out goes to
:func:`taxiway.plan.haproxy.config.render` and, through ``haproxy -c``, to the PoP's HAProxy.

* A pool is **usable** when its ingress address is an ``http://IP:PORT`` URL; a region
  in the frame's ``pool_addresses`` (``taxiway edge --pool-address``) is reached at that
  address instead, for checks and traffic alike, once the control plane knows the pool
  has an ingress at all (an override replaces an address, it does not invent a pool). Pools
  without one (``null``: the region's satellite has not reported it yet) or with another
  kind of address are left out, with a problem for the latter; a service with no usable
  pool is left out of HAProxy altogether, so its host answers 404 "unknown service"
  rather than 503 from an empty backend.
* **Failover order**: the config's ``failover_order`` (the manifest's), usable pools only,
  then any usable pool it does not name, in the order the pools came.
* **Fallback**: the config's ``fallback_region``; without one, ``us-east1`` when the
  service runs there, else the first pool in failover order (the manifest's default).
  It becomes the unchecked last backup, served when every pool is down; a fallback region
  without a usable address gives no fallback (and a problem).
* The monitor maps onto HAProxy checks (:func:`check_monitor`): protocol, path,
  ``inter`` = interval, ``timeout check`` = timeout, ``rise`` = consecutive_up, ``fall`` =
  consecutive_down, ``http-check expect status`` = expected codes; and ``fastinter`` =
  interval − timeout. HAProxy pauses ``inter`` *after* a check ends, so a silent region
  (every check running into its timeout) would be checked every interval + timeout and
  leave rotation later than (consecutive_down + 1) × interval; once its first check
  failed it is "between states", where ``fastinter`` applies, and from then on it is
  checked every interval, start to start. A healthy pool's checks take its RTT, so
  ``inter`` = interval keeps them about one interval apart.

Each service is rendered alone first: one that HAProxy's token rules refuse is left out
with a problem instead of taking the PoP's other services down with it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from taxiway.plan.edge import popconfig
from taxiway.plan.haproxy import config
from taxiway.plan.haproxy.tokens import UnsafeValue

DEFAULT_FALLBACK_REGION = "us-east1"
"""As the manifest's default (``taxiway.plan.derive``), for a config that names none."""


@dataclass(frozen=True)
class Frame:
    """What the PoP's HAProxy needs besides the services: where it listens, how it is run."""

    pop: str
    domain: str
    bind: config.Endpoint
    control: config.Control
    timeouts: config.Timeouts = field(default_factory=config.Timeouts)
    pool_addresses: Mapping[str, config.Endpoint] = field(default_factory=dict)
    """Per region, the address that replaces the control plane's ingress address."""
    monitor_map: Path | None = None
    """Where the PoP's HAProxy reads each pool's monitor path (see ``config.Edge``)."""


@dataclass(frozen=True)
class Translation:
    edge: config.Edge
    failover: Mapping[str, tuple[str, ...]]
    """Each rendered service's usable pools in failover order."""
    fallback: Mapping[str, str | None]
    """Each rendered service's fallback region (``None``: it has none)."""
    problems: tuple[str, ...] = ()


def ingress_endpoint(url: str) -> config.Endpoint:
    """``http://IP:PORT`` as an endpoint; anything else raises :class:`UnsafeValue`."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise UnsafeValue(f"ingress {url!r}: only http:// ingress addresses are supported")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise UnsafeValue(f"ingress {url!r}: the port is not a number") from None
    if host is None or port is None:
        raise UnsafeValue(f"ingress {url!r}: expected http://IP:PORT")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise UnsafeValue(f"ingress {url!r}: the host must be an IP address (no DNS at reload)") from None
    return config.Endpoint(host, port)


def usable_pools(
    service: popconfig.Service, overrides: Mapping[str, config.Endpoint] | None = None
) -> tuple[dict[str, config.Pool], list[str]]:
    """The pools HAProxy can reach, by region, and a problem for each unusable address."""
    pools: dict[str, config.Pool] = {}
    problems: list[str] = []
    for pool in service.pools:
        if pool.ingress is None:
            continue
        override = (overrides or {}).get(pool.region)
        if override is not None:
            pools[pool.region] = config.Pool(pool.region, override.host, override.port, pool.monitor_path)
            continue
        try:
            endpoint = ingress_endpoint(pool.ingress)
        except UnsafeValue as exc:
            problems.append(f"{service.service}: pool {pool.region} left out: {exc}")
            continue
        pools[pool.region] = config.Pool(pool.region, endpoint.host, endpoint.port, pool.monitor_path)
    return pools, problems


MIN_PAUSE_SHARE = 0.1
"""A monitor whose timeout is (nearly) its interval still pauses this share of the
interval between checks, so a silent region is not checked back to back."""


def check_monitor(monitor: config.Monitor) -> config.Monitor:
    """The monitor as HAProxy's check settings (see the module docstring for ``fastinter``)."""
    pause = max(monitor.interval - monitor.timeout, MIN_PAUSE_SHARE * monitor.interval, 0.001)
    return replace(monitor, fast_interval=round(pause, 3))


def failover_order(service: popconfig.Service, usable: Sequence[str]) -> tuple[str, ...]:
    named = [region for region in service.failover_order if region in usable]
    return (*named, *(region for region in usable if region not in named))


def fallback_region(service: popconfig.Service) -> str:
    """The region traffic goes to when every pool is down (before checking its address)."""
    if service.fallback_region is not None:
        return service.fallback_region
    regions = [p.region for p in service.pools]
    if DEFAULT_FALLBACK_REGION in regions:
        return DEFAULT_FALLBACK_REGION
    declared = [r for r in service.failover_order if r in regions]
    return (declared or regions or [DEFAULT_FALLBACK_REGION])[0]


def _ordered(order: Sequence[str] | None, failover: tuple[str, ...]) -> tuple[str, ...]:
    """``order`` (steering's) made to name exactly the usable pools: unknown ones dropped,
    missing ones appended in failover order."""
    kept = [region for region in order or () if region in failover]
    return (*kept, *(region for region in failover if region not in kept))


def build(
    pop_config: popconfig.PopConfig | None, orders: Mapping[str, Sequence[str]], frame: Frame
) -> Translation:
    """The PoP's HAProxy model; ``orders`` maps a service to its pool order (steering's)."""
    services: list[config.EdgeService] = []
    failover: dict[str, tuple[str, ...]] = {}
    fallbacks: dict[str, str | None] = {}
    problems: list[str] = []
    for service in pop_config.services if pop_config is not None else ():
        pools, found = usable_pools(service, frame.pool_addresses)
        problems += found
        if not pools:
            continue
        order = failover_order(service, list(pools))
        fallback_name: str | None = fallback_region(service)
        fallback = pools.get(fallback_name) if fallback_name is not None else None
        if fallback is None:
            problems.append(f"{service.service}: fallback region {fallback_name} has no ingress address")
            fallback_name = None
        candidate = config.EdgeService(
            name=service.service,
            pools=tuple(pools[region] for region in _ordered(orders.get(service.service), order)),
            monitor=check_monitor(service.monitor),
            fallback=fallback,
            block_health_endpoint=service.block_health_endpoint,
        )
        try:
            config.render(_edge(frame, (candidate,)))
        except UnsafeValue as exc:
            problems.append(f"{service.service}: left out of the PoP: {exc}")
            continue
        services.append(candidate)
        failover[service.service] = order
        fallbacks[service.service] = fallback_name
    return Translation(_edge(frame, tuple(services)), failover, fallbacks, tuple(problems))


def _edge(frame: Frame, services: tuple[config.EdgeService, ...]) -> config.Edge:
    return config.Edge(
        pop=frame.pop,
        domain=frame.domain,
        bind=frame.bind,
        control=frame.control,
        services=services,
        timeouts=frame.timeouts,
        monitor_map=frame.monitor_map,
    )

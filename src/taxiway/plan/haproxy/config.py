"""What an HAProxy serves, as typed data, and the one renderer to its configuration text.

Two shapes, both pure (no I/O, no clock):

* :class:`Ingress` — a region's HAProxy (run by the satellite). One frontend routes by
  ``X-Taxiway-Service`` (set by the edge) or ``Host: <service>.<domain>`` to one backend
  per service whose servers are that region's ready instances. Membership changes go
  through the runtime API (``add server``/``del server``, see :func:`instance_options`),
  so the config only has to be right at the next start or reload.
* :class:`Edge` — a PoP's HAProxy. One backend per service holds one server per region
  pool, in steering order: the first is the only active server, the others are ``backup``
  servers, which HAProxy uses one at a time in the order they are declared, and an
  unchecked ``fallback`` server comes last. Why this gives zero failed idempotent
  requests when the serving region dies is explained at :func:`_edge_backend`.

Both carry :class:`Control`: master-worker mode, an admin stats socket (with
``expose-fd listeners`` for seamless reloads), a server-state file that reloads restore,
and optionally a Prometheus exporter on a loopback port. Every name and value passes
through :mod:`taxiway.plan.haproxy.tokens` first, so no input can add a line or an argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from taxiway.plan.haproxy import tokens
from taxiway.plan.haproxy.tokens import UnsafeValue
from taxiway.plan.observability import request_log
from taxiway.spec import manifest

FRONTEND = "fe_main"
METRICS_FRONTEND = "fe_metrics"
UNKNOWN_BACKEND = "be_unknown"
"""Internal proxy names contain '_', which no service name (a DNS label) can."""

SERVICE_HEADER = "X-Taxiway-Service"
REGION_HEADER = "X-Taxiway-Region"
POP_HEADER = "X-Taxiway-Pop"
POOL_HEADER = "X-Taxiway-Pool"

IDEMPOTENT_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE")
"""RFC 9110 §9.2.2. Only these are ever replayed after the request reached a server."""

FALLBACK_PREFIX = "fallback."
"""Fallback server names: region names have no '.', so they never collide with a pool."""


@dataclass(frozen=True)
class Endpoint:
    """A literal IP address and port (host names would need DNS at every reload)."""

    host: str
    port: int

    def render(self) -> str:
        return tokens.endpoint(self.host, self.port)


@dataclass(frozen=True)
class Control:
    """How Taxiway manages an HAProxy: sockets, state file, metrics, reload bounds."""

    stats_socket: Path
    server_state_file: Path
    metrics: Endpoint | None = None
    log_to_stderr: bool = False
    """Off by default: HAProxy already prints server state changes on stderr, and a log
    target there would print every one twice (and, at ``info``, every request)."""
    hard_stop_after: float = 30.0
    """An old worker left by a reload is stopped after this long, even with clients."""
    max_reloads: int = 50
    """Old workers surviving more reloads than this are killed (``mworker-max-reloads``)."""


@dataclass(frozen=True)
class Timeouts:
    """Proxy timeouts in seconds. ``connect`` also bounds how long a dead origin stalls a
    request before its retry goes elsewhere: HAProxy waits min(connect, 1 s) before any
    retry after a failed connection."""

    connect: float = 2.0
    client: float = 30.0
    server: float = 30.0
    http_request: float = 10.0
    http_keep_alive: float = 5.0
    queue: float = 5.0


# ---------------------------------------------------------------------------- ingress


@dataclass(frozen=True)
class InstanceCheck:
    """The ingress's own check of each instance (the satellite admits only ready ones;
    this catches an instance that dies between two of the satellite's probes)."""

    path: str | None = None
    """Readiness path for an HTTP check; ``None`` checks the TCP connect only."""
    interval: float = 2.0
    timeout: float = 1.0
    rise: int = 1
    fall: int = 2


@dataclass(frozen=True)
class Instance:
    """One ready instance: the server is named after the instance id."""

    name: str
    port: int
    host: str = "127.0.0.1"
    weight: int = 100
    check_path: str | None = None
    """The readiness path of the revision this instance runs: the ingress checks each
    server on its own path (:data:`Ingress.check_map`), so a new revision's path never
    judges the old revision's instances."""


@dataclass(frozen=True)
class IngressService:
    name: str
    instances: tuple[Instance, ...] = ()
    check: InstanceCheck = field(default_factory=InstanceCheck)


@dataclass(frozen=True)
class Ingress:
    """A region's ingress: production traffic for each service, balanced over instances."""

    region: str
    domain: str
    bind: Endpoint
    control: Control
    services: tuple[IngressService, ...] = ()
    timeouts: Timeouts = field(default_factory=Timeouts)
    balance: Literal["leastconn", "roundrobin"] = "leastconn"
    """Both are dynamic algorithms, which ``add server`` requires."""
    check_map: Path | None = None
    """The map file of each server's check path (:func:`check_map_text`); ``None``: every
    server of a backend is checked on the backend's path."""
    request_log: Path | None = None
    """A unix datagram socket that gets one line per request
    (:data:`taxiway.plan.observability.request_log.LOG_FORMAT`) for the request log sink;
    ``None``: no request log. HAProxy never waits for it: a line the socket cannot take
    is dropped and counted in ``show info``'s ``DroppedLogs``."""


# ---------------------------------------------------------------------------- edge


@dataclass(frozen=True)
class Monitor:
    """A PoP's health check of each pool (the manifest's ``load_balancing.global.monitor``)."""

    protocol: Literal["tcp", "http", "https"] = "tcp"
    path: str = "/health"
    interval: float = 10.0
    timeout: float = 3.0
    consecutive_up: int = 1
    consecutive_down: int = 1
    expected_codes: str = "2xx"
    fast_interval: float | None = None
    """HAProxy's ``fastinter``: the pause after a check while a pool is between states
    (``UP 1/2`` after a first failure, ``DOWN 1/2`` after a first pass); ``None`` keeps
    ``interval``. HAProxy pauses *after* a check ends, so a pool whose checks run into
    their timeout is checked every interval + timeout; the edge sets this to interval −
    timeout so a silent pool is checked every interval (``taxiway.edge.translate``)."""

    @classmethod
    def from_manifest(cls, monitor: manifest.Monitor) -> Monitor:
        return cls(
            protocol=monitor.protocol,
            path=monitor.path,
            interval=float(monitor.interval),
            timeout=float(monitor.timeout),
            consecutive_up=monitor.consecutive_up,
            consecutive_down=monitor.consecutive_down,
            expected_codes=monitor.expected_codes,
        )


@dataclass(frozen=True)
class Pool:
    """One service's origin in one region, as a PoP sees it: that region's ingress."""

    region: str
    host: str
    port: int
    monitor_path: str | None = None
    """The monitor path of the revision the region serves; ``None``: the service's."""


@dataclass(frozen=True)
class EdgeService:
    name: str
    pools: tuple[Pool, ...]
    """In steering order: the first serves, the others wait as backups in this order."""
    monitor: Monitor = field(default_factory=Monitor)
    fallback: Pool | None = None
    """Served when every pool is down, whatever its own health."""
    block_health_endpoint: bool = False


@dataclass(frozen=True)
class Edge:
    """A PoP: every globally load-balanced service, with its pools in steering order."""

    pop: str
    domain: str
    bind: Endpoint
    control: Control
    services: tuple[EdgeService, ...] = ()
    timeouts: Timeouts = field(default_factory=Timeouts)
    monitor_map: Path | None = None
    """The map file of each pool's monitor path, keyed ``service/region``
    (:func:`monitor_paths`); ``None``: every pool is checked on the service's path."""


# ---------------------------------------------------------------------------- check paths

CHECK_HEADERS = f"hdr User-Agent {manifest.CHECK_USER_AGENT}"
CHECK_REQUEST = f"req.hdr(User-Agent) -m str {manifest.CHECK_USER_AGENT}"
"""A request from a Taxiway check (a PoP's monitor), as an ACL."""
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9._~/-]*")


def check_map_text(paths: Mapping[str, str]) -> str:
    """A map file from key (server, or ``service/region``) to request path."""
    return "".join(
        f"{tokens.map_key(key)} {tokens.http_path(path, f'check path of {key}')}\n"
        for key, path in sorted(paths.items())
    )


def check_paths(ingress: Ingress) -> dict[str, str]:
    """Each server of the ingress that has a check path of its own, with that path."""
    return {
        instance.name: instance.check_path
        for service in ingress.services
        if service.check.path is not None
        for instance in service.instances
        if instance.check_path is not None
    }


def monitor_paths(edge: Edge) -> dict[str, str]:
    """Each pool of the PoP (``service/region``) with the path its monitor requests."""
    return {
        f"{service.name}/{pool.region}": pool.monitor_path or service.monitor.path
        for service in edge.services
        if service.monitor.protocol in ("http", "https")
        for pool in service.pools
    }


def health_path_pattern(path: str) -> str:
    """A regular expression for every spelling of ``path`` an app may serve as the same:
    any case, percent-encoded (matched after ``url_dec``), doubled slashes, ``.``
    segments and trailing slashes (``//health``, ``/Health``, ``/health/.``); the query
    does not matter. Characters go in ``[...]``: HAProxy's parser eats backslashes."""
    segments = [s for s in path.split("?", 1)[0].lower().split("/") if s]
    separator = "/+(?:[.]/+)*"
    body = separator.join("".join(c if c.isalnum() else f"[{c}]" for c in s) for s in segments)
    return f"^{separator}{body}(?:/+[.]?)*$"


def _mapped_uri(key: str, map_file: Path, default: str) -> str:
    """``uri-lf`` that looks the path up by ``key`` (a sample) in ``map_file``; a key the
    map lacks gets ``default`` (or ``/``, where the default would not survive a
    log-format string: ``%``, ``,`` and ``)`` mean something there)."""
    fallback = default if _PLAIN_PATH.fullmatch(default) else "/"
    return f"uri-lf %[{key},map({tokens.file_path(map_file, 'check map')},{fallback})]"


# ---------------------------------------------------------------------------- rendering


def render(config: Ingress | Edge) -> str:
    """The complete configuration text for ``config``; raises ``UnsafeValue`` on bad input."""
    if isinstance(config, Ingress):
        return _render_ingress(config)
    return _render_edge(config)


def instance_options(check: InstanceCheck, instance: Instance) -> tuple[str, ...]:
    """The server keywords for one instance, shared by the config and ``add server``.

    They are spelled out on every server rather than in a ``default-server`` line because
    servers added through the runtime API do not inherit ``default-server``; one function
    for both keeps a reload from changing how a server behaves. ``observe layer4`` with
    ``error-limit 1`` and ``on-error mark-down`` takes an instance out on its first refused
    connection, so the retry that follows goes to another instance.
    """
    return (
        "check",
        "inter",
        tokens.duration(check.interval, "check interval"),
        "rise",
        str(tokens.bounded_int(check.rise, 1, 100, "check rise")),
        "fall",
        str(tokens.bounded_int(check.fall, 1, 100, "check fall")),
        "observe",
        "layer4",
        "error-limit",
        "1",
        "on-error",
        "mark-down",
        "weight",
        str(tokens.bounded_int(instance.weight, 0, 256, f"instance {instance.name} weight")),
    )


def service_host(service: str, domain: str) -> str:
    return f"{tokens.dns_label(service)}.{tokens.domain(domain)}"


def _global_and_defaults(control: Control, timeouts: Timeouts) -> list[str]:
    socket = tokens.unix_socket_path(control.stats_socket, "stats socket")
    state = tokens.file_path(control.server_state_file, "server state file")
    out = [
        "global",
        "    master-worker",
        f"    mworker-max-reloads {tokens.bounded_int(control.max_reloads, 1, 10_000, 'max_reloads')}",
        f"    hard-stop-after {tokens.duration(control.hard_stop_after, 'hard_stop_after')}",
        f"    stats socket {socket} mode 600 level admin expose-fd listeners",
        "    stats timeout 30s",
        f"    server-state-file {state}",
    ]
    if control.log_to_stderr:
        out.append("    log stderr format short local0 notice")
    out += [
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option dontlognull",
        "    option forwardfor",
        f"    timeout connect {tokens.duration(timeouts.connect, 'timeout connect')}",
        f"    timeout client {tokens.duration(timeouts.client, 'timeout client')}",
        f"    timeout server {tokens.duration(timeouts.server, 'timeout server')}",
        f"    timeout http-request {tokens.duration(timeouts.http_request, 'timeout http-request')}",
        f"    timeout http-keep-alive {tokens.duration(timeouts.http_keep_alive, 'timeout http-keep-alive')}",
        f"    timeout queue {tokens.duration(timeouts.queue, 'timeout queue')}",
        "    load-server-state-from-file global",
    ]
    return out


def _metrics_and_unknown(control: Control) -> list[str]:
    out = [
        "",
        f"backend {UNKNOWN_BACKEND}",
        '    http-request return status 404 content-type text/plain string "unknown service"',
    ]
    if control.metrics is not None:
        out += [
            "",
            f"frontend {METRICS_FRONTEND}",
            f"    bind {control.metrics.render()}",
            "    no log",
            "    http-request use-service prometheus-exporter if { path /metrics }",
            "    http-request return status 404",
        ]
    return out


def _unique(names: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise UnsafeValue(f"{what} {name!r} appears twice")
        seen.add(name)


def _retry_policy(retry_on: str, retries: int) -> list[str]:
    """Retries go to another server on each attempt (``redispatch 1``); once a request
    reached a server it is replayed only for idempotent methods (a refused connection
    never delivered the request, so ``conn-failure`` retries stay on for every method)."""
    return [
        f"    retries {retries}",
        f"    retry-on {retry_on}",
        "    option redispatch 1",
        f"    acl idempotent method {' '.join(IDEMPOTENT_METHODS)}",
        "    http-request disable-l7-retry unless idempotent",
    ]


def _render_ingress(config: Ingress) -> str:
    region = tokens.region(config.region)
    domain = tokens.domain(config.domain)
    services = config.services
    _unique((tokens.dns_label(s.name) for s in services), "service")
    out = _global_and_defaults(config.control, config.timeouts)
    out += [
        "",
        f"frontend {FRONTEND}",
        f"    bind {config.bind.render()}",
        *_request_log(config.request_log),
        "    http-request set-var(txn.host) req.hdr(host),field(1,:),lower",
        f"    http-request set-var(txn.service) req.hdr({SERVICE_HEADER}),lower",
    ]
    # The edge names the service in a header; it wins over Host, which the edge passes
    # through unchanged and which may use another domain than this region's.
    for service in services:
        out.append(f"    use_backend {service.name} if {{ var(txn.service) -m str {service.name} }}")
    for service in services:
        host = service_host(service.name, domain)
        out.append(f"    use_backend {service.name} if {{ var(txn.host) -m str {host} }}")
    out += [
        f"    default_backend {UNKNOWN_BACKEND}",
        f"    http-after-response set-header {REGION_HEADER} {region}",
    ]
    for service in services:
        out += _ingress_backend(service, config.balance, domain, config.check_map)
    out += _metrics_and_unknown(config.control)
    return "\n".join(out) + "\n"


def _request_log(target: Path | None) -> list[str]:
    """The frontend's own log target, beside ``log global`` (which, with ``log_to_stderr``,
    only passes ``notice`` and worse: requests log at ``info``). ``format raw``: the line
    alone, no syslog header for the sink to skip."""
    if target is None:
        return []
    socket = tokens.unix_socket_path(target, "request log socket")
    return [
        f"    log {socket} format raw local0 info",
        f'    log-format "{request_log.LOG_FORMAT}"',
        # The PoPs' monitor checks are not users' requests: they stay out of the request
        # metrics and so out of every SLI.
        f"    http-request set-log-level silent if {{ {CHECK_REQUEST} }}",
    ]


def _ingress_backend(service: IngressService, balance: str, domain: str, check_map: Path | None) -> list[str]:
    _unique((tokens.object_name(i.name, "instance id") for i in service.instances), "instance")
    check = service.check
    out = [
        "",
        f"backend {service.name}",
        f"    balance {balance}",
        *_retry_policy("conn-failure empty-response", retries=3),
        f"    timeout check {tokens.duration(check.timeout, 'check timeout')}",
    ]
    if check.path is not None:
        # A proper HTTP/1.1 request: uvicorn and others answer 400 to one without Host.
        path = tokens.http_path(check.path, "readiness path")
        uri = f"uri {path}" if check_map is None else _mapped_uri("srv_name", check_map, path)
        out += [
            "    option httpchk",
            f"    http-check send meth GET {uri} ver HTTP/1.1 hdr Host {service_host(service.name, domain)} "
            f"{CHECK_HEADERS}",
        ]
    for instance in service.instances:
        address = tokens.endpoint(instance.host, instance.port, f"instance {instance.name}")
        out.append(f"    server {instance.name} {address} {' '.join(instance_options(check, instance))}")
    return out


def _render_edge(config: Edge) -> str:
    pop = tokens.dns_label(config.pop, "pop")
    domain = tokens.domain(config.domain)
    services = config.services
    _unique((tokens.dns_label(s.name) for s in services), "service")
    out = _global_and_defaults(config.control, config.timeouts)
    out += [
        "",
        f"frontend {FRONTEND}",
        f"    bind {config.bind.render()}",
        "    http-request set-var(txn.host) req.hdr(host),field(1,:),lower",
    ]
    for service in services:
        out.append(f"    acl host_{service.name} var(txn.host) -m str {service_host(service.name, domain)}")
    for service in services:
        if service.block_health_endpoint:
            # Public requests only: the backend's checks go straight to the pools.
            wanted = [service.monitor.path, *(p.monitor_path for p in service.pools if p.monitor_path)]
            checked = {tokens.http_path(path, "monitor path") for path in wanted}
            patterns = sorted({health_path_pattern(path) for path in checked})
            deny = f"http-request deny deny_status 404 if host_{service.name}"
            out.append(f"    {deny} {{ path,url_dec,lower -m reg {' '.join(patterns)} }}")
    for service in services:
        out.append(f"    use_backend {service.name} if host_{service.name}")
    out += [
        f"    default_backend {UNKNOWN_BACKEND}",
        f"    http-after-response set-header {POP_HEADER} {pop}",
    ]
    for service in services:
        out += _edge_backend(service, domain, config.monitor_map)
    out += _metrics_and_unknown(config.control)
    return "\n".join(out) + "\n"


def _edge_backend(service: EdgeService, domain: str, monitor_map: Path | None) -> list[str]:
    """One backend per service; servers are region pools in steering order.

    Zero failed idempotent requests when the serving region dies rests on four facts:

    1. HAProxy retries a request only within its backend, so every pool of a service
       (and its fallback) is a server of one backend.
    2. Only one pool should serve at a time, in order: the first pool is the one active
       server; the rest are ``backup`` servers. Without ``option allbackups`` HAProxy
       sends traffic to the first usable backup *in declaration order*, so the order of
       the lines is the failover order. Re-ordering (steering) is a reload.
    3. A retry can only reach a backup once the active server is *down*. ``observe
       layer4`` + ``error-limit 1`` + ``on-error mark-down`` marks a pool down on the very
       first failed connection to it, synchronously, before the retry picks a server;
       ``option redispatch 1`` makes every retry pick again, so it lands on the next pool.
       Health checks (``rise`` = consecutive_up) bring it back.
    4. ``retry-on conn-failure empty-response response-timeout`` covers a dead region
       (refused or timed-out connect), one dying mid-request (connection closed before a
       response) and one that stopped answering; ``disable-l7-retry`` keeps the last two
       to idempotent methods. ``retries`` leaves room to walk past every pool.

    The fallback server has no ``check``: it is always "up", so it serves once every
    checked pool is down, regardless of its health, and retries can reach it too.

    Measured cost (HAProxy 2.6.12): a retry after a refused connection waits the
    turn-around timer, min(``timeout connect``, 1 s), even when it is redispatched to
    another server, so the requests that find a region dead are served by the next pool
    about that much later; requests after the mark-down go straight to it. Requests over
    ``tune.bufsize`` (16 kB) are never replayed.
    """
    name = service.name
    if not service.pools:
        raise UnsafeValue(f"service {name}: no pools")
    regions = [tokens.region(p.region, f"service {name} pool region") for p in service.pools]
    _unique(regions, f"service {name}: pool")
    monitor = service.monitor
    host = service_host(name, domain)
    check = [
        "check",
        "inter",
        tokens.duration(monitor.interval, "monitor interval"),
        "rise",
        str(tokens.bounded_int(monitor.consecutive_up, 1, 100, "monitor consecutive_up")),
        "fall",
        str(tokens.bounded_int(monitor.consecutive_down, 1, 100, "monitor consecutive_down")),
    ]
    if monitor.fast_interval is not None:
        check += ["fastinter", tokens.duration(monitor.fast_interval, "monitor fast_interval")]
    if monitor.protocol == "https":
        check += ["check-ssl", "check-sni", host, "verify", "required", "ca-file", "@system-ca"]
    passive = ["observe", "layer4", "error-limit", "1", "on-error", "mark-down"]
    out = [
        "",
        f"backend {name}",
        "    balance roundrobin",
        *_retry_policy("conn-failure empty-response response-timeout", retries=max(3, len(regions) + 1)),
        f"    http-request set-header {SERVICE_HEADER} {name}",
        f"    http-response set-header {POOL_HEADER} %s",
        f"    timeout check {tokens.duration(monitor.timeout, 'monitor timeout')}",
    ]
    if monitor.protocol in ("http", "https"):
        path = tokens.http_path(monitor.path, "monitor path")
        out.append("    option httpchk")
        if monitor_map is None:
            uri = f"uri {path}"
        else:
            # Each pool is checked on the path of the revision its region serves.
            out += [
                "    http-check set-var(check.taxiway_pool) srv_name",
                "    http-check set-var(check.taxiway_pool) be_name,concat(/,check.taxiway_pool)",
            ]
            uri = _mapped_uri("var(check.taxiway_pool)", monitor_map, path)
        out += [
            f"    http-check send meth GET {uri} ver HTTP/1.1 hdr Host {host} hdr {SERVICE_HEADER} {name} "
            f"{CHECK_HEADERS}",
            f"    http-check expect status {tokens.expected_codes(monitor.expected_codes)}",
        ]
    elif monitor.protocol != "tcp":
        raise UnsafeValue(f"service {name}: monitor protocol {monitor.protocol!r} is not tcp, http or https")
    for index, pool in enumerate(service.pools):
        address = tokens.endpoint(pool.host, pool.port, f"service {name} pool {pool.region}")
        role = [] if index == 0 else ["backup"]
        out.append(f"    server {pool.region} {address} {' '.join(check + passive + role)}")
    if service.fallback is not None:
        fallback = service.fallback
        region = tokens.region(fallback.region, f"service {name} fallback region")
        address = tokens.endpoint(fallback.host, fallback.port, f"service {name} fallback")
        out.append(f"    server {FALLBACK_PREFIX}{region} {address} backup")
    return out

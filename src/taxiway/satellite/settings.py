"""The satellite's typed settings, and the checks that turn bad flags into clear errors.

Built once by ``taxiway satellite`` from its flags (or by a test directly) and passed to
every part of the satellite; nothing reads flags or the environment after that. The
bearer token is a field like any other but never appears in a ``repr`` or a log line.

The state directory holds everything the satellite keeps across restarts::

    <state_dir>/satellite.lock      one satellite per state directory (flock)
    <state_dir>/satellite.db        the local store: definitions, cursor, failed nodes
    <state_dir>/satellite.key       seals secret env values in that store (mode 0600)
    <state_dir>/artifacts/<hex>/    each artifact, extracted once, read-only by convention
                                    (in the tenant directory when instances are isolated)

The state directory and the artifacts are readable by the satellite's user only (0700;
the store and the key 0600): they hold sealed secrets and the services' code.
    <state_dir>/runtime/            the ``local`` driver's instances, logs and lock
    <state_dir>/ingress/            the region ingress HAProxy: config, sockets, pid, log, ports
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from taxiway.agent import settings as agent_settings
from taxiway.agent.agent_flags import parse_listen
from taxiway.errors import ConfigurationError
from taxiway.plan.haproxy import tokens
from taxiway.plan.haproxy.tokens import UnsafeValue
from taxiway.runtime import tenancy
from taxiway.satellite import bounded_server
from taxiway.spec import topology

DriverName = Literal["local", "fake"]


@dataclass(frozen=True, kw_only=True)
class SatelliteSettings(agent_settings.AgentSettings):
    """:class:`~taxiway.agent.settings.AgentSettings` (``listen_*``: the API; the bound port
    is what the status reports as ``api``) and what only a satellite has."""

    AGENT = "satellite"
    region: str
    api_limits: bounded_server.Limits = field(default_factory=bounded_server.Limits)
    """The API's worker pool, queue, connection bound and head and write timeouts."""
    driver: DriverName = "local"
    tick_seconds: float = 1.0
    """How often the supervisor observes every instance (and restarts what crashed)."""
    backoff_initial_seconds: float = 1.0
    """First restart delay of a crashed instance; doubles per crash in a row."""
    services_root: Path | None = None
    """Where services without an artifact live, as ``<services_root>/<service>``."""
    access_cache_seconds: float = 30.0
    instance_host: str = "127.0.0.1"
    """The address instances listen on (endpoints in the status)."""
    ingress: bool = True
    """Run the region ingress (HAProxy); off for the in-memory driver's tests and benchmarks."""
    ingress_host: str = "127.0.0.1"
    ingress_port: int = 0
    """``0``: a free port chosen once and kept in the state directory, so restarts keep it."""
    drain_grace_seconds: float = 30.0
    """Longest an instance drains (running requests finish) before it is stopped anyway."""
    ingress_check_interval: float = 1.0
    """How often the ingress checks each instance's readiness path itself."""
    isolation: bool = False
    """Run every instance as its service's own user (:mod:`taxiway.runtime.tenancy`); the
    ``taxiway satellite`` command turns it on whenever it runs as root."""
    tenant_dir: Path | None = None
    """Isolated instances' homes and artifacts; unset: :func:`tenancy.default_tenant_dir`."""
    users_file: Path | None = None
    """The dynamic users' registry, shared by every satellite of the machine; unset:
    ``users.json`` beside the tenant directories."""
    prometheus_dir: Path | None = None
    """Where the region's Prometheus reads its targets and rules (``--prometheus-dir``);
    ``None``: the satellite publishes none."""
    prometheus_url: str | None = None
    """That Prometheus, asked to reload when the rules change."""

    @property
    def database(self) -> Path:
        return self.state_dir / "satellite.db"

    @property
    def key_file(self) -> Path:
        return self.state_dir / "satellite.key"

    @property
    def tenants(self) -> Path:
        return self.tenant_dir or tenancy.default_tenant_dir(self.state_dir)

    @property
    def users_registry(self) -> Path:
        return self.users_file or self.tenants.parent / "users.json"

    @property
    def artifacts_dir(self) -> Path:
        if self.isolation:
            return self.tenants / tenancy.ARTIFACTS
        return self.state_dir / "artifacts"

    @property
    def runtime_dir(self) -> Path:
        return self.state_dir / "runtime"

    @property
    def ingress_dir(self) -> Path:
        return self.state_dir / "ingress"


def parse_ingress_listen(text: str) -> tuple[str, int]:
    """``--ingress-listen``: like ``--listen``, and the host must be a literal IP address
    (HAProxy would resolve a name once, at start)."""
    host, port = parse_listen(text, "--ingress-listen")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ConfigurationError(
            f"--ingress-listen {text!r}: the host must be an IP address, such as 127.0.0.1"
        ) from None
    return host, port


def domain(text: str) -> str:
    """``--domain``: a DNS name such as ``taxiway.test`` (lower case, no trailing dot)."""
    name = text.strip().lower().rstrip(".")
    try:
        return tokens.domain(name)
    except UnsafeValue:
        raise ConfigurationError(f"--domain {text!r}: expected a DNS name such as taxiway.test") from None


def region_of(topology_model: topology.Topology, name: str, source: str) -> topology.Region:
    """The satellite's region from the topology, or a clear error naming the ones there are."""
    found = topology_model.regions.get(name)
    if found is None:
        known = ", ".join(sorted(topology_model.regions)) or "none"
        raise ConfigurationError(f"region {name!r} is not in the topology {source}; its regions: {known}")
    return found

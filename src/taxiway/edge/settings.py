"""The edge process's typed settings, and the checks that turn bad flags into clear errors.

Built once by ``taxiway edge`` from its flags (or by a test directly) and passed to every
part of the edge; nothing reads flags or the environment after that. The bearer token is
a field like any other but never appears in a ``repr`` or a log line.

The state directory holds everything the edge keeps across restarts::

    <state_dir>/edge.lock          one edge per state directory (flock)
    <state_dir>/pop-config.json    the last config acknowledged, written before acting on it
    <state_dir>/edge.json          the addresses HAProxy listens on (a port chosen once stays)
    <state_dir>/haproxy/           the PoP's HAProxy: config, sockets, pid, log, server state
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from taxiway.agent import settings as agent_settings
from taxiway.errors import ConfigurationError
from taxiway.plan.edge import rtt
from taxiway.plan.haproxy import config
from taxiway.spec import topology

DEFAULT_DOMAIN = agent_settings.DEFAULT_DOMAIN
DEFAULT_RTT_ALPHA = 0.3


@dataclass(frozen=True, kw_only=True)
class EdgeSettings(agent_settings.AgentSettings):
    """:class:`~taxiway.agent.settings.AgentSettings` (``listen_*``: the PoP's traffic; port
    ``0``: a free port chosen at the first start and kept in ``edge.json`` after that) and
    what only an edge has."""

    AGENT = "edge"
    pop: str
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    """HAProxy's Prometheus exporter (``/metrics``); ``0`` as for ``listen_port``."""
    edge_metrics_host: str = "127.0.0.1"
    edge_metrics_port: int = 0
    """The edge process's own metrics (``/metrics``,
    :mod:`taxiway.observability.edge_metrics`); ``0`` as for ``listen_port``."""
    rtt_alpha: float = DEFAULT_RTT_ALPHA
    """Weight of the newest RTT sample in the moving average."""
    band: rtt.Band = field(default_factory=rtt.Band)
    """How much faster a pool must be to overtake the one ahead (every reorder is a reload)."""
    connect_timeout_seconds: float = 2.0
    """How long the PoP waits for a pool's TCP connect (a silent region's first requests)."""
    response_timeout_seconds: float = 30.0
    """How long the PoP waits for a pool to answer before an idempotent request is retried."""
    pool_addresses: Mapping[str, config.Endpoint] = field(default_factory=dict)
    """Per region, the address to reach its ingress at instead of the one the control plane
    gives (``--pool-address``; the dev world points these at its WAN emulator's links)."""

    def __post_init__(self) -> None:
        if not 0.0 < self.rtt_alpha <= 1.0:
            raise ConfigurationError(f"--rtt-alpha {self.rtt_alpha}: expected a weight in (0, 1]")

    @property
    def cache_file(self) -> Path:
        return self.state_dir / "pop-config.json"

    @property
    def listeners_file(self) -> Path:
        return self.state_dir / "edge.json"

    @property
    def haproxy_dir(self) -> Path:
        return self.state_dir / "haproxy"


def parse_pool_address(text: str) -> tuple[str, config.Endpoint]:
    """``--pool-address REGION=IP:PORT`` -> (region, endpoint); the host must be an IP literal."""
    region, equals, address = text.partition("=")
    host, colon, port_text = address.rpartition(":")
    host = host.strip("[]")
    problem = f"--pool-address {text!r}: expected REGION=IP:PORT, such as europe-west1=127.0.0.1:7801"
    if not equals or not region.strip() or not colon or not port_text.isdigit():
        raise ConfigurationError(problem)
    if not 0 < int(port_text) <= 65535:
        raise ConfigurationError(problem)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ConfigurationError(f"{problem} (the host must be an IP address)") from None
    return region.strip(), config.Endpoint(host, int(port_text))


def pop_of(topology_model: topology.Topology, name: str, source: str) -> topology.Pop:
    """The PoP from the topology, or a clear error naming the ones there are.

    Only the name is checked: steering never reads the topology's latency table.
    """
    for pop in topology_model.pops:
        if pop.name == name:
            return pop
    known = ", ".join(p.name for p in topology_model.pops) or "none"
    raise ConfigurationError(f"PoP {name!r} is not in the topology {source}; its PoPs: {known}")

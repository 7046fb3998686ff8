"""What every agent's settings say: the fields the satellite's and the edge's share.

:class:`AgentSettings` is the base of :class:`taxiway.satellite.settings.SatelliteSettings`
and :class:`taxiway.edge.settings.EdgeSettings`: where the control plane is and the token
to present to it, the state directory, where the agent listens, the domain its HAProxy
serves, and the timing of its long poll, retries and heartbeats. Every field is
keyword-only (so are the subclasses'), so adding one never shifts another. The bearer
token never appears in a ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

DEFAULT_DOMAIN = "taxiway.test"


@dataclass(frozen=True, kw_only=True)
class AgentSettings:
    AGENT: ClassVar[str] = "agent"
    """The kind of agent (``"satellite"``, ``"edge"``): names its lock file and its errors."""

    control_plane: str
    token: str = field(repr=False)
    state_dir: Path
    listen_host: str = "127.0.0.1"
    listen_port: int = 0
    """Where the agent serves (the satellite its API, the edge its PoP's traffic); ``0``:
    a free port (the edge keeps the one chosen at its first start)."""
    domain: str = DEFAULT_DOMAIN
    """Services answer at ``Host: <service>.<domain>`` (the region ingress, the PoP)."""
    poll_wait_seconds: float = 25.0
    """How long one long poll of the control plane may wait (the control plane caps it at 30)."""
    retry_initial_seconds: float = 0.25
    retry_max_seconds: float = 5.0
    """Cap on the wait between control-plane retries, so a restarted control plane is seen quickly."""
    report_every_seconds: float = 2.0
    """The status heartbeat's period (a change is reported at once)."""
    haproxy_binary: str = "haproxy"

    @property
    def lock_file(self) -> Path:
        """One agent per state directory (:mod:`taxiway.agent.state_lock`)."""
        return self.state_dir / f"{self.AGENT}.lock"

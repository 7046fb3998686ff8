"""What a dev world runs with: the settings ``dev up`` chooses and the supervisor reads.

``dev up`` writes them to ``DIR/world.json`` before it starts the supervisor, so the
supervisor (a separate, detached process) starts exactly the world ``dev up`` asked for,
and a later ``dev up`` resumes it with the same database and, while it is free, the same
control-plane port (satellites and clients keep their URL).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from taxiway.dev import private_file
from taxiway.errors import ConfigurationError

HOST = "127.0.0.1"
"""A dev world binds to loopback only."""
DOMAIN = "taxiway.test"
"""Services answer at the PoPs as ``<service>.taxiway.test`` (the Host header)."""


class SatelliteTiming(BaseModel):
    """Optional satellite timings (tests shorten them); ``None`` keeps the satellite's default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tick: float | None = Field(default=None, gt=0)
    report_every: float | None = Field(default=None, gt=0)
    backoff_initial: float | None = Field(default=None, gt=0)


class ObservabilityPorts(BaseModel):
    """The loopback ports of the world's observability units, chosen once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regions: dict[str, int]
    """Each region's Prometheus."""
    global_port: int = Field(ge=1, le=65535)
    alertmanager: int = Field(ge=1, le=65535)

    def prometheus_url(self, region: str | None) -> str:
        port = self.regions[region] if region is not None else self.global_port
        return f"http://{HOST}:{port}"

    @property
    def alertmanager_url(self) -> str:
        return f"http://{HOST}:{self.alertmanager}"

    def all(self) -> list[int]:
        return [*self.regions.values(), self.global_port, self.alertmanager]


class WorldSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    python: str = Field(description="The interpreter that runs the control plane and the satellites.")
    database: str
    topology: Path
    inventory: Path
    regions: tuple[str, ...]
    control_plane_port: int = Field(ge=1, le=65535)
    timing: SatelliteTiming = Field(default_factory=SatelliteTiming)
    pops: tuple[str, ...] = ()
    """The topology's edge PoPs: one ``taxiway edge`` each, reaching regions over the WAN emulator."""
    domain: str = DOMAIN
    wan_scale: float = Field(default=1.0, ge=0)
    """Multiplies the topology's PoP -> region delays (0: no delay)."""
    wan_ports: dict[str, dict[str, int]] = Field(default_factory=dict)
    """The WAN emulator's loopback port for each PoP -> region link, chosen once."""
    edge_ports: dict[str, tuple[int, int]] = Field(default_factory=dict)
    """Each PoP's public and metrics ports, chosen once (edges started together would
    otherwise pick the same free port: HAProxy binds with SO_REUSEPORT)."""
    observability: ObservabilityPorts | None = None
    """A Prometheus per region, a global one and an Alertmanager; ``None``: none run."""
    observability_interval: float = Field(default=2.0, gt=0)
    """Their scrape and rule evaluation interval, in seconds (short: a dev world is watched live)."""

    @property
    def control_plane_url(self) -> str:
        return f"http://{HOST}:{self.control_plane_port}"


def load(path: Path) -> WorldSettings | None:
    document = private_file.read_json(path)
    if document is None:
        return None
    try:
        return WorldSettings.model_validate(document)
    except ValueError as exc:
        raise ConfigurationError(f"{path}: not a dev world's settings ({exc})") from exc


def save(path: Path, settings: WorldSettings) -> None:
    private_file.write_json(path, settings.model_dump(mode="json"))


def redacted(database: str) -> str:
    """A database URL without its password, for messages and ``dev status``."""
    scheme, sep, rest = database.partition("://")
    if not sep or "@" not in rest:
        return database
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else database

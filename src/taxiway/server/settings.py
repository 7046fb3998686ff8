"""The control plane's settings: where its database, key and platform files are, where it listens.

Each setting comes from a flag of ``taxiway server`` or its environment variable
(``TAXIWAY_DATABASE_URL``, ``TAXIWAY_LISTEN``, ``TAXIWAY_KEY_FILE``, ``TAXIWAY_TOPOLOGY``,
``TAXIWAY_INVENTORY``, ``TAXIWAY_HEAD_TIMEOUT``, ``TAXIWAY_MAX_CONNECTIONS``,
``TAXIWAY_KEEP_REVISIONS``, ``TAXIWAY_ARTIFACT_QUOTA_MIB``), else the
default below. The data directory is
``$XDG_DATA_HOME/taxiway`` (``~/.local/share/taxiway``).
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from taxiway.errors import ConfigurationError
from taxiway.plan.retention import DEFAULT_POLICY, Policy

DEFAULT_PORT = 7700


def data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "taxiway"


def default_database() -> str:
    return f"sqlite:///{data_dir() / 'taxiway.db'}"


def default_key_file() -> Path:
    return data_dir() / "server.key"


@dataclass(frozen=True)
class Listen:
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Listen:
        """``HOST:PORT``, ``:PORT`` (loopback) or ``PORT``; IPv6 as ``[::1]:PORT``."""
        host, sep, port_text = text.rpartition(":")
        if not sep:
            host, port_text = "", text
        host = host.strip("[]") or "127.0.0.1"
        try:
            port = int(port_text)
        except ValueError:
            raise ConfigurationError(f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:7700") from None
        if not 0 <= port <= 65535:
            raise ConfigurationError(f"--listen {text!r}: the port must be 0-65535")
        return cls(host, port)

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


@dataclass(frozen=True)
class ConnectionLimits:
    """How long and how many connections the control plane keeps
    (:mod:`taxiway.server.connection_bounds`)."""

    head_timeout_seconds: float = 10.0
    """From a connection's opening, and from the end of each response, until the next
    request head must have arrived; a response (a long poll's 30 s too) is never timed."""
    keep_alive_seconds: int = 5
    """An idle keep-alive connection is closed after this long."""
    max_connections: int = 1000
    """Requests read while more connections are open are answered 503; past twice this, new
    connections are closed at once. Every satellite and edge holds one for its long poll."""

    def __post_init__(self) -> None:
        if not self.head_timeout_seconds > 0:
            raise ConfigurationError(f"--head-timeout {self.head_timeout_seconds}: expected seconds > 0")
        if self.keep_alive_seconds < 1:
            raise ConfigurationError(f"keep-alive timeout {self.keep_alive_seconds}: expected seconds ≥ 1")
        if self.max_connections < 1:
            raise ConfigurationError(f"--max-connections {self.max_connections}: expected a number ≥ 1")


@dataclass(frozen=True)
class ServerSettings:
    database: str
    topology: Path
    inventory: Path
    key_file: Path
    listen: Listen = Listen("127.0.0.1", DEFAULT_PORT)
    limits: ConnectionLimits = ConnectionLimits()
    retention: Policy = DEFAULT_POLICY
    """What each service keeps of its revisions and artifacts (:mod:`taxiway.plan.retention`)."""
    prometheus_dir: Path | None = None
    """Where the global Prometheus reads the targets and rules the control plane keeps."""
    prometheus_url: str | None = None
    """That Prometheus, asked to reload when the rules change."""

    def check_files(self) -> None:
        for what, path in (("topology", self.topology), ("inventory", self.inventory)):
            if not path.is_file():
                raise ConfigurationError(f"{what} file {path} does not exist")

"""Where one HAProxy's files live under its state directory.

The satellite (one ingress per region) and the edge process (one HAProxy per PoP) each
give an HAProxy a directory of its own; the config, both sockets, the pid file, the log
and the server-state file that reloads restore are always at the same names in it, so a
restarted Taxiway process finds a running HAProxy again. Pure: paths only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from taxiway.plan.haproxy import config


@dataclass(frozen=True)
class Layout:
    state_dir: Path

    @property
    def config_file(self) -> Path:
        return self.state_dir / "haproxy.cfg"

    @property
    def stats_socket(self) -> Path:
        """The worker's admin socket (the runtime API)."""
        return self.state_dir / "admin.sock"

    @property
    def master_socket(self) -> Path:
        """The master CLI: ``show proc`` tells reloads apart."""
        return self.state_dir / "master.sock"

    @property
    def server_state(self) -> Path:
        return self.state_dir / "server-state"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "haproxy.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "haproxy.log"

    def control(
        self,
        metrics: config.Endpoint | None = None,
        *,
        log_to_stderr: bool = False,
        hard_stop_after: float = 30.0,
    ) -> config.Control:
        """The :class:`~taxiway.plan.haproxy.config.Control` that points HAProxy at these files."""
        return config.Control(
            stats_socket=self.stats_socket,
            server_state_file=self.server_state,
            metrics=metrics,
            log_to_stderr=log_to_stderr,
            hard_stop_after=hard_stop_after,
        )

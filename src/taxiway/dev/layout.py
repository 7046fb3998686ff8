"""Where a dev world keeps its files: the one place that names every path under its directory.

Used by ``taxiway dev up|down|status``, by the supervisor, and by tests that need a pid::

    DIR/world.json            the settings ``dev up`` chose (port, database, files, timings)
    DIR/dev.json              what clients need (URL, admin token, regions), 0600, while up
    DIR/admin.token           the admin token ``server init`` created, 0600
    DIR/sealing.key           the control plane's sealing key, 0600
    DIR/taxiway.db            the default SQLite database
    DIR/tokens/<region>.token each satellite's own token, 0600
    DIR/tokens/edge-<pop>.token each edge PoP's own token, 0600
    DIR/tokens/metrics.token  the global Prometheus's token for the control plane's /metrics, 0600
    DIR/tokens/alerts.token   Alertmanager's token for the control plane's /v1/alerts, 0600
    DIR/observability/<region>/ each region's Prometheus: prometheus.yml, data/, and the
                              targets/ and rules/ its satellite keeps
    DIR/observability/global/ the global Prometheus (targets/ and rules/ kept by the control plane)
    DIR/observability/alertmanager/ Alertmanager: alertmanager.yml, data/
    DIR/regions/<region>/     each satellite's state directory (its cache and instances)
    DIR/users.json            the dynamic users isolated instances run as (satellites as root)
    $TMPDIR/taxiway-tenants/<id>/<region>/  isolated instances' homes and artifacts
    DIR/pops/<pop>/           each edge's state directory (its cached config, edge.json, HAProxy)
    DIR/wan.json              the WAN emulator's links (PoP -> region), written by the supervisor
    DIR/supervisor.pid        the running supervisor's pid, flocked for as long as it runs
    DIR/supervisor.json       the supervisor's and its children's pids, rewritten on every change
    DIR/up.lock               serialises ``dev up`` and ``dev down`` on one directory
    DIR/logs/<name>.log       each process's output (supervisor, control-plane,
                              satellite-<region>, edge-<pop>, wan)
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

CONTROL_PLANE = "control-plane"
SATELLITE_PREFIX = "satellite-"
EDGE_PREFIX = "edge-"
WAN = "wan"


def satellite_name(region: str) -> str:
    """The supervisor's name for a region's satellite (also its log file's stem)."""
    return f"{SATELLITE_PREFIX}{region}"


GLOBAL_PROMETHEUS = "prometheus-global"
ALERTMANAGER = "alertmanager"


def prometheus_name(region: str) -> str:
    """The supervisor's name for a region's Prometheus (also its log file's stem)."""
    return f"prometheus-{region}"


def edge_name(pop: str) -> str:
    """The supervisor's name for a PoP's edge (also its log file's and token's stem)."""
    return f"{EDGE_PREFIX}{pop}"


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def world_file(self) -> Path:
        return self.root / "world.json"

    @property
    def dev_file(self) -> Path:
        return self.root / "dev.json"

    @property
    def admin_token_file(self) -> Path:
        return self.root / "admin.token"

    @property
    def key_file(self) -> Path:
        return self.root / "sealing.key"

    @property
    def default_database(self) -> str:
        return f"sqlite:///{self.root / 'taxiway.db'}"

    @property
    def tokens_dir(self) -> Path:
        return self.root / "tokens"

    def token_file(self, region: str) -> Path:
        return self.tokens_dir / f"{region}.token"

    def edge_token_file(self, pop: str) -> Path:
        return self.tokens_dir / f"{edge_name(pop)}.token"

    @property
    def metrics_token_file(self) -> Path:
        return self.tokens_dir / "metrics.token"

    @property
    def alerts_token_file(self) -> Path:
        return self.tokens_dir / "alerts.token"

    @property
    def observability_dir(self) -> Path:
        return self.root / "observability"

    def prometheus_dir(self, region: str | None) -> Path:
        """A region's Prometheus directory, or the global one's (``None``)."""
        return self.observability_dir / (region if region is not None else "global")

    @property
    def alertmanager_dir(self) -> Path:
        return self.observability_dir / ALERTMANAGER

    @property
    def pops_dir(self) -> Path:
        return self.root / "pops"

    def pop_dir(self, pop: str) -> Path:
        return self.pops_dir / pop

    @property
    def wan_file(self) -> Path:
        return self.root / "wan.json"

    @property
    def regions_dir(self) -> Path:
        return self.root / "regions"

    def region_dir(self, region: str) -> Path:
        return self.regions_dir / region

    @property
    def tenants_root(self) -> Path:
        """Where isolated instances' homes and artifacts go, per region: outside ``DIR``
        (which is the platform's, 0700, and may sit under a directory other users cannot
        pass, such as ``/root``), under the temporary directory, named for ``DIR``."""
        tag = hashlib.sha256(os.fsencode(self.root.absolute())).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / "taxiway-tenants" / tag

    def tenant_dir(self, region: str) -> Path:
        return self.tenants_root / region

    @property
    def users_file(self) -> Path:
        """The world's dynamic users (one registry for all its satellites), 0600."""
        return self.root / "users.json"

    @property
    def pid_file(self) -> Path:
        return self.root / "supervisor.pid"

    @property
    def supervisor_file(self) -> Path:
        return self.root / "supervisor.json"

    @property
    def up_lock(self) -> Path:
        return self.root / "up.lock"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    def log_file(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    def is_world(self) -> bool:
        """Whether the directory holds a dev world (the guard before ``--purge`` deletes it)."""
        return self.world_file.is_file() or self.pid_file.is_file()

"""Running the control plane as a process, and setting one up (``server init``).

While it runs, the topology and inventory files are watched: a change (or SIGHUP) reloads
them without a restart (:mod:`taxiway.server.platform_files`); a bad file is logged with
its located problems and the previous one kept. Connections are bounded in time and number
(:mod:`taxiway.server.connection_bounds`).
"""

from __future__ import annotations

import logging
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from taxiway.errors import ConfigurationError
from taxiway.observability import prometheus_files
from taxiway.sealing.keys import Sealer
from taxiway.server import app as api
from taxiway.server import connection_bounds, platform_files, prometheus_publisher
from taxiway.server.settings import ServerSettings
from taxiway.spec import platform
from taxiway.store.sql import SqlStore
from taxiway.system import atomic_file

ACTOR = "system:server"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _log_to_stderr() -> None:
    """Taxiway's own log lines (reloads) beside uvicorn's, on stderr."""
    logger = logging.getLogger("taxiway")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _open(settings: ServerSettings) -> SqlStore:
    settings.check_files()
    topology = platform.load_topology(settings.topology)
    inventory = platform.load_inventory(settings.inventory, topology)
    store = SqlStore.open(settings.database)
    api.sync_platform(store, topology, inventory, ACTOR)
    return store


@dataclass(frozen=True)
class Initialised:
    token_file: Path
    key_file: Path
    key_created: bool


def init(
    settings: ServerSettings, token_file: Path, *, name: str = "admin", force: bool = False
) -> Initialised:
    """Migrate the database, load the platform files, make the sealing key if there is
    none, and write a new admin token to ``token_file`` (mode 0600; never printed)."""
    if token_file.exists() and not force:
        raise ConfigurationError(f"{token_file} exists; pass --force to write a new admin token over it")
    key_created = not settings.key_file.exists()
    Sealer.from_file(settings.key_file, create=True)
    store = _open(settings)
    try:
        token = store.create_token(name, "admin", actor=ACTOR)
    finally:
        store.close()
    token_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    atomic_file.write_text(token_file, token + "\n", mode=0o600)
    return Initialised(token_file, settings.key_file, key_created)


def run(settings: ServerSettings) -> None:
    """Serve the API until SIGTERM/SIGINT."""
    if not settings.key_file.exists():
        raise ConfigurationError(
            f"no key file at {settings.key_file}: run `taxiway server init` first "
            "(a new key would make the stored secrets unreadable, so the server never makes one itself)"
        )
    sealer = Sealer.from_file(settings.key_file)
    store = _open(settings)
    topology = platform.load_topology(settings.topology)
    inventory = platform.load_inventory(settings.inventory, topology)
    _log_to_stderr()
    files = platform_files.LivePlatform(
        topology, inventory, topology_path=settings.topology, inventory_path=settings.inventory
    )
    watcher = platform_files.Watcher(files, lambda: files.reload(store, ACTOR))
    if not settings.listen.loopback:
        print(
            f"warning: listening on {settings.listen.host}, not loopback: put TLS in front of it",
            file=sys.stderr,
        )
    config = uvicorn.Config(
        api.create_app(store, topology, inventory, sealer, files, settings.retention),
        host=settings.listen.host,
        port=settings.listen.port,
        log_level="info",
        lifespan="off",
        server_header=False,
        # uvicorn times no request head and answers its own 503 in plain text; the bounded
        # protocol does both (see connection_bounds), whatever parser uvicorn would pick.
        http=connection_bounds.protocol(settings.limits),
        timeout_keep_alive=settings.limits.keep_alive_seconds,
        # Satellites' long polls wait up to 30 s: do not let them hold a shutdown that long.
        timeout_graceful_shutdown=2,
    )
    previous = signal.signal(signal.SIGHUP, lambda _signum, _frame: watcher.poke())
    publisher = None
    if settings.prometheus_dir is not None:
        files_of_prometheus = prometheus_files.PrometheusFiles(
            settings.prometheus_dir, settings.prometheus_url
        )
        publisher = prometheus_publisher.GlobalPublisher(store, files_of_prometheus)
        publisher.start()
    watcher.start()
    try:
        uvicorn.Server(config).run()
    finally:
        if publisher is not None:
            publisher.stop()
        watcher.stop()
        signal.signal(signal.SIGHUP, previous)
        store.close()

"""The region ingress: one HAProxy per region, started or adopted by its satellite.

:class:`Ingress` is the real :class:`~taxiway.satellite.rotation.Dataplane`: the
satellite opens it at start, and the reconciler's :class:`~taxiway.satellite.rotation.Gate`
drives it on every tick through the runtime API (servers in and out, drains) and, when a
service's backend comes or goes, a hitless reload (:mod:`taxiway.haproxy.process`).

Like the instances, HAProxy runs detached, in a session of its own: it serves on when the
satellite stops, is killed or loses its control plane, and the next satellite on the same
state directory *adopts* it (the pid file names a live HAProxy on this directory's
config) without a reload, so its membership and connections are untouched. The satellite
never stops it; :func:`stop` is for ``taxiway dev down`` and tests. Everything lives in
``<state_dir>/ingress/``::

    haproxy.cfg  haproxy.pid  haproxy.log  server-state   see taxiway.haproxy.layout
    admin.sock   master.sock                              the runtime API and master CLI
    ports.json   the listen, metrics and request metrics addresses, chosen once
    shape.json   the backends (and checks) of the installed config
    checks.map   each server's check path: the readiness path of the revision it runs
    log.sock     the request log sink's datagram socket (beside the other two sockets)
    request-log-sink.pid  request-log-sink.log     the sink's process
    latency-thresholds.json  each service's latency SLO thresholds, for the sink

Beside HAProxy runs the request log sink (:mod:`taxiway.observability.request_log_sink`):
HAProxy sends it one line per request on ``log.sock``, and it serves the request counts
and latency histograms HAProxy's own exporter lacks on a third kept port. It is started,
adopted and left running exactly like HAProxy (:mod:`taxiway.observability.sink_process`);
every reconcile tick writes the services' latency thresholds (from their production
manifests' ``slos``) and starts it again should it have died.

Each instance is checked on its own revision's readiness path: the config looks the path
up by server name in ``checks.map`` (``uri-lf %[srv_name,map(...)]``), and a server's
entry is set through the runtime API before the server is added, and written to the file
for the next reload. So a deploy that changes the path, and then fails, leaves the old
revision's instances checked exactly as before.

``--ingress-listen HOST:PORT`` picks the address; with port ``0`` a free port is chosen
the first time and kept in ``ports.json``, so a restarted satellite (and the edges that
learned the address from its status) keep it. HAProxy's Prometheus exporter gets a port
the same way, on the same host. Unix socket paths are limited to 107 bytes: when the
state directory is too deep for that, the two sockets go to a private directory
``$TMPDIR/taxiway-<uid>/<hash of the ingress directory>/`` instead (:func:`layout_for`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from taxiway.errors import ConfigurationError, TaxiwayError
from taxiway.haproxy import layout, membership, process
from taxiway.haproxy.errors import HaproxyMissing
from taxiway.observability import sink_process
from taxiway.plan.haproxy import answers, config, tokens
from taxiway.plan.observability import latency_thresholds
from taxiway.satellite import rotation
from taxiway.satellite.settings import SatelliteSettings
from taxiway.system import atomic_file, environment, json_file, ports

log = logging.getLogger(__name__)

PORTS_FILE = "ports.json"
SHAPE_FILE = "shape.json"
CHECKS_FILE = "checks.map"
THRESHOLDS_FILE = "latency-thresholds.json"


# ---------------------------------------------------------------------------- files


@dataclass(frozen=True)
class IngressLayout(layout.Layout):
    """:class:`~taxiway.haproxy.layout.Layout` with the sockets possibly elsewhere."""

    socket_dir: Path | None = None

    @property
    def stats_socket(self) -> Path:
        return (self.socket_dir or self.state_dir) / "admin.sock"

    @property
    def master_socket(self) -> Path:
        return (self.socket_dir or self.state_dir) / "master.sock"

    @property
    def request_log_socket(self) -> Path:
        """Shorter than ``master.sock``: :func:`layout_for`'s length check covers it."""
        return (self.socket_dir or self.state_dir) / "log.sock"


def layout_for(state_dir: Path) -> IngressLayout:
    """Where the ingress of the satellite with this state directory keeps its files."""
    directory = state_dir / "ingress"
    if len(os.fsencode(directory / "master.sock")) <= tokens.UNIX_SOCKET_PATH_MAX:
        return IngressLayout(directory)
    return IngressLayout(directory, _private_socket_dir(directory))


def _private_socket_dir(directory: Path) -> Path:
    base = Path(tempfile.gettempdir()) / f"taxiway-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        base.mkdir(mode=0o700)
    info = os.lstat(base)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise ConfigurationError(
            f"{directory}: too deep for HAProxy's unix sockets, and {base} is not a private "
            "directory of this user to put them in; use a shorter --state-dir"
        )
    private = base / hashlib.sha256(os.fsencode(directory.absolute())).hexdigest()[:16]
    private.mkdir(mode=0o700, exist_ok=True)
    return private


def stop(state_dir: Path, *, graceful: bool = True) -> None:
    """Stop the ingress of the satellite with this state directory (``dev down``, tests)."""
    where = layout_for(state_dir)
    sink_process.SinkProcess(where.state_dir).stop()
    proxy = process.Haproxy(where)
    proxy.stop(graceful=graceful)
    if where.socket_dir is not None and not proxy.running():
        for leftover in (where.stats_socket, where.master_socket, where.request_log_socket):
            leftover.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            where.socket_dir.rmdir()


def _read_map(path: Path) -> dict[str, str]:
    """A map file written by :func:`taxiway.plan.haproxy.config.check_map_text` (missing: empty)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    return dict(line.split(" ", 1) for line in lines if " " in line)


# ---------------------------------------------------------------------------- ports


@dataclass(frozen=True)
class Ports:
    listen: config.Endpoint
    metrics: config.Endpoint
    request_metrics: config.Endpoint
    """The request log sink's ``/metrics``."""


def _endpoint(text: object) -> config.Endpoint | None:
    if not isinstance(text, str):
        return None
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    return config.Endpoint(host, int(port)) if host and port.isdigit() and 0 < int(port) < 65536 else None


def _text(endpoint: config.Endpoint) -> str:
    return (
        f"[{endpoint.host}]:{endpoint.port}" if ":" in endpoint.host else f"{endpoint.host}:{endpoint.port}"
    )


def choose_ports(directory: Path, host: str, port: int, *, in_use: bool) -> Ports:
    """The listen, metrics and request metrics addresses: ``port`` if given, else the
    ones kept in ``ports.json`` for this host, else free ones; kept for next time.
    ``in_use``: a running HAProxy holds them already, so they are not checked for being
    free (nor is the sink's, which is probed against the sink's own pid file)."""
    kept = json_file.read(directory / PORTS_FILE) or {}
    old_listen, old_metrics = _endpoint(kept.get("listen")), _endpoint(kept.get("metrics"))
    old_requests = _endpoint(kept.get("request_metrics"))
    if port:
        listen = config.Endpoint(host, port)
        if not in_use and not ports.bindable(host, port) and listen != old_listen:
            raise ConfigurationError(f"--ingress-listen {_text(listen)}: something else listens there")
    else:
        # A port kept from before that another program took meanwhile: choose again (the
        # status tells the edges the new address). An explicit port is the user's word.
        previous = old_listen.port if old_listen is not None and old_listen.host == host else None
        listen = config.Endpoint(host, ports.keep_or_pick(previous, host, ours=in_use))
        if previous is not None and listen.port != previous:
            log.warning("ingress port %d is taken now; choosing another", previous)
    previous = old_metrics.port if old_metrics is not None and old_metrics.host == host else None
    metrics = config.Endpoint(host, ports.keep_or_pick(previous, host, avoid={listen.port}, ours=in_use))
    previous = old_requests.port if old_requests is not None and old_requests.host == host else None
    sink_runs = sink_process.SinkProcess(directory).pid() is not None
    requests = config.Endpoint(
        host, ports.keep_or_pick(previous, host, avoid={listen.port, metrics.port}, ours=sink_runs)
    )
    chosen = Ports(listen, metrics, requests)
    if (old_listen, old_metrics, old_requests) != (listen, metrics, requests):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        document = {"listen": _text(listen), "metrics": _text(metrics), "request_metrics": _text(requests)}
        json_file.write(directory / PORTS_FILE, document)
    return chosen


def _url(endpoint: config.Endpoint) -> str:
    """A wildcard bind is reached through loopback on this machine."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(endpoint.host, endpoint.host)
    return f"http://[{host}]:{endpoint.port}" if ":" in host else f"http://{host}:{endpoint.port}"


def kept_metrics_url(state_dir: Path) -> str | None:
    """The metrics URL the ingress of a satellite's state directory keeps, read from its
    ``ports.json`` (for ``taxiway dev``: known with the satellite down too)."""
    metrics = _endpoint((json_file.read(state_dir / "ingress" / PORTS_FILE) or {}).get("metrics"))
    return _url(metrics) + "/metrics" if metrics is not None else None


def kept_request_metrics_url(state_dir: Path) -> str | None:
    """Like :func:`kept_metrics_url`, for the request log sink's series."""
    found = _endpoint((json_file.read(state_dir / "ingress" / PORTS_FILE) or {}).get("request_metrics"))
    return _url(found) + "/metrics" if found is not None else None


# ---------------------------------------------------------------------------- the ingress


class Ingress:
    """The region's HAProxy, as the :class:`~taxiway.satellite.rotation.Gate` drives it."""

    def __init__(self, settings: SatelliteSettings) -> None:
        self._settings = settings
        self.layout = layout_for(settings.state_dir)
        # All HAProxy sees of the satellite's environment: never its token.
        env = environment.passthrough()
        self.haproxy = process.Haproxy(self.layout, binary=settings.haproxy_binary, env=env)
        self.sink = sink_process.SinkProcess(self.layout.state_dir, env=env)
        self._thresholds: tuple[latency_thresholds.Thresholds, latency_thresholds.Revisions] | None = None
        self._ports: Ports | None = None
        self._paths: dict[str, str] | None = None
        """Server -> check path, as the running workers and ``checks.map`` hold them."""

    @property
    def ports(self) -> Ports:
        if self._ports is None:
            raise RuntimeError("the ingress is not open")
        return self._ports

    @property
    def url(self) -> str:
        return _url(self.ports.listen)

    @property
    def metrics_url(self) -> str:
        return _url(self.ports.metrics) + "/metrics"

    @property
    def request_metrics_url(self) -> str:
        return _url(self.ports.request_metrics) + "/metrics"

    def open(self) -> None:
        """Choose the ports, then adopt the HAProxy that runs for this directory or start
        one with no backends (the reconcile loop adds them). A missing ``haproxy`` binary
        or a taken ``--ingress-listen`` port is a configuration error; any other failure
        to start is logged and tried again by the loop."""
        settings = self._settings
        self.haproxy.executable()  # HaproxyMissing names the apt-get command
        pid = self.haproxy.master_pid()
        self._ports = choose_ports(
            self.layout.state_dir, settings.ingress_host, settings.ingress_port, in_use=pid is not None
        )
        # The sink first: lines HAProxy sends before its socket exists are dropped.
        self._ensure_sink()
        if pid is not None:
            log.info("adopted the ingress HAProxy (pid %d) at %s", pid, self.url)
            return
        try:
            self.install(())
        except HaproxyMissing:
            raise
        except TaxiwayError as exc:
            log.error("cannot start the ingress HAProxy: %s; the reconcile loop tries again", exc)
            return
        log.info("started the ingress HAProxy (pid %s) at %s", self.haproxy.master_pid(), self.url)

    def close(self) -> None:
        """The satellite stops: HAProxy serves on (reaped by a thread should it exit)."""
        self.haproxy.detach()
        self.sink.detach()

    # -- the request log sink

    @property
    def _thresholds_file(self) -> Path:
        return self.layout.state_dir / THRESHOLDS_FILE

    def _sink_flags(self) -> sink_process.SinkFlags:
        return sink_process.SinkFlags(
            socket=self.layout.request_log_socket,
            metrics_host=self.ports.request_metrics.host,
            metrics_port=self.ports.request_metrics.port,
            stats_socket=self.layout.stats_socket,
            thresholds_file=self._thresholds_file,
        )

    def _ensure_sink(self) -> None:
        """Adopt or start the sink; a failure is logged, and the next tick tries again."""
        try:
            if self.sink.ensure(self._sink_flags()):
                log.info(
                    "started the request log sink (pid %s) at %s", self.sink.pid(), self.request_metrics_url
                )
        except TaxiwayError as exc:
            log.error("cannot start the request log sink: %s; the reconcile loop tries again", exc)

    def request_metrics(
        self, thresholds: latency_thresholds.Thresholds, revisions: latency_thresholds.Revisions
    ) -> None:
        """Each reconcile tick: hand the sink the services' latency thresholds and the
        revisions they are to run (written only when they changed) and start it again
        should it have died."""
        if (thresholds, revisions) != self._thresholds:
            try:
                self.layout.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
                json_file.write(self._thresholds_file, latency_thresholds.document(thresholds, revisions))
            except OSError as exc:
                log.error("cannot write %s: %s; trying again next tick", self._thresholds_file, exc)
            else:
                self._thresholds = (thresholds, revisions)
        if self.sink.pid() is None:
            self._ensure_sink()

    def health(self) -> dict[str, Any]:
        pid = self.haproxy.master_pid()
        return {
            "ingress": self.url,
            "ingress_running": pid is not None,
            "ingress_pid": pid,
            "ingress_metrics": self.metrics_url,
            "ingress_request_metrics": self.request_metrics_url,
            "ingress_request_metrics_pid": self.sink.pid(),
        }

    # -- rotation.Dataplane

    def running(self) -> bool:
        return self.haproxy.running()

    def servers(self) -> rotation.Backends:
        api = self.haproxy.api
        rows = api.show_stat()
        states = api.show_servers_state()
        backends: dict[str, dict[str, rotation.Server]] = {
            row.proxy: {}
            for row in rows
            # Taxiway's own proxies have a '_' in their names, which no service can.
            if row.kind is answers.ProxyKind.BACKEND and "_" not in row.proxy
        }
        stats = {(row.proxy, row.name): row for row in rows if row.kind is answers.ProxyKind.SERVER}
        for state in states:
            members = backends.get(state.backend)
            if members is not None:
                row = stats.get((state.backend, state.server))
                members[state.server] = rotation.Server(
                    state.address,
                    state.port,
                    state.admin,
                    state.up,
                    row.current_sessions if row is not None else 0,
                    checked=row is not None and (row.check_passed or not row.check_status),
                )
        return backends

    def apply(self, backend: str, check: config.InstanceCheck, actions: Sequence[membership.Action]) -> None:
        if check.path is not None:
            for action in actions:
                if isinstance(action, membership.Add) and action.instance.check_path is not None:
                    self._set_path(action.instance.name, action.instance.check_path)
        membership.apply(self.haproxy.api, backend, check, actions)
        for action in actions:
            if isinstance(action, membership.Remove) and action.server in self._known_paths():
                self.haproxy.api.del_map_entry(self._checks_file, action.server)
                del self._known_paths()[action.server]
                self._save_paths()

    # -- check paths

    @property
    def _checks_file(self) -> Path:
        return self.layout.state_dir / CHECKS_FILE

    def _known_paths(self) -> dict[str, str]:
        if self._paths is None:
            self._paths = _read_map(self._checks_file)
        return self._paths

    def _save_paths(self) -> None:
        text = config.check_map_text(self._known_paths())
        atomic_file.write_text(self._checks_file, text)

    def _set_path(self, server: str, path: str) -> None:
        """Before the server is added, so its very first check asks for its own path."""
        known = self._known_paths()
        if known.get(server) == path:
            return
        self.haproxy.api.set_map_entry(self._checks_file, server, path, new=server not in known)
        known[server] = path
        self._save_paths()

    def reloading(self) -> bool:
        return bool(self.haproxy.processes().old_workers)

    def _header(self) -> dict[str, Any]:
        settings = self._settings
        return {
            "region": settings.region,
            "domain": settings.domain,
            "listen": _text(self.ports.listen),
            "metrics": _text(self.ports.metrics),
        }

    def shape(self) -> rotation.Shape | None:
        document = json_file.read(self.layout.state_dir / SHAPE_FILE)
        if document is None or document.get("header") != self._header():
            return None
        try:
            return tuple((str(name), config.InstanceCheck(**check)) for name, check in document["services"])
        except (KeyError, TypeError, ValueError):
            return None

    def install(self, services: Sequence[config.IngressService]) -> None:
        settings = self._settings
        known = self._known_paths()
        # Servers carried over from the running config keep the path they are checked on.
        services = [
            replace(
                service,
                instances=tuple(
                    replace(i, check_path=i.check_path or known.get(i.name)) for i in service.instances
                ),
            )
            for service in services
        ]
        ingress = config.Ingress(
            region=settings.region,
            domain=settings.domain,
            bind=self.ports.listen,
            control=self.layout.control(self.ports.metrics),
            services=tuple(services),
            check_map=self._checks_file,
            request_log=self.layout.request_log_socket,
        )
        text = config.render(ingress)
        self.layout.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        previous = dict(known)
        self._paths = config.check_paths(ingress)
        self._save_paths()
        try:
            self.haproxy.apply(text)
        except TaxiwayError:
            # The running workers keep the old entries; so must the file they reload from.
            self._paths = previous
            self._save_paths()
            raise
        json_file.write(
            self.layout.state_dir / SHAPE_FILE,
            {"header": self._header(), "services": [[s.name, asdict(s.check)] for s in services]},
        )

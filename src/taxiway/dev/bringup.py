"""``taxiway dev up``: make a dev world's directory, set it up once, start its supervisor, wait.

Called by :mod:`taxiway.cli.dev_commands`. The steps, each safe to repeat:

1. create ``DIR`` (0700); under ``DIR/up.lock``, stop what a crashed supervisor left
   running (by pid and start time), then read or choose the world's settings:
   the database (SQLite under ``DIR`` unless ``--database``), the platform files, and a
   loopback port for the control plane (the previous one while it is free);
2. on the first up only, ``taxiway server init`` (database, sealing key, admin token);
3. start the supervisor (:mod:`taxiway.dev.supervisor`) detached, unless one runs;
4. wait, up to a deadline, until the control plane answers, every region's satellite
   has reported (with its ingress address) since this up began, and every PoP's edge
   answers on its public port; then write ``DIR/dev.json`` (0600), the file the CLI
   finds the dev world's control plane and token in, and where the PoPs' URLs are.

A world that is up already keeps running: ``up`` says so, answers its ``dev.json``, and
has its control plane reload the platform files (:mod:`taxiway.dev.platform_refresh`),
noting what it did.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from taxiway.client import http
from taxiway.dev import edges, launch, pidlock, platform_refresh, private_file, provisioning, readiness
from taxiway.dev import layout as paths
from taxiway.dev import observability_units as units
from taxiway.dev import settings as world_settings
from taxiway.dev import supervisor as world_supervisor
from taxiway.errors import ConfigurationError, TaxiwayError, TransientError
from taxiway.satellite import ingress
from taxiway.spec import platform
from taxiway.system import ports

POLL_SECONDS = 0.2
Progress = Callable[[str], None]


class NotUp(TransientError):
    """The world did not come up before the deadline (its processes are left running)."""

    code = "dev-not-up"


@dataclass(frozen=True)
class UpOptions:
    directory: Path
    topology: Path
    inventory: Path
    database: str | None = None
    timeout_seconds: float = 90.0
    timing: world_settings.SatelliteTiming = field(default_factory=world_settings.SatelliteTiming)
    wan_scale: float = 1.0
    """Multiplies the topology's PoP -> region delays on the WAN emulator's links."""
    observability: bool = True
    """Run a Prometheus per region, a global one and an Alertmanager."""


@dataclass(frozen=True)
class UpResult:
    already_up: bool
    dev: dict[str, Any]
    """The ``dev.json`` document (with the admin token)."""
    notes: tuple[str, ...] = ()
    """What ``up`` did to a world that was up already (reloaded its files, or why not)."""


def up(options: UpOptions, progress: Progress) -> UpResult:
    layout = paths.Layout(options.directory.resolve())
    layout.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    layout.root.chmod(0o700)
    layout.logs_dir.mkdir(mode=0o700, exist_ok=True)
    with pidlock.exclusive(layout.up_lock):
        current = private_file.read_json(layout.dev_file)
        if pidlock.is_held(layout.pid_file) and current is not None:
            settings = world_settings.load(layout.world_file)
            if settings is not None and readiness.healthy(settings.control_plane_url):
                notes = platform_refresh.apply(layout, settings, options.topology, options.inventory)
                return UpResult(already_up=True, dev=current, notes=tuple(notes))
        if not pidlock.is_held(layout.pid_file):
            world_supervisor.stop_leftovers(layout, world_supervisor.STOP_GRACE_SECONDS, progress)
        settings = _settings(options, layout)
        if not layout.admin_token_file.is_file():
            database = world_settings.redacted(settings.database)
            progress(f"setting up the control plane's database ({database})")
            provisioning.init_control_plane(settings, layout)
        since: datetime | None = None
        spawned: int | None = None
        if pidlock.is_held(layout.pid_file):
            progress("a supervisor runs already; waiting for its world")
        else:
            layout.dev_file.unlink(missing_ok=True)
            world_settings.save(layout.world_file, settings)
            units.write_configs(settings, layout)
            # A second of slack: the control plane's clock is this machine's, but its
            # timestamps may be truncated.
            since = datetime.now(UTC) - timedelta(seconds=1)
            spawned = launch.supervisor(settings.python, layout)
            progress(f"started the supervisor (pid {spawned}); logs in {layout.logs_dir}")
        settings = world_settings.load(layout.world_file) or settings
        probe = _wait(settings, layout, since, spawned, options.timeout_seconds, progress)
        dev = _dev_document(settings, layout, probe)
        private_file.write_json(layout.dev_file, dev)
        return UpResult(already_up=False, dev=dev)


def _settings(options: UpOptions, layout: paths.Layout) -> world_settings.WorldSettings:
    topology_path, inventory_path = options.topology.resolve(), options.inventory.resolve()
    topology = platform.load_topology(topology_path)
    platform.load_inventory(inventory_path, topology)  # located problems now, not in a child's log
    previous = world_settings.load(layout.world_file)
    database = options.database or (previous.database if previous else layout.default_database)
    if previous is not None and options.database and options.database != previous.database:
        other = world_settings.redacted(previous.database)
        raise ConfigurationError(
            f"{layout.root} is a dev world on another database ({other}); "
            "use another --dir, or `taxiway dev down --purge` first"
        )
    if pidlock.is_held(layout.pid_file) and previous is not None:
        return previous
    pops = tuple(pop.name for pop in topology.pops)
    wan_ports, edge_ports = _pop_ports(layout, previous, pops, tuple(topology.regions))
    observability = (
        _observability_ports(previous, tuple(topology.regions), avoid=_pop_ports_taken(edge_ports, wan_ports))
        if options.observability
        else None
    )
    return world_settings.WorldSettings(
        pops=pops,
        observability=observability,
        wan_scale=options.wan_scale,
        wan_ports=wan_ports,
        edge_ports=edge_ports,
        python=sys.executable,
        database=database,
        topology=topology_path,
        inventory=inventory_path,
        regions=tuple(topology.regions),
        control_plane_port=ports.keep_or_pick(
            previous.control_plane_port if previous else None, world_settings.HOST
        ),
        timing=options.timing,
    )


def _pop_ports(
    layout: paths.Layout,
    previous: world_settings.WorldSettings | None,
    pops: tuple[str, ...],
    regions: tuple[str, ...],
) -> tuple[dict[str, dict[str, int]], dict[str, tuple[int, int]]]:
    """A loopback port per PoP -> region WAN link, and each PoP's public and metrics
    ports: the previous ones while every one of them is free (or held by that PoP's own
    HAProxy, which the new edge adopts), else all chosen anew."""
    if previous is not None:
        wan_kept = [previous.wan_ports.get(pop, {}).get(region) for pop in pops for region in regions]
        edge_kept = [
            port
            for pop in pops
            if not edges.running(layout.pop_dir(pop))
            for port in previous.edge_ports.get(pop, (None, None))
        ]
        kept = [*wan_kept, *edge_kept]
        if all(pop in previous.edge_ports for pop in pops) and all(
            port is not None and ports.bindable(world_settings.HOST, port) for port in kept
        ):
            return (
                {pop: {region: previous.wan_ports[pop][region] for region in regions} for pop in pops},
                {pop: previous.edge_ports[pop] for pop in pops},
            )
    chosen = iter(ports.free_many([world_settings.HOST] * (len(pops) * (len(regions) + 2))))
    wan_ports = {pop: {region: next(chosen) for region in regions} for pop in pops}
    edge_ports = {pop: (next(chosen), next(chosen)) for pop in pops}
    return wan_ports, edge_ports


def _pop_ports_taken(
    edge_ports: dict[str, tuple[int, int]], wan_ports: dict[str, dict[str, int]]
) -> list[int]:
    """The ports chosen for the PoPs and the WAN links, which nothing else may take."""
    return [
        *(p for pair in edge_ports.values() for p in pair),
        *(p for m in wan_ports.values() for p in m.values()),
    ]


def _observability_ports(
    previous: world_settings.WorldSettings | None, regions: tuple[str, ...], avoid: list[int]
) -> world_settings.ObservabilityPorts:
    """The previous ports while every one is free (the units stopped with the world),
    else all chosen anew."""
    kept = previous.observability if previous is not None else None
    if (
        kept is not None
        and set(kept.regions) == set(regions)
        and all(ports.bindable(world_settings.HOST, port) and port not in avoid for port in kept.all())
    ):
        return kept
    chosen = [
        p for p in ports.free_many([world_settings.HOST] * (len(regions) + 2 + len(avoid))) if p not in avoid
    ]
    return world_settings.ObservabilityPorts(
        regions=dict(zip(regions, chosen, strict=False)),
        global_port=chosen[len(regions)],
        alertmanager=chosen[len(regions) + 1],
    )


def _edge_address(layout: paths.Layout, pop: str, key: str) -> str | None:
    url = (private_file.read_json(layout.pop_dir(pop) / "edge.json") or {}).get(key)
    return url if isinstance(url, str) else None


def pop_url(layout: paths.Layout, pop: str) -> str | None:
    """The PoP's public URL, as its edge wrote it to ``edge.json``; ``None`` before that."""
    return _edge_address(layout, pop, "url")


def pop_metrics_url(layout: paths.Layout, pop: str) -> str | None:
    """The PoP HAProxy's Prometheus exporter, from ``edge.json``; ``None`` before that."""
    return _edge_address(layout, pop, "metrics_url")


def ingress_metrics_url(layout: paths.Layout, region: str) -> str | None:
    """The region ingress HAProxy's Prometheus exporter, as its satellite keeps it."""
    return ingress.kept_metrics_url(layout.region_dir(region))


def _pop_answers(layout: paths.Layout, pop: str) -> bool:
    url = pop_url(layout, pop)
    if url is None:
        return False
    try:
        with http.translated("GET /", f"PoP {pop} at {url}"):
            httpx.get(url + "/", timeout=1.0, trust_env=False)
    except TaxiwayError:
        return False
    return True


def _wait(
    settings: world_settings.WorldSettings,
    layout: paths.Layout,
    since: datetime | None,
    spawned: int | None,
    timeout: float,
    progress: Progress,
) -> readiness.Probe:
    token = provisioning.admin_token(layout)
    deadline = time.monotonic() + timeout
    announced: set[str] = set()
    while True:
        status = launch.exited(spawned) if spawned is not None else None
        if status is not None:
            tail = "\n  ".join(launch.log_tail(layout.log_file("supervisor")))
            raise ConfigurationError(f"the dev world's supervisor exited with status {status}:\n  {tail}")
        probe = readiness.probe(settings.control_plane_url, token)
        if probe.control_plane and "" not in announced:
            announced.add("")
            progress(f"control plane answers at {settings.control_plane_url}")
        for region in settings.regions:
            if region not in announced and probe.reported(region, since) and _ingress(probe, region):
                announced.add(region)
                progress(f"satellite {region} reported (ingress {_ingress(probe, region)})")
        for pop in settings.pops:
            if paths.edge_name(pop) not in announced and _pop_answers(layout, pop):
                announced.add(paths.edge_name(pop))
                progress(f"edge {pop} answers at {pop_url(layout, pop)}")
        for name, url in units.endpoints(settings):
            if name not in announced and units.ready(url):
                announced.add(name)
                progress(f"{name} ready at {url}")
        if (
            probe.all_reported(settings.regions, since)
            and all(_ingress(probe, region) for region in settings.regions)
            and all(paths.edge_name(pop) in announced for pop in settings.pops)
            and all(name in announced for name, _ in units.endpoints(settings))
        ):
            return probe
        if time.monotonic() >= deadline:
            raise NotUp(_not_up_message(settings, layout, probe, since, timeout))
        time.sleep(POLL_SECONDS)  # polling separate processes for a condition, with a deadline


def _ingress(probe: readiness.Probe, region: str) -> str | None:
    seen = probe.regions.get(region)
    return seen.ingress if seen is not None else None


def _not_up_message(
    settings: world_settings.WorldSettings,
    layout: paths.Layout,
    probe: readiness.Probe,
    since: datetime | None,
    timeout: float,
) -> str:
    waiting = [] if probe.control_plane else [paths.CONTROL_PLANE]
    waiting += [
        paths.satellite_name(r)
        for r in settings.regions
        if not probe.reported(r, since) or not _ingress(probe, r)
    ]
    waiting += [paths.edge_name(pop) for pop in settings.pops if not _pop_answers(layout, pop)]
    waiting += [name for name, url in units.endpoints(settings) if not units.ready(url)]
    lines = [f"the dev world did not come up within {timeout:.0f}s; still waiting for: {', '.join(waiting)}"]
    for name in waiting:
        tail = launch.log_tail(layout.log_file(name), 5)
        if tail:
            lines.append(f"{layout.log_file(name)} ends with:")
            lines.extend(f"  {line}" for line in tail)
    lines.append("it is left running: `taxiway dev status` to look, `taxiway dev down` to stop it")
    return "\n".join(lines)


def _dev_document(
    settings: world_settings.WorldSettings, layout: paths.Layout, probe: readiness.Probe
) -> dict[str, Any]:
    supervised = private_file.read_json(layout.supervisor_file) or {}
    records = supervised.get("children") or {}
    regions = {}
    for region in settings.regions:
        seen = probe.regions.get(region)
        record = records.get(paths.satellite_name(region)) or {}
        regions[region] = {
            "satellite_api": seen.api if seen else None,
            "ingress": seen.ingress if seen else None,
            "ingress_metrics": ingress_metrics_url(layout, region),
            "prometheus": settings.observability.prometheus_url(region) if settings.observability else None,
            "state_dir": str(layout.region_dir(region)),
            "pid": record.get("pid"),
            "log": str(layout.log_file(paths.satellite_name(region))),
        }
    return {
        "version": 1,
        "dir": str(layout.root),
        "control_plane": settings.control_plane_url,
        "token": provisioning.admin_token(layout),
        "topology": str(settings.topology),
        "inventory": str(settings.inventory),
        "database": settings.database,
        "regions": regions,
        "domain": settings.domain,
        "pops": {pop: pop_url(layout, pop) for pop in settings.pops},
        "pop_metrics": {pop: pop_metrics_url(layout, pop) for pop in settings.pops},
        **units.urls(settings),
        "wan_scale": settings.wan_scale,
        "control_plane_pid": (records.get(paths.CONTROL_PLANE) or {}).get("pid"),
        "supervisor_pid": (supervised.get("supervisor") or {}).get("pid"),
        "logs": str(layout.logs_dir),
        "up_since": datetime.now(UTC).isoformat(timespec="seconds"),
    }

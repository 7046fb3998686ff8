"""``taxiway dev up|down|status``: the development world on one machine.

A control plane, one satellite per topology region, one edge per PoP and a WAN emulator
between them (``taxiway dev wan``, hidden; development only), each its own OS process,
kept running by a detached supervisor (``taxiway dev supervise``, hidden), all on loopback.
The work is in :mod:`taxiway.dev`; this module parses options and prints.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from taxiway.cli import consoles
from taxiway.client import config
from taxiway.dev import layout as paths
from taxiway.dev import settings as world_settings
from taxiway.errors import ConfigurationError

out = consoles.stdout()
err = consoles.stderr()

dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="The dev world's directory [default: $TAXIWAY_DEV_DIR, else $XDG_STATE_HOME/taxiway/dev].",
)


def _directory(directory: Path | None) -> Path:
    return directory if directory is not None else config.default_dev_dir()


@click.group()
def dev() -> None:
    """Run a control plane, one satellite per region and one edge per PoP on this machine.

    `dev up` starts the world (with an emulated WAN between PoPs and regions) and waits
    until every region has reported and every PoP answers; `dev down` stops it and every
    instance and HAProxy it runs (the database stays, so `up` resumes it).
    """


@dev.command()
@dir_option
@click.option(
    "--topology",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("examples/topology.yaml"),
    envvar="TAXIWAY_TOPOLOGY",
    show_default=True,
    help="Topology file: one satellite per region, one edge per PoP [env TAXIWAY_TOPOLOGY].",
)
@click.option(
    "--inventory",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("examples/inventory.yaml"),
    envvar="TAXIWAY_INVENTORY",
    show_default=True,
    help="Inventory file [env TAXIWAY_INVENTORY].",
)
@click.option("--database", help="Database URL [default: a SQLite file in the dev directory].")
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=90.0,
    show_default=True,
    help="Seconds to wait for every region to report.",
)
@click.option(
    "--wan-scale",
    type=click.FloatRange(min=0.0),
    default=1.0,
    show_default=True,
    help="Scale of the topology's PoP-to-region delays on the emulated WAN (0: no delay).",
)
@click.option(
    "--observability/--no-observability",
    default=True,
    show_default=True,
    help="Run a Prometheus per region, a global Prometheus and an Alertmanager.",
)
@click.option("--json", "as_json", is_flag=True, help="Print dev.json (without the token) as JSON.")
@click.option("--tick", type=click.FloatRange(min=0.01), hidden=True)
@click.option("--report-every", type=click.FloatRange(min=0.01), hidden=True)
@click.option("--backoff-initial", type=click.FloatRange(min=0.01), hidden=True)
def up(
    directory: Path | None,
    topology: Path,
    inventory: Path,
    database: str | None,
    timeout: float,
    wan_scale: float,
    observability: bool,
    as_json: bool,
    tick: float | None,
    report_every: float | None,
    backoff_initial: float | None,
) -> None:
    """Start the dev world (or say it is up already) and wait until every region reports
    and every PoP answers."""
    for path, what in ((topology, "topology"), (inventory, "inventory")):
        if not path.is_file():
            raise ConfigurationError(f"no {what} file {path}: pass --{what} FILE (e.g. examples/{what}.yaml)")
    from taxiway.dev import bringup  # each command loads what it runs: every CLI start pays for imports

    options = bringup.UpOptions(
        directory=_directory(directory),
        topology=topology,
        inventory=inventory,
        database=database,
        timeout_seconds=timeout,
        wan_scale=wan_scale,
        observability=observability,
        timing=world_settings.SatelliteTiming(
            tick=tick, report_every=report_every, backoff_initial=backoff_initial
        ),
    )
    result = bringup.up(options, lambda line: err.print(f"[dim]…[/] {line}"))
    public = {key: value for key, value in result.dev.items() if key != "token"}
    if as_json:
        document = {"already_up": result.already_up, "notes": list(result.notes), **public}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    _print_summary(result.dev, result.already_up, directory is not None)
    for note in result.notes:
        err.print(f"note: {note}")


def _print_summary(dev_doc: dict[str, Any], already_up: bool, explicit_dir: bool) -> None:
    root = dev_doc.get("dir")
    headline = "is up already" if already_up else "is up"
    out.print(f"[green]✓[/] dev world {headline} in {root}")
    out.print(f"  control plane   {dev_doc.get('control_plane')}  (pid {dev_doc.get('control_plane_pid')})")
    for name, region in (dev_doc.get("regions") or {}).items():
        out.print(
            f"  {name:<15} satellite pid {region.get('pid')}  api {region.get('satellite_api')}"
            f"  ingress {region.get('ingress')}"
        )
    domain = dev_doc.get("domain")
    for name, url in (dev_doc.get("pops") or {}).items():
        out.print(f"  PoP {name:<11} {url}  (Host: <service>.{domain}; WAN scale {dev_doc.get('wan_scale')})")
    for name, region in (dev_doc.get("regions") or {}).items():
        if region.get("prometheus"):
            out.print(f"  Prometheus {name:<4} {region['prometheus']}")
    if dev_doc.get("prometheus"):
        out.print(f"  Prometheus global {dev_doc['prometheus'].get('global')}")
        out.print(f"  Alertmanager    {dev_doc.get('alertmanager')}")
    out.print(f"  logs            {dev_doc.get('logs')}")
    out.print("\nThe CLI finds this world by itself (its URL and admin token are in dev.json). Try:")
    if explicit_dir:
        out.print(f"  export TAXIWAY_DEV_DIR={root}")
    out.print("  taxiway deploy examples/hello --env production")
    out.print("  taxiway status hello")
    pops = dev_doc.get("pops") or {}
    if pops:
        name, url = next(iter(pops.items()))
        out.print(f"  curl -si -H 'Host: hello.{dev_doc.get('domain')}' {url}/   # through PoP {name}")
    out.print("  taxiway dev down")


@dev.command()
@dir_option
@click.option("--purge", is_flag=True, help="Delete the directory too (database, tokens, logs).")
def down(directory: Path | None, purge: bool) -> None:
    """Stop the dev world: supervisor, control plane, satellites, edges, HAProxies, instances."""
    root = _directory(directory)
    from taxiway.dev import teardown

    result = teardown.down(root, purge=purge)
    if result.left_behind:
        raise ConfigurationError(f"could not stop processes {list(result.left_behind)}; see `ps -p`")
    if not result.was_running:
        out.print(f"dev world in {root} was not running")
    else:
        out.print(
            f"[green]✓[/] dev world in {root} stopped "
            f"({len(result.stopped_processes)} processes, {len(result.stopped_instances)} instances)"
        )
    if result.purged:
        out.print(f"  deleted {root}")
    elif root.is_dir():
        out.print("  its database stays: `taxiway dev up` resumes it, `dev down --purge` deletes it")


@dev.command()
@dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(directory: Path | None, as_json: bool) -> None:
    """Show which of the dev world's processes run, and when each satellite last reported."""
    from taxiway.dev import status_report

    document = status_report.report(_directory(directory))
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    if document["state"] == "absent":
        out.print(f"no dev world in {document['dir']}: `taxiway dev up` starts one")
        return
    colour = {"up": "green", "down": "dim", "degraded": "yellow"}[document["state"]]
    out.print(f"dev world in {document['dir']}: [{colour}]{document['state']}[/]")
    supervisor = document["supervisor"]
    out.print(f"  supervisor      {_up(supervisor)}  pid {supervisor['pid']}")
    plane = document["control_plane"]
    cp_child = document["children"].get(paths.CONTROL_PLANE, {})
    answering = "answering" if plane["answering"] else "not answering"
    out.print(f"  control plane   {_up(cp_child)}  pid {cp_child.get('pid')}  ", end="")
    out.print(f"{plane['url']} ({answering})")
    for name, region in document["regions"].items():
        seen = region["last_seen_seconds_ago"]
        seen_text = f"last seen {seen}s ago" if seen is not None else "never seen"
        child = document["children"].get(paths.satellite_name(name), {})
        out.print(
            f"  {name:<15} {_up(child)}  pid {region['satellite_pid']}  "
            f"{seen_text}  {region['instance_processes']} instance processes  "
            f"ingress {region['ingress'] or '-'} (metrics {region.get('ingress_metrics') or '-'})"
        )
    for name, pop in document.get("pops", {}).items():
        child = document["children"].get(paths.edge_name(name), {})
        out.print(
            f"  PoP {name:<11} {_up(child)}  pid {child.get('pid')}  {pop['url'] or '-'} "
            f"(metrics {pop.get('metrics') or '-'})  {pop['haproxy_processes']} HAProxy processes"
        )
    for name, unit in (document.get("observability") or {}).items():
        child = document["children"].get(name, {})
        out.print(f"  {name:<15} {_up(child)}  pid {child.get('pid')}  {unit['url']} ({unit['state']})")
    if paths.WAN in document["children"]:
        wan_child = document["children"][paths.WAN]
        out.print(
            f"  WAN emulator    {_up(wan_child)}  pid {wan_child.get('pid')}  "
            f"{document.get('wan_links', 0)} links, scale {document.get('wan_scale')}"
        )


def _up(record: dict[str, Any]) -> str:
    if record.get("running"):
        return "[green]running   [/]"
    if record.get("state") == "waiting":
        return "[yellow]restarting[/]"
    return "[red]stopped   [/]"


@dev.command(hidden=True)
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path))
def supervise(directory: Path) -> None:
    """Run the dev world's supervisor in the foreground (`dev up` starts it detached)."""
    layout = paths.Layout(directory.resolve())
    settings = world_settings.load(layout.world_file)
    if settings is None:
        raise ConfigurationError(f"{layout.world_file} is missing: start the world with `taxiway dev up`")
    from taxiway.dev import pidlock
    from taxiway.dev import supervisor as world_supervisor

    try:
        world_supervisor.serve(settings, layout)
    except pidlock.AlreadyRunning as exc:
        err.print(f"a supervisor runs already for {layout.root} (pid {exc.pid})")


@dev.command(hidden=True)
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path))
def wan(directory: Path) -> None:
    """Run the dev world's WAN emulator (development only; the supervisor starts it)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from taxiway.dev import wan_process

    wan_process.serve(paths.Layout(directory.resolve()).wan_file)

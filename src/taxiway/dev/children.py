"""The processes a dev world's supervisor runs: their names and command lines, as data.

Pure: the supervisor starts what this module describes. The control plane comes first;
each region's satellite and each PoP's edge needs its token file, which the supervisor
provisions once the control plane answers. With PoPs in the topology, the WAN emulator
(development only, :mod:`taxiway.dev.wan_process`) runs too, and each edge reaches each
region through the emulator's link for that pair (``--pool-address``). Everything is
``python -m taxiway.cli.main ...`` with the same interpreter as ``dev up``: the world
runs the code of the checkout that started it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from taxiway.dev import layout as paths
from taxiway.dev import observability_units as units
from taxiway.dev.settings import HOST, WorldSettings


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: tuple[str, ...]
    region: str | None = None
    """The satellite's region; ``None`` for the other children."""
    pop: str | None = None
    """The edge's PoP; ``None`` for the other children."""
    needs: Path | None = None
    """A file that must exist before the child may start (a satellite's token)."""


def _taxiway(settings: WorldSettings, *args: str) -> tuple[str, ...]:
    return (settings.python, "-m", "taxiway.cli.main", *args)


def control_plane(settings: WorldSettings, layout: paths.Layout) -> ChildSpec:
    return ChildSpec(
        name=paths.CONTROL_PLANE,
        argv=_taxiway(
            settings,
            "server",
            "--database",
            settings.database,
            "--listen",
            f"{HOST}:{settings.control_plane_port}",
            "--topology",
            str(settings.topology),
            "--inventory",
            str(settings.inventory),
            "--key-file",
            str(layout.key_file),
            *_prometheus_flags(settings, layout, None),
        ),
    )


def _prometheus_flags(settings: WorldSettings, layout: paths.Layout, region: str | None) -> tuple[str, ...]:
    """Where the satellite (or, for ``None``, the control plane) keeps its Prometheus's files."""
    if settings.observability is None:
        return ()
    return (
        "--prometheus-dir",
        str(layout.prometheus_dir(region)),
        "--prometheus-url",
        settings.observability.prometheus_url(region),
    )


def satellite(settings: WorldSettings, layout: paths.Layout, region: str) -> ChildSpec:
    argv = [
        "satellite",
        "--region",
        region,
        "--control-plane",
        settings.control_plane_url,
        "--token-file",
        str(layout.token_file(region)),
        "--state-dir",
        str(layout.region_dir(region)),
        "--topology",
        str(settings.topology),
        "--listen",
        f"{HOST}:0",
        "--tenant-dir",
        str(layout.tenant_dir(region)),
        "--users-file",
        str(layout.users_file),
        *_prometheus_flags(settings, layout, region),
    ]
    timing = settings.timing
    for flag, value in (
        ("--tick", timing.tick),
        ("--report-every", timing.report_every),
        ("--backoff-initial", timing.backoff_initial),
    ):
        if value is not None:
            argv += [flag, repr(value)]
    return ChildSpec(
        name=paths.satellite_name(region),
        argv=_taxiway(settings, *argv),
        region=region,
        needs=layout.token_file(region),
    )


def wan(settings: WorldSettings, layout: paths.Layout) -> ChildSpec:
    return ChildSpec(name=paths.WAN, argv=_taxiway(settings, "dev", "wan", "--dir", str(layout.root)))


def edge(settings: WorldSettings, layout: paths.Layout, pop: str) -> ChildSpec:
    argv = [
        "edge",
        "--pop",
        pop,
        "--control-plane",
        settings.control_plane_url,
        "--token-file",
        str(layout.edge_token_file(pop)),
        "--state-dir",
        str(layout.pop_dir(pop)),
        "--topology",
        str(settings.topology),
        "--domain",
        settings.domain,
    ]
    listen, metrics = settings.edge_ports.get(pop, (0, 0))
    argv += ["--listen", f"{HOST}:{listen}", "--metrics-listen", f"{HOST}:{metrics}"]
    for region, port in settings.wan_ports.get(pop, {}).items():
        argv += ["--pool-address", f"{region}={HOST}:{port}"]
    return ChildSpec(
        name=paths.edge_name(pop),
        argv=_taxiway(settings, *argv),
        pop=pop,
        needs=layout.edge_token_file(pop),
    )


def observability(settings: WorldSettings, layout: paths.Layout) -> list[ChildSpec]:
    """A Prometheus per region, the global one (it needs the ``metrics`` token) and the
    Alertmanager (the ``alerts`` token), when the world runs them."""
    if settings.observability is None:
        return []
    return [
        *(
            ChildSpec(name=paths.prometheus_name(r), argv=units.prometheus_argv(settings, layout, r))
            for r in settings.regions
        ),
        ChildSpec(
            name=paths.GLOBAL_PROMETHEUS,
            argv=units.prometheus_argv(settings, layout, None),
            needs=layout.metrics_token_file,
        ),
        ChildSpec(
            name=paths.ALERTMANAGER,
            argv=units.alertmanager_argv(settings, layout),
            needs=layout.alerts_token_file,
        ),
    ]


def all_children(settings: WorldSettings, layout: paths.Layout) -> Sequence[ChildSpec]:
    """The control plane, one satellite per region, then (with PoPs) the WAN emulator and
    one edge per PoP, in topology order, then the observability units."""
    specs = [control_plane(settings, layout), *(satellite(settings, layout, r) for r in settings.regions)]
    if settings.pops:
        specs += [wan(settings, layout), *(edge(settings, layout, pop) for pop in settings.pops)]
    return [*specs, *observability(settings, layout)]

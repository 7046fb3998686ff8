"""``taxiway observability config``: what a platform's own Prometheus should load.

For a region (``--region R``) or the global Prometheus (``--global``), it writes
``DIR/prometheus.yml`` — scrape jobs whose targets are the files the region's satellite
(``taxiway satellite --prometheus-dir DIR``) or the control plane (``taxiway server
--prometheus-dir DIR``) keeps in ``DIR/targets/``, the rule files in ``DIR/rules/``, the
Alertmanagers, and for a region the remote write of its request series to the global
Prometheus — and, unless ``--no-rules``, the SLO rule files of the services that run there
now, read from the control plane (the satellite or control plane keeps them current from
then on). It prints how to start Prometheus on it.
"""

from __future__ import annotations

from pathlib import Path

import click

from taxiway.cli import consoles, remote
from taxiway.client import desired
from taxiway.client.http import ControlPlane
from taxiway.errors import ConfigurationError
from taxiway.observability.prometheus_files import PrometheusFiles
from taxiway.plan import regional
from taxiway.plan.observability import prometheus_config, service_rules
from taxiway.spec import units
from taxiway.spec.manifest import ENVIRONMENTS
from taxiway.system import atomic_file

out = consoles.stdout()
err = consoles.stderr()


@click.group()
def observability() -> None:
    """Configuration for the platform's own Prometheus servers (one per region, one global)."""


def _running(cp: ControlPlane) -> list[regional.RegionalDefinition]:
    """Every regional definition that runs now, in every environment."""
    found = []
    for entry in cp.get("/v1/services"):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            continue
        for environment in ENVIRONMENTS:
            now = desired.deployed(cp, name, environment)
            if now is not None:
                found += now.definitions
    return found


@observability.command("config")
@click.option("--region", metavar="REGION", help="Configure this region's Prometheus.")
@click.option("--global", "is_global", is_flag=True, help="Configure the global Prometheus.")
@click.option(
    "--dir",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The directory the satellite (or control plane) keeps targets/ and rules/ in: its --prometheus-dir.",
)
@click.option(
    "--alertmanager", "alertmanagers", multiple=True, metavar="HOST:PORT", help="An Alertmanager (repeat)."
)
@click.option("--remote-write", metavar="URL", help="A region's: the global Prometheus's /api/v1/write URL.")
@click.option(
    "--control-plane", "control_plane_address", metavar="HOST:PORT", help="The global's: scrape it."
)
@click.option(
    "--metrics-token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The global's: a file holding a metrics-scope token for the control plane's /metrics.",
)
@click.option("--interval", default="15s", show_default=True, help="Scrape and rule evaluation interval.")
@click.option(
    "--rules/--no-rules", default=True, show_default=True, help="Write the SLO rule files of what runs now."
)
@remote.connection_options
def config_command(
    region: str | None,
    is_global: bool,
    directory: Path,
    alertmanagers: tuple[str, ...],
    remote_write: str | None,
    control_plane_address: str | None,
    metrics_token_file: Path | None,
    interval: str,
    rules: bool,
    url: str | None,
    token_file: Path | None,
) -> None:
    """Write DIR/prometheus.yml (and DIR/rules/) for a region's or the global Prometheus."""
    if (region is None) == (not is_global):
        raise click.UsageError("pass one of --region REGION or --global")
    try:
        seconds = units.parse_duration(interval)
    except ValueError as exc:
        raise click.BadParameter(f"{interval!r}: {exc}", param_hint="--interval") from None
    timing = prometheus_config.Timing(scrape_interval=seconds, evaluation_interval=seconds)
    directory = directory.absolute()
    if is_global:
        if (control_plane_address is None) != (metrics_token_file is None):
            raise click.UsageError("--control-plane and --metrics-token-file go together")
        cp_target = (
            prometheus_config.ControlPlaneTarget(control_plane_address, metrics_token_file.absolute())
            if control_plane_address is not None and metrics_token_file is not None
            else None
        )
        document = prometheus_config.global_(
            prometheus_config.Global(directory, alertmanagers, control_plane=cp_target, timing=timing)
        )
    else:
        assert region is not None
        if control_plane_address or metrics_token_file:
            raise click.UsageError("--control-plane and --metrics-token-file are for --global")
        document = prometheus_config.regional(
            prometheus_config.Regional(
                region, directory, alertmanagers, remote_write=remote_write, timing=timing
            )
        )
    files: dict[str, str] | None = None
    if rules:  # asked first: a control plane that cannot answer leaves nothing written
        try:
            with remote._connect(url, token_file) as (cp, _connection):
                running = _running(cp)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{exc}; or pass --no-rules") from exc
        if is_global:
            files = service_rules.global_(running)
        else:
            files = service_rules.regional([d for d in running if d.region == region])
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "prometheus.yml"
    atomic_file.write_text(target, prometheus_config.render(document), mode=0o644)
    out.print(f"wrote {target}")
    if files is not None:
        PrometheusFiles(directory).publish({}, files)
        out.print(f"wrote {len(files)} rule files in {directory / prometheus_config.RULES_DIR}")
    receiver = " --web.enable-remote-write-receiver" if is_global else ""
    out.print(f"start it with: prometheus --config.file={target} --web.enable-lifecycle{receiver}")
    keeper = "taxiway server" if is_global else f"taxiway satellite --region {region}"
    out.print(f"and keep its targets and rules current with: {keeper} --prometheus-dir {directory}")

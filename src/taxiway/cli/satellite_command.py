"""``taxiway satellite --region R``: run one region's satellite until SIGTERM or SIGINT.

Builds typed settings from the flags (the token from ``--token-file`` or
``$TAXIWAY_TOKEN``, never from argv), checks them (unknown region, unreadable token file
or topology: a clear error and exit 1), then runs :class:`taxiway.satellite.app.Satellite`.
On SIGTERM or SIGINT the satellite stops its own threads and exits 0; the instances and
the region ingress (HAProxy) keep running, and a satellite started later re-adopts them.
Logs go to stderr, one line per event, never a secret.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from taxiway.agent import agent_flags, agent_token
from taxiway.cli import agent_options, agent_process, platform_files
from taxiway.runtime import tenancy
from taxiway.satellite import app, runtimes
from taxiway.satellite import settings as satellite_settings


@click.command()
@click.option("--region", required=True, help="The region this satellite runs.")
@agent_options.control_plane_and_state(
    token_help="File holding the satellite's bearer token [else env TAXIWAY_TOKEN].",
    state_dir_help="Where the satellite keeps its store, key, artifacts and instances.",
)
@click.option(
    "--listen", default="127.0.0.1:0", show_default=True, metavar="HOST:PORT", help="Satellite API."
)
@click.option(
    "--ingress-listen",
    "ingress_listen",
    default="127.0.0.1:0",
    show_default=True,
    metavar="HOST:PORT",
    help="The region ingress (HAProxy); port 0: choose one once and keep it in the state dir.",
)
@click.option(
    "--domain",
    default="taxiway.test",
    show_default=True,
    help="The ingress routes Host <service>.<domain> to the service's production instances.",
)
@click.option(
    "--ingress/--no-ingress",
    "run_ingress",
    default=True,
    show_default=True,
    help="Run the region ingress (off: instances only, e.g. with --driver fake).",
)
@click.option(
    "--drain-grace",
    type=click.FloatRange(min=0.0),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="Longest an instance drains from the ingress before it is stopped anyway.",
)
@click.option(
    "--driver",
    type=click.Choice(["local", "fake"]),
    default="local",
    show_default=True,
    help="Runtime driver (fake: in memory, for tests and benchmarks).",
)
@click.option(
    "--services-root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Services without an artifact run from DIR/<service>.",
)
@click.option(
    "--tick",
    type=click.FloatRange(min=0.0, min_open=True),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="How often every instance is observed (and a crash noticed).",
)
@agent_options.report_every("Status heartbeat period (a change is reported at once).")
@click.option(
    "--backoff-initial",
    type=click.FloatRange(min=0.0),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="First restart delay of a crashed instance (doubles per crash in a row).",
)
@agent_options.poll_wait("Longest wait of one long poll of the definitions feed.")
@click.option(
    "--isolation",
    type=click.Choice(["auto", "user", "none"]),
    default="auto",
    show_default=True,
    help="user: every instance runs as its service's own dynamic user (needs root); "
    "auto: user when run as root; none: as the satellite's user (instances can read its files).",
)
@click.option(
    "--tenant-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Isolated instances' homes and artifacts [default: /var/lib/taxiway/tenants/<id>].",
)
@click.option(
    "--users-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Registry of dynamic users, shared by every satellite on this machine "
    "[default: users.json beside the tenant directory].",
)
@agent_options.prometheus("the region's")
def satellite(
    region: str,
    control_plane: str,
    token_file: Path | None,
    state_dir: Path,
    topology: Path | None,
    listen: str,
    ingress_listen: str,
    domain: str,
    run_ingress: bool,
    drain_grace: float,
    driver: str,
    services_root: Path | None,
    tick: float,
    report_every: float,
    backoff_initial: float,
    poll_wait: float,
    isolation: str,
    tenant_dir: Path | None,
    users_file: Path | None,
    prometheus_dir: Path | None,
    prometheus_url: str | None,
) -> None:
    """Run one region's satellite: pull its definitions, keep them running, report status.

    Stops on SIGTERM or SIGINT; the instances keep running and are re-adopted by the
    next satellite started with the same --state-dir.
    """
    files = platform_files.load(topology, None)
    topology_model = files.require_topology()
    source = str(platform_files.resolve(topology, "TAXIWAY_TOPOLOGY", "topology"))
    region_model = satellite_settings.region_of(topology_model, region, source)
    host, port = agent_flags.parse_listen(listen)
    ingress_host, ingress_port = satellite_settings.parse_ingress_listen(ingress_listen)
    settings = satellite_settings.SatelliteSettings(
        region=region,
        control_plane=agent_flags.control_plane_url(control_plane),
        token=agent_token.read(token_file),
        state_dir=state_dir.resolve(),
        listen_host=host,
        listen_port=port,
        driver="fake" if driver == "fake" else "local",
        tick_seconds=tick,
        report_every_seconds=report_every,
        backoff_initial_seconds=backoff_initial,
        services_root=services_root.resolve() if services_root else None,
        poll_wait_seconds=poll_wait,
        ingress=run_ingress,
        ingress_host=ingress_host,
        ingress_port=ingress_port,
        domain=satellite_settings.domain(domain),
        drain_grace_seconds=drain_grace,
        isolation=driver != "fake" and tenancy.effective_isolation(isolation),
        tenant_dir=tenant_dir.absolute() if tenant_dir else None,
        users_file=users_file.absolute() if users_file else None,
        prometheus_dir=prometheus_dir.absolute() if prometheus_dir else None,
        prometheus_url=prometheus_url,
    )
    if not settings.isolation and driver != "fake":
        logging.getLogger(__name__).warning(
            "instances run as this satellite's user and can read its files; "
            "run the satellite as root to isolate them (--isolation user)"
        )
    agent_process.run(
        lambda: app.Satellite(settings, region_model, runtimes.build(settings)),
        stopping="stopping the satellite",
        log=logging.getLogger(__name__),
    )

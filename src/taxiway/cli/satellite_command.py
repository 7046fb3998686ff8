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
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from taxiway.cli import platform_files
from taxiway.satellite import app, runtimes
from taxiway.satellite import settings as satellite_settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # One line per request at INFO would drown the satellite's own events.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@click.command()
@click.option("--region", required=True, help="The region this satellite runs.")
@click.option("--control-plane", "control_plane", required=True, metavar="URL", help="Control plane URL.")
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File holding the satellite's bearer token [else env TAXIWAY_TOKEN].",
)
@click.option(
    "--state-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the satellite keeps its store, key, artifacts and instances.",
)
@click.option(
    "--topology",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Topology file [env TAXIWAY_TOPOLOGY, or 'topology:' in the platform config].",
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
@click.option(
    "--report-every",
    type=click.FloatRange(min=0.0, min_open=True),
    default=2.0,
    show_default=True,
    metavar="SECONDS",
    help="Status heartbeat period (a change is reported at once).",
)
@click.option(
    "--backoff-initial",
    type=click.FloatRange(min=0.0),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="First restart delay of a crashed instance (doubles per crash in a row).",
)
@click.option(
    "--poll-wait",
    type=click.FloatRange(min=0.0, max=30.0),
    default=25.0,
    show_default=True,
    metavar="SECONDS",
    help="Longest wait of one long poll of the definitions feed.",
)
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
) -> None:
    """Run one region's satellite: pull its definitions, keep them running, report status.

    Stops on SIGTERM or SIGINT; the instances keep running and are re-adopted by the
    next satellite started with the same --state-dir.
    """
    files = platform_files.load(topology, None)
    topology_model = files.require_topology()
    source = str(platform_files.resolve(topology, "TAXIWAY_TOPOLOGY", "topology"))
    region_model = satellite_settings.region_of(topology_model, region, source)
    host, port = satellite_settings.parse_listen(listen)
    ingress_host, ingress_port = satellite_settings.parse_ingress_listen(ingress_listen)
    settings = satellite_settings.SatelliteSettings(
        region=region,
        control_plane=satellite_settings.control_plane_url(control_plane),
        token=satellite_settings.read_token(token_file),
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
    )
    _configure_logging()
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("%s: stopping the satellite", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    running = app.Satellite(settings, region_model, runtimes.build(settings))
    try:
        running.start()
        while not stop.wait(0.5):  # a bounded wait, so the signal handler runs promptly
            pass
    finally:
        running.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

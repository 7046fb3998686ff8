"""``taxiway ingress-log-sink``: run a region ingress's request log sink until SIGTERM or SIGINT.

The satellite starts it beside its ingress HAProxy (:mod:`taxiway.observability.sink_process`);
a platform may run it on its own too. It reads HAProxy's request lines on ``--socket``
and serves the request counts and latency histograms at ``http://--metrics/metrics``
(:mod:`taxiway.observability.request_log_sink`). Bad flags: a clear error, exit 1.
The satellite runs this module itself (``python -m``, :func:`run_alone`): the whole CLI's
imports take seconds on a busy machine, and a satellite waits for its sink to answer.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from taxiway.agent import agent_flags
from taxiway.cli import agent_process
from taxiway.errors import TaxiwayError
from taxiway.observability import request_log_sink


@click.command(name="ingress-log-sink")
@click.option(
    "--socket",
    "socket_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The unix datagram socket to create and read (HAProxy's request log target).",
)
@click.option(
    "--metrics",
    default="127.0.0.1:0",
    show_default=True,
    metavar="HOST:PORT",
    help="Where /metrics listens (loopback only).",
)
@click.option(
    "--stats-socket",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="HAProxy's admin socket: its DroppedLogs become the dropped-lines counter.",
)
@click.option(
    "--buckets",
    "buckets_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="JSON file of each service's latency SLO thresholds (re-read when it changes).",
)
def ingress_log_sink(
    socket_path: Path, metrics: str, stats_socket: Path | None, buckets_file: Path | None
) -> None:
    """Count the ingress's requests from its log lines and expose them for Prometheus."""
    host, port = agent_flags.parse_listen(metrics, "--metrics")
    settings = request_log_sink.SinkSettings(
        socket=socket_path.absolute(),
        metrics_host=host,
        metrics_port=port,
        stats_socket=stats_socket.absolute() if stats_socket is not None else None,
        thresholds_file=buckets_file.absolute() if buckets_file is not None else None,
    )
    agent_process.run(
        lambda: request_log_sink.Sink(settings),
        stopping="stopping the request log sink",
        log=logging.getLogger(__name__),
    )


def run_alone() -> None:
    """The command alone (``python -m taxiway.cli.ingress_log_sink_command FLAGS``)."""
    try:
        ingress_log_sink.main(standalone_mode=False)
    except TaxiwayError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show(file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    run_alone()

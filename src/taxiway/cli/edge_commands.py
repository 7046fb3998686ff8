"""``taxiway edge --pop P`` (run one PoP) and ``taxiway glb status`` (what every PoP sees).

``edge`` builds typed settings from its flags (the token from ``--token-file`` or
``$TAXIWAY_TOKEN``, never from argv; the PoP checked against the topology, whose latency
table it never reads), then runs :class:`taxiway.edge.app.Edge` until SIGTERM or SIGINT.
On either it stops its own threads and exits 0; HAProxy keeps serving, and an edge
started later with the same ``--state-dir`` adopts it. Logs go to stderr, never a secret.

``glb status`` asks the control plane (found like every remote command's, see
:mod:`taxiway.client.config`) for each PoP's last report and prints, per service and
PoP, the pools in the order the PoP uses them with health, measured RTT and which one
serves now; ``--json`` prints the same for machines.
"""

from __future__ import annotations

import datetime
import itertools
import logging
from collections.abc import Sequence
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from taxiway.agent import agent_flags, agent_token
from taxiway.cli import agent_options, agent_process, consoles, platform_files, remote, table_view
from taxiway.client import glb as glb_client
from taxiway.edge import app
from taxiway.edge import settings as edge_settings

out = consoles.stdout()


@click.command()
@click.option("--pop", required=True, help="The PoP this edge runs (a PoP of the topology).")
@agent_options.control_plane_and_state(
    token_help="File holding the PoP's edge token [else env TAXIWAY_TOKEN].",
    state_dir_help="Where the edge keeps its cached config, its ports and its HAProxy (keep the path short).",
)
@click.option(
    "--listen",
    default="127.0.0.1:0",
    show_default=True,
    metavar="HOST:PORT",
    help="Public HTTP frontend; port 0 picks one once and keeps it in the state dir (edge.json).",
)
@click.option(
    "--domain",
    default=edge_settings.DEFAULT_DOMAIN,
    show_default=True,
    help="Services answer at <service>.<domain> (the Host header).",
)
@click.option(
    "--metrics-listen",
    default="127.0.0.1:0",
    show_default=True,
    metavar="HOST:PORT",
    help="HAProxy's Prometheus exporter (/metrics); port 0 as for --listen.",
)
@click.option(
    "--edge-metrics-listen",
    default="127.0.0.1:0",
    show_default=True,
    metavar="HOST:PORT",
    help="The edge process's own metrics (/metrics); port 0 as for --listen.",
)
@click.option(
    "--rtt-alpha",
    type=click.FloatRange(min=0.0, max=1.0, min_open=True),
    default=edge_settings.DEFAULT_RTT_ALPHA,
    show_default=True,
    help="Weight of the newest check duration in each pool's RTT moving average.",
)
@agent_options.report_every("Status heartbeat period (a change of serving pool is reported at once).")
@agent_options.poll_wait("Longest wait of one long poll of the PoP's config.")
@click.option(
    "--response-timeout",
    type=click.FloatRange(min=0.001),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="How long a pool may take to answer before an idempotent request is retried elsewhere.",
)
@click.option(
    "--pool-address",
    "pool_addresses",
    multiple=True,
    metavar="REGION=IP:PORT",
    help="Reach REGION's ingress at this address instead of the control plane's (repeatable).",
)
def edge(
    pop: str,
    control_plane: str,
    token_file: Path | None,
    state_dir: Path,
    topology: Path | None,
    listen: str,
    domain: str,
    metrics_listen: str,
    edge_metrics_listen: str,
    rtt_alpha: float,
    report_every: float,
    poll_wait: float,
    response_timeout: float,
    pool_addresses: tuple[str, ...],
) -> None:
    """Run one edge PoP: pull its load-balancing config, steer, and keep HAProxy serving it.

    Stops on SIGTERM or SIGINT; HAProxy keeps serving and is adopted by the next edge
    started with the same --state-dir, which routes from its cached config even while the
    control plane is away.
    """
    files = platform_files.load(topology, None)
    topology_model = files.require_topology()
    source = str(platform_files.resolve(topology, "TAXIWAY_TOPOLOGY", "topology"))
    edge_settings.pop_of(topology_model, pop, source)
    listen_host, listen_port = agent_flags.parse_listen(listen)
    metrics_host, metrics_port = agent_flags.parse_listen(metrics_listen, "--metrics-listen")
    own_host, own_port = agent_flags.parse_listen(edge_metrics_listen, "--edge-metrics-listen")
    overrides = dict(edge_settings.parse_pool_address(text) for text in pool_addresses)
    settings = edge_settings.EdgeSettings(
        pop=pop,
        control_plane=agent_flags.control_plane_url(control_plane),
        token=agent_token.read(token_file),
        state_dir=state_dir.resolve(),
        listen_host=listen_host,
        listen_port=listen_port,
        metrics_host=metrics_host,
        metrics_port=metrics_port,
        edge_metrics_host=own_host,
        edge_metrics_port=own_port,
        domain=domain,
        rtt_alpha=rtt_alpha,
        report_every_seconds=report_every,
        poll_wait_seconds=poll_wait,
        response_timeout_seconds=response_timeout,
        pool_addresses=overrides,
    )
    agent_process.run(
        lambda: app.Edge(settings),
        stopping="stopping the edge; HAProxy keeps serving",
        log=logging.getLogger(__name__),
    )


# ---------------------------------------------------------------------------- glb status


@click.group()
def glb() -> None:
    """Global load balancing: what each edge PoP does with each service's regions."""


def _rtt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _health(pool: glb_client.Pool) -> str:
    word = "up" if pool.healthy else "down"
    if pool.status and pool.status.upper() not in ("UP", "DOWN"):
        return f"{word} ({pool.status})"
    return word


def print_glb(console: Console, entries: Sequence[glb_client.PopService], now: datetime.datetime) -> None:
    if not entries:
        console.print("no PoP has reported a globally load-balanced service yet", highlight=False)
        return
    for index, (service, group) in enumerate(itertools.groupby(entries, key=lambda e: e.service)):
        members = list(group)
        if index:
            console.print()
        first = members[0]
        fallback = f"fallback {first.fallback_region}" if first.fallback_region else None
        details = ", ".join(part for part in (first.steering, fallback) if part)
        title = f"[bold]{escape(service)}[/]" + (f" ({escape(details)})" if details else "")
        console.print(title, highlight=False)
        rows: list[list[str]] = []
        for entry in members:
            reported = table_view.age(entry.reported_at, now)
            if entry.stale(now):
                reported += " (STALE)"
            if not entry.pools:
                rows.append([entry.pop, "-", "-", "-", "-", "-", reported])
            for position, pool in enumerate(entry.pools, start=1):
                serving = ""
                if pool.serving:
                    serving = "fallback" if entry.via_fallback else "yes"
                rows.append(
                    [
                        entry.pop if position == 1 else "",
                        str(position),
                        pool.region,
                        _health(pool),
                        _rtt(pool.rtt_ms),
                        serving,
                        reported if position == 1 else "",
                    ]
                )
        table_view.print_table(
            console, ["POP", "ORDER", "POOL", "HEALTH", "RTT", "SERVING", "REPORTED"], rows, indent="  "
        )


@glb.command(name="status")
@click.argument("service", required=False)
@remote.json_option
@remote.connection_options
def glb_status(service: str | None, as_json: bool, url: str | None, token_file: Path | None) -> None:
    """Per PoP: the pools of SERVICE (or every service) in order, health, RTT and who serves.

    RTT is what each PoP measured through its own health checks. PoPs silent for three
    report periods are flagged STALE.
    """
    with remote._connect(url, token_file) as (cp, _connection):
        entries = glb_client.fetch(cp, service)
        if service is not None and not entries:
            cp.get(f"/v1/services/{service}")  # no such service: NotFound, exit 1
    now = datetime.datetime.now(datetime.UTC)
    if as_json:
        remote._print_json([e.to_json(now) for e in entries])
    elif service is not None and not entries:
        out.print(
            f"no PoP reports {escape(service)}: it is not globally load balanced "
            "(load_balancing.global.enabled), or no PoP has picked it up yet",
            highlight=False,
        )
    else:
        print_glb(out, entries, now)


COMMANDS: list[click.Command] = [edge, glb]

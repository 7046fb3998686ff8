"""``taxiway logs``: instance logs from each region's satellite, stamped, checks left out.

Finds the regions that report the service through the control plane
(:mod:`taxiway.cli.remote`'s connection), reads each region's satellite
(:mod:`taxiway.client.logs`), and prints every line as :mod:`taxiway.client.log_lines`
reads it: ``STAMP REGION/INSTANCE | LINE``. Requests for the service's probe and monitor
paths, and lines naming Taxiway's checkers, are left out unless ``--all``.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import click
from rich.markup import escape

from taxiway.cli import consoles, remote
from taxiway.client import desired, log_lines, logs
from taxiway.client import regions as region_list
from taxiway.errors import NotFound, TaxiwayError
from taxiway.plan import readiness
from taxiway.runtime import logfile

err = consoles.stderr()


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime.datetime | None:
    if value is None:
        return None
    try:
        return log_lines.since(value, datetime.datetime.now(datetime.UTC))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: {exc}") from exc


@click.command(name="logs")
@click.argument("service")
@remote._environment_option(default="production")
@click.option("--region", help="Only this region.")
@click.option("--instance", help="Only this instance.")
@click.option(
    "--tail",
    type=click.IntRange(min=0, max=logfile.MAX_TAIL),
    help="Lines shown from the end of each instance's log [default: 100; with --since, all since then].",
)
@click.option(
    "--since",
    metavar="WHEN",
    callback=_since,
    help="Only lines since a duration ago (5m, 2h) or an RFC 3339 time.",
)
@click.option("--all", "show_all", is_flag=True, help="Show health-check and monitor requests too.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until Ctrl-C.")
@remote.connection_options
def logs_command(
    service: str,
    environment: str,
    region: str | None,
    instance: str | None,
    tail: int | None,
    since: datetime.datetime | None,
    show_all: bool,
    follow: bool,
    url: str | None,
    token_file: Path | None,
) -> None:
    """Print a service's instance logs from each region's satellite.

    Each line: when it was written (UTC), REGION/INSTANCE, then the line. Requests for the
    service's probe and monitor paths, and Taxiway's checks, are left out unless --all.
    """
    if tail is None:
        tail = logfile.MAX_TAIL if since is not None else 100
    # Checks are left out after reading: read more than --tail and keep --tail of those shown
    # (following, the first lines are what the satellite sends, checks left out of them).
    asked = logfile.MAX_TAIL if not show_all and not follow else tail
    with remote._connect(url, token_file) as (cp, connection):
        apis = {r.name: r.api for r in region_list.fetch(cp)}
        if region is not None and region not in apis:
            raise NotFound(f"no region {region!r}; regions: {', '.join(apis)}")
        reported = readiness.reports_by_region(cp.get("/v1/status", service=service), service, environment)
        running = None if show_all else desired.deployed(cp, service, environment)
    check_paths = log_lines.check_paths(running.definitions) if running is not None else frozenset()
    names = [region] if region is not None else sorted(reported)
    if not names:
        raise NotFound(f"no region reports {service} in {environment} yet, so there are no logs to show")
    sources: dict[str, Callable[[], Iterator[str]]] = {}
    for name in names:
        api = apis.get(name)
        if api is None:
            err.print(
                f"[yellow]warning[/]: {name}: its satellite has not reported an API address; no logs from it"
            )
            continue
        sources[name] = functools.partial(
            logs.stream,
            api,
            connection.token,
            service,
            environment,
            tail=asked,
            instance=instance,
            follow=follow,
            since=since,
        )

    def shown(name: str, raws: Iterable[str]) -> Iterator[log_lines.LogLine]:
        for raw in raws:
            line = log_lines.parse(name, raw)
            if show_all or not log_lines.is_check(line.text, check_paths):
                yield line

    failures = len(names) - len(sources)
    if follow:
        with contextlib.suppress(KeyboardInterrupt):
            for event in logs.merge(sources):
                if event.error is not None:
                    failures += 1
                    err.print(f"[yellow]warning[/]: {event.region}: {escape(str(event.error))}")
                elif event.line is not None:
                    for line in shown(event.region, [event.line]):
                        click.echo(line.render())
    else:
        for name, open_stream in sources.items():
            try:
                for line in log_lines.last_per_instance(shown(name, open_stream()), tail):
                    click.echo(line.render())
            except TaxiwayError as exc:
                failures += 1
                err.print(f"[yellow]warning[/]: {name}: {escape(str(exc))}")
    if failures == len(names):
        raise TaxiwayError(f"no logs could be read from any region of {service} in {environment}")

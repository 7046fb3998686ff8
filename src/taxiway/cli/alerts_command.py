"""``taxiway alerts [SERVICE] [--all] [--json]``: the alerts Alertmanager delivered to the
control plane, firing ones by default, newest first.

Without SERVICE: every alert the token may read (an owner token: its services'; an admin
token: all of them, those under no service included).
"""

from __future__ import annotations

import datetime
from pathlib import Path

import click

from taxiway.cli import alerts_view, consoles, remote
from taxiway.client import alerts

out = consoles.stdout()


@click.command(name="alerts")
@click.argument("service", required=False)
@click.option("--all", "everything", is_flag=True, help="Resolved alerts too, not only those firing.")
@remote.json_option
@remote.connection_options
def alerts_command(
    service: str | None, everything: bool, as_json: bool, url: str | None, token_file: Path | None
) -> None:
    """List alerts: name, service, environment, region, severity, state and since when."""
    with remote._connect(url, token_file) as (cp, _connection):
        found = alerts.fetch(cp, service, firing_only=not everything)
    if as_json:
        remote._print_json([a.model_dump(mode="json") for a in found])
        return
    now = datetime.datetime.now(datetime.UTC)
    alerts_view.print_alerts(out, found, now, what="alerts" if everything else "firing alerts")


COMMANDS: list[click.Command] = [alerts_command]

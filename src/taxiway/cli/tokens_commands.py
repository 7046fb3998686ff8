"""``taxiway tokens create|list|revoke``: the control plane's bearer tokens (admin token).

``create`` prints the new token's bearer string once, on stdout and nowhere else, so
``taxiway tokens create ci --scope owner --service hello > ci.token`` keeps it in a file;
the warning that it will not be shown again goes to stderr. What a token may name is
checked by the control plane against its inventory and topology; the combinations of
``--scope`` and ``--service``/``--region``/``--pop`` are checked here first, as usage
errors. ``revoke`` takes effect at once: the next request with the token is refused.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import click
from rich.markup import escape

from taxiway.cli import consoles, remote, table_view
from taxiway.client import tokens

out = consoles.stdout()
err = consoles.stderr()

SCOPES = ("owner", "satellite", "edge", "alerts", "metrics", "admin")
NEEDS = {"owner": "--service", "satellite": "--region", "edge": "--pop"}


def _check_scope(scope: str, services: tuple[str, ...], region: str | None, pop: str | None) -> None:
    given = {"--service": bool(services), "--region": region is not None, "--pop": pop is not None}
    needed = NEEDS.get(scope)
    if needed is not None and not given[needed]:
        raise click.UsageError(f"--scope {scope} needs {needed}")
    stray = [option for option, present in given.items() if present and option != needed]
    if stray:
        which = f"only {needed}" if needed else "none of --service, --region, --pop"
        raise click.UsageError(f"--scope {scope} takes {which}; drop {', '.join(stray)}")


def _describe(token: tokens.Token) -> str:
    grants = {
        "owner": f" for {token.grants}",
        "satellite": f" for region {token.region}",
        "edge": f" for PoP {token.pop}",
    }.get(token.scope, "")
    return f"{token.scope} token {escape(token.name)} (id {token.id}){escape(grants)}"


@click.group("tokens")
def tokens_group() -> None:
    """Bearer tokens of the control plane (admin token): create, list, revoke."""


@tokens_group.command("create")
@click.argument("name")
@click.option("--scope", required=True, type=click.Choice(SCOPES), help="What the token may do.")
@click.option(
    "--service",
    "services",
    multiple=True,
    metavar="SERVICE",
    help="With --scope owner: a service it may deploy (repeat for more).",
)
@click.option("--region", metavar="REGION", help="With --scope satellite: the region it runs.")
@click.option("--pop", metavar="POP", help="With --scope edge: the PoP it runs.")
@remote.json_option
@remote.connection_options
def create_command(
    name: str,
    scope: str,
    services: tuple[str, ...],
    region: str | None,
    pop: str | None,
    as_json: bool,
    url: str | None,
    token_file: Path | None,
) -> None:
    """Create token NAME and print it, once, on stdout.

    \b
    taxiway tokens create hello-ci --scope owner --service hello > hello-ci.token
    taxiway tokens create sat-us --scope satellite --region us-east1
    taxiway tokens create edge-iad --scope edge --pop iad
    taxiway tokens create alertmanager --scope alerts > alertmanager.token
    taxiway tokens create prometheus --scope metrics
    taxiway tokens create ops --scope admin
    """
    _check_scope(scope, services, region, pop)
    with remote._connect(url, token_file) as (cp, _connection):
        created = tokens.create(cp, name, scope, services, region, pop)
    if as_json:
        remote._print_json({**created.token.to_json(), "token": created.bearer})
    else:
        click.echo(created.bearer)
    err.print(f"[green]✓[/] created {_describe(created.token)}")
    err.print(
        "  this is the only time the token is shown: keep it now, in a file only you can read; "
        f"`taxiway tokens revoke {created.token.id}` revokes it"
    )


@tokens_group.command("list")
@remote.json_option
@remote.connection_options
def list_command(as_json: bool, url: str | None, token_file: Path | None) -> None:
    """Every token: scope, what it names, who created it and when, whether it is revoked."""
    with remote._connect(url, token_file) as (cp, _connection):
        found = tokens.listed(cp)
    if as_json:
        remote._print_json([t.to_json() for t in found])
        return
    now = datetime.datetime.now(datetime.UTC)
    rows = [
        [
            t.id,
            t.name,
            t.scope,
            t.grants,
            t.created_by or "-",
            table_view.age(t.created_at, now),
            table_view.age(t.revoked_at, now) if t.revoked_at else "-",
        ]
        for t in found
    ]
    table_view.print_table(out, ["ID", "NAME", "SCOPE", "GRANTS", "CREATED BY", "CREATED", "REVOKED"], rows)


@tokens_group.command("revoke")
@click.argument("token_id", metavar="ID")
@remote.json_option
@remote.connection_options
def revoke_command(token_id: str, as_json: bool, url: str | None, token_file: Path | None) -> None:
    """Revoke token ID (see `taxiway tokens list`): the next request with it is refused."""
    with remote._connect(url, token_file) as (cp, _connection):
        revoked = tokens.revoke(cp, token_id)
    if as_json:
        remote._print_json(revoked.to_json())
        return
    since = revoked.revoked_at.isoformat(timespec="seconds") if revoked.revoked_at else "now"
    out.print(f"[green]✓[/] revoked {_describe(revoked)} (since {since}); requests with it are refused")


COMMANDS: list[click.Command] = [tokens_group]

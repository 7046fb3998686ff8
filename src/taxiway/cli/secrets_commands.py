"""``taxiway secrets set|list|unset``: a service's secret values, per environment.

A manifest names the secrets its instances need (``spec.secrets: [NAME]``); these
commands give them values. A value is read from stdin (hidden prompt on a terminal) or
from ``--from-file``, never from the command line, where it would stay in shell history
and process listings; one trailing newline is dropped (``echo`` adds it). Nothing prints
a value: answers carry names, versions, keyed digests, who set them and when.
"""

from __future__ import annotations

import datetime
import re
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from taxiway.cli import remote, table_view
from taxiway.client import secrets
from taxiway.errors import InvalidInput
from taxiway.spec.manifest import ENVIRONMENTS, SECRET_NAME

out = Console(highlight=False, soft_wrap=True)

NAME_PATTERN = re.compile(SECRET_NAME)
NO_ARGV_VALUE = (
    "a secret's value is never taken from the command line (it would stay in shell history and "
    "process listings); pipe it on stdin or pass --from-file PATH"
)


def _name(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if not NAME_PATTERN.match(value) or len(value) > 128:
        raise click.BadParameter(f"{value!r}: expected upper case letters, digits and _, such as DB_PASSWORD")
    return value


def _without_newline(text: str) -> str:
    return text.removesuffix("\n").removesuffix("\r")


def read_value(name: str, from_file: Path | None) -> str:
    """The value from ``from_file``, a hidden prompt on a terminal, or stdin."""
    if from_file is not None:
        try:
            value = _without_newline(from_file.read_bytes().decode("utf-8"))
        except OSError as exc:
            raise InvalidInput(f"{from_file}: cannot read the value ({exc.strerror})") from exc
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{from_file}: the value is not UTF-8 text") from exc
        if not value:
            raise InvalidInput(f"{from_file}: the file is empty; a secret needs a value")
        return value
    if sys.stdin.isatty():
        entered: str = click.prompt(f"Value of {name}", hide_input=True, err=True)
        return entered
    value = _without_newline(sys.stdin.read())
    if not value:
        raise InvalidInput(
            f'no value for {name} on stdin; pipe it in (printf %s "$VALUE" | taxiway secrets set ...) '
            "or pass --from-file PATH"
        )
    return value


def _refuse_argv_values(ctx: click.Context) -> None:
    if ctx.args:
        raise click.UsageError(NO_ARGV_VALUE, ctx)  # never echo the extra arguments: they may be the value


def _print_change(what: str, secret: secrets.Secret, as_json: bool) -> None:
    if as_json:
        remote._print_json({**secret.to_json(), "regions": list(secret.regions)})
        return
    digest = f", {table_view.short_digest(secret.digest)}" if secret.digest else ""
    out.print(
        f"[green]✓[/] {secret.name} {what} for {escape(secret.service)} in {secret.environment} "
        f"(version {secret.version}{digest})"
    )
    if secret.regions:
        out.print(f"  its instances roll in {len(secret.regions)} regions: {', '.join(secret.regions)}")
        out.print(f"  follow it with `taxiway status {escape(secret.service)} --env {secret.environment}`")
    else:
        out.print(
            f"  no instance changes: nothing deployed to {secret.environment} names it with another value"
        )


@click.group("secrets")
def secrets_group() -> None:
    """Secret values of a service per environment (names in the manifest's spec.secrets)."""


@secrets_group.command("set", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("service")
@click.argument("name", callback=_name)
@click.option("--env", "environment", required=True, type=click.Choice(ENVIRONMENTS), help="Environment.")
@click.option(
    "--from-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the value from this file [default: stdin; a hidden prompt on a terminal].",
)
@remote.json_option
@remote.connection_options
@click.pass_context
def set_command(
    ctx: click.Context,
    service: str,
    name: str,
    environment: str,
    from_file: Path | None,
    as_json: bool,
    url: str | None,
    token_file: Path | None,
) -> None:
    """Set secret NAME of SERVICE in ENV; instances that use it roll.

    The value comes from stdin or --from-file, never from the command line.
    """
    _refuse_argv_values(ctx)
    value = read_value(name, from_file)
    with remote._connect(url, token_file) as (cp, _connection):
        secret = secrets.set_value(cp, service, environment, name, value)
    _print_change("set", secret, as_json)


@secrets_group.command("unset")
@click.argument("service")
@click.argument("name", callback=_name)
@click.option("--env", "environment", required=True, type=click.Choice(ENVIRONMENTS), help="Environment.")
@remote.json_option
@remote.connection_options
def unset_command(
    service: str, name: str, environment: str, as_json: bool, url: str | None, token_file: Path | None
) -> None:
    """Remove secret NAME of SERVICE in ENV; instances that use it roll without it.

    A deploy of a manifest naming it is refused until it is set again.
    """
    with remote._connect(url, token_file) as (cp, _connection):
        secret = secrets.unset(cp, service, environment, name)
    _print_change("unset", secret, as_json)


@secrets_group.command("list")
@click.argument("service")
@click.option("--env", "environment", type=click.Choice(ENVIRONMENTS), help="Only this environment.")
@remote.json_option
@remote.connection_options
def list_command(
    service: str, environment: str | None, as_json: bool, url: str | None, token_file: Path | None
) -> None:
    """The secrets of SERVICE: names, versions, digests, who set them and when (never values)."""
    with remote._connect(url, token_file) as (cp, _connection):
        found = secrets.listed(cp, service, environment)
    if as_json:
        remote._print_json([s.to_json() for s in found])
        return
    if not found:
        where = f" in {environment}" if environment else ""
        out.print(f"{escape(service)} has no secrets{where}; set one with `taxiway secrets set`")
        return
    now = datetime.datetime.now(datetime.UTC)
    rows = [
        [
            s.name,
            s.environment,
            str(s.version),
            table_view.short_digest(s.digest) if s.digest else "-",
            s.set_by,
            table_view.age(s.set_at, now),
        ]
        for s in found
    ]
    table_view.print_table(out, ["NAME", "ENVIRONMENT", "VERSION", "DIGEST", "SET BY", "SET"], rows)

"""``taxiway server`` and ``taxiway server init``: run and set up the control plane."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from taxiway.cli import agent_options, consoles
from taxiway.plan import retention
from taxiway.server import settings

out = consoles.stdout()
MIB = 1024 * 1024


def _settings(
    database: str | None,
    topology: Path | None,
    inventory: Path | None,
    key_file: Path | None,
    listen: str,
    limits: settings.ConnectionLimits | None = None,
    policy: retention.Policy = retention.DEFAULT_POLICY,
) -> settings.ServerSettings:
    if topology is None or inventory is None:
        raise click.UsageError("the control plane needs --topology and --inventory (or their env variables)")
    return settings.ServerSettings(
        database=database or settings.default_database(),
        topology=topology,
        inventory=inventory,
        key_file=key_file or settings.default_key_file(),
        listen=settings.Listen.parse(listen),
        limits=limits or settings.ConnectionLimits(),
        retention=policy,
    )


def _common(function: click.decorators.FC) -> click.decorators.FC:
    options = [
        click.option(
            "--database",
            envvar="TAXIWAY_DATABASE_URL",
            help="sqlite:///PATH or postgresql://… [env TAXIWAY_DATABASE_URL; default: SQLite, data dir].",
        ),
        click.option(
            "--topology",
            envvar="TAXIWAY_TOPOLOGY",
            type=click.Path(path_type=Path),
            help="Topology file [env TAXIWAY_TOPOLOGY].",
        ),
        click.option(
            "--inventory",
            envvar="TAXIWAY_INVENTORY",
            type=click.Path(path_type=Path),
            help="Inventory file [env TAXIWAY_INVENTORY].",
        ),
        click.option(
            "--key-file",
            envvar="TAXIWAY_KEY_FILE",
            type=click.Path(path_type=Path),
            help="Key that seals secrets at rest [env TAXIWAY_KEY_FILE; default: data dir/server.key].",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.group(invoke_without_command=True)
@_common
@click.option(
    "--listen",
    envvar="TAXIWAY_LISTEN",
    default=f"127.0.0.1:{settings.DEFAULT_PORT}",
    show_default=True,
    help="HOST:PORT to serve on [env TAXIWAY_LISTEN]. Loopback unless told otherwise.",
)
@click.option(
    "--head-timeout",
    envvar="TAXIWAY_HEAD_TIMEOUT",
    type=click.FloatRange(min=0, min_open=True),
    default=settings.ConnectionLimits.head_timeout_seconds,
    show_default=True,
    help="Seconds a connection has to send its request head [env TAXIWAY_HEAD_TIMEOUT].",
)
@click.option(
    "--max-connections",
    envvar="TAXIWAY_MAX_CONNECTIONS",
    type=click.IntRange(min=1),
    default=settings.ConnectionLimits.max_connections,
    show_default=True,
    help="Open connections beyond which requests are answered 503 [env TAXIWAY_MAX_CONNECTIONS].",
)
@click.option(
    "--keep-revisions",
    envvar="TAXIWAY_KEEP_REVISIONS",
    type=click.IntRange(min=1, max=100_000),
    default=retention.DEFAULT_KEEP_NEWEST,
    show_default=True,
    help="Newest revisions each service keeps, besides what its environments run or would roll "
    "back to; older ones are pruned [env TAXIWAY_KEEP_REVISIONS].",
)
@click.option(
    "--artifact-quota",
    "artifact_quota_mib",
    envvar="TAXIWAY_ARTIFACT_QUOTA_MIB",
    type=click.IntRange(min=1, max=1024 * 1024),
    default=retention.DEFAULT_QUOTA_BYTES // MIB,
    show_default=True,
    help="MiB of artifacts each service may keep; a revision that cannot fit is refused "
    "[env TAXIWAY_ARTIFACT_QUOTA_MIB].",
)
@agent_options.prometheus("the global")
@click.pass_context
def server(
    ctx: click.Context,
    database: str | None,
    topology: Path | None,
    inventory: Path | None,
    key_file: Path | None,
    listen: str,
    head_timeout: float,
    max_connections: int,
    keep_revisions: int,
    artifact_quota_mib: int,
    prometheus_dir: Path | None,
    prometheus_url: str | None,
) -> None:
    """Run the control plane: the API that stores revisions and feeds the satellites.

    Set it up once with `taxiway server init`, which makes the key and an admin token.
    """
    if ctx.invoked_subcommand is not None:
        return
    limits = settings.ConnectionLimits(head_timeout_seconds=head_timeout, max_connections=max_connections)
    policy = retention.Policy(keep_newest=keep_revisions, quota_bytes=artifact_quota_mib * MIB)
    chosen = _settings(database, topology, inventory, key_file, listen, limits, policy)
    from taxiway.server import serve  # the app, uvicorn and the store: only when serving

    serve.run(
        dataclasses.replace(
            chosen,
            prometheus_dir=prometheus_dir.absolute() if prometheus_dir else None,
            prometheus_url=prometheus_url,
        )
    )


@server.command()
@_common
@click.option(
    "--token-file",
    type=click.Path(path_type=Path),
    help="Where to write the admin token (mode 0600) [default: admin.token in the data dir].",
)
@click.option("--name", default="admin", show_default=True, help="Name of the admin token (audit log).")
@click.option("--force", is_flag=True, help="Write a new admin token over an existing token file.")
def init(
    database: str | None,
    topology: Path | None,
    inventory: Path | None,
    key_file: Path | None,
    token_file: Path | None,
    name: str,
    force: bool,
) -> None:
    """Create or upgrade the database, make the sealing key, and write an admin token.

    The token is written to a file, never printed. Use it with
    TAXIWAY_URL=http://127.0.0.1:7700 TAXIWAY_TOKEN_FILE=<token file>.
    """
    chosen = _settings(database, topology, inventory, key_file, f"127.0.0.1:{settings.DEFAULT_PORT}")
    target = token_file or settings.data_dir() / "admin.token"
    from taxiway.server import serve

    done = serve.init(chosen, target, name=name, force=force)
    key = "created" if done.key_created else "kept"
    out.print(f"database ready: {chosen.database}")
    out.print(f"sealing key {key}: {done.key_file}")
    out.print(f"admin token written to {done.token_file} (mode 0600)")
    out.print(f"use it with: export TAXIWAY_URL={chosen.listen.url} TAXIWAY_TOKEN_FILE={done.token_file}")

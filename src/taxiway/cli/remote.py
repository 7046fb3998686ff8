"""Commands that talk to the control plane: deploy, rollback, status, revisions, regions, chaos.

Each finds the control plane through :mod:`taxiway.client.config` (``--url`` and
``--token-file`` first; a token is never taken from argv), calls it through
:class:`taxiway.client.http.ControlPlane`, and prints through a ``*_view`` module;
``--json`` prints the same facts for machines. Errors are :class:`TaxiwayError`, which
``taxiway.cli.main`` turns into a message and exit status 1. Deploy and rollback end in
the same place, :func:`_converge`: point the environment at a revision, then wait.
``logs`` lives in :mod:`taxiway.cli.logs_command`.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.markup import escape

from taxiway.cli import (
    alerts_view,
    consoles,
    progress_view,
    regions_view,
    revisions_view,
    status_view,
    table_view,
)
from taxiway.client import alerts, config, desired, nodes, outcomes, secrets, status, upload, waiting
from taxiway.client import regions as region_list
from taxiway.client.http import ControlPlane, Unreachable
from taxiway.errors import ProtocolError, TaxiwayError, ValidationFailed
from taxiway.plan.regional import RegionalDefinition
from taxiway.plan.secret_digest import SecretValue
from taxiway.spec import service_files, units
from taxiway.spec.manifest import ENVIRONMENTS

out = consoles.stdout()
err = consoles.stderr()

F = TypeVar("F", bound=Callable[..., Any])
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as shells report a command stopped by Ctrl-C."""


def connection_options(command: F) -> F:
    """``--url`` and ``--token-file``: which control plane, and the file holding the token."""
    command = click.option(
        "--token-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="File holding the bearer token [env TAXIWAY_TOKEN_FILE, or TAXIWAY_TOKEN itself].",
    )(command)
    return click.option(
        "--url",
        metavar="URL",
        help="Control plane URL [env TAXIWAY_URL, 'control_plane:' in the config, the dev world].",
    )(command)


def _environment_option(default: str | None = None) -> Callable[[F], F]:
    if default is None:
        # No ``default=None`` here: click 8.2+ takes an explicit None as a value given, and
        # would let a command run without --env ("deployed ... for None").
        return click.option(
            "--env", "environment", required=True, type=click.Choice(ENVIRONMENTS), help="Environment."
        )
    return click.option(
        "--env",
        "environment",
        default=default,
        show_default=True,
        type=click.Choice(ENVIRONMENTS),
        help="Environment.",
    )


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")


def _seconds(_ctx: click.Context, _param: click.Parameter, value: str) -> float:
    """A duration (``90s``, ``5m``); a bare number is seconds, as ``--timeout 5`` reads."""
    try:
        return units.parse_duration(float(value) if re.fullmatch(r"[0-9]+(\.[0-9]+)?", value) else value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: {exc}") from exc


wait_options = [
    click.option(
        "--no-wait", is_flag=True, help="Return once the change is stored; do not wait for regions."
    ),
    click.option(
        "--timeout",
        metavar="DURATION",
        default="300s",
        show_default=True,
        callback=_seconds,
        help="How long to wait for every region to be ready (90s, 5m; a bare number is seconds).",
    ),
]


def _with(options: list[Callable[[F], F]]) -> Callable[[F], F]:
    def apply(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


@contextlib.contextmanager
def _connect(url: str | None, token_file: Path | None) -> Iterator[tuple[ControlPlane, config.Connection]]:
    connection = config.resolve(url, token_file)
    with ControlPlane(connection.url, connection.token) as cp:
        try:
            yield cp, connection
        except Unreachable as exc:
            raise Unreachable(
                f"{exc}; the URL comes from {connection.source}: is the control plane running?"
            ) from exc


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _converge(
    cp: ControlPlane,
    service: str,
    environment: str,
    revision: int,
    *,
    wait: bool,
    timeout: float,
    as_json: bool,
    started: float,
    summary: dict[str, Any],
) -> None:
    """Point ``environment`` at ``revision`` (unless it already is), then wait for it."""
    regions = desired.regions_of(desired.revision(cp, service, revision), service, environment)
    before = desired.current(cp, service, environment)
    summary.update(
        {"revision": revision, "previous_revision": before.revision if before else None, "regions": regions}
    )
    if before is not None and before.revision == revision:
        summary["changed"] = False
        if not as_json:
            out.print(f"{environment} already points at revision {revision}; nothing to change")
    else:
        after = desired.point(cp, service, environment, revision, before.version if before else 0)
        summary.update({"changed": True, "version": after.version})
        if not as_json:
            was = f" (was revision {before.revision})" if before else ""
            out.print(f"{environment} now points at revision {revision}{was}")
    if not wait:
        summary.update({"outcome": "not-waited", "elapsed_seconds": round(time.monotonic() - started, 1)})
        if as_json:
            _print_json(summary)
        else:
            out.print(f"not waiting; follow it with `taxiway status {service} --env {environment}`")
        return
    display = progress_view.ProgressDisplay(err if as_json else out)
    try:
        with display:
            progress = waiting.wait_until_ready(
                cp, service, environment, revision, regions, timeout=timeout, on_progress=display.update
            )
    except KeyboardInterrupt:
        _interrupted(service, environment, revision, as_json=as_json, started=started, summary=summary)
    except (waiting.RolloutFailed, waiting.RolloutTimedOut) as exc:
        if isinstance(exc, waiting.RolloutFailed):
            progress_view.print_failure(err, exc.progress)
        if as_json:
            failed = isinstance(exc, waiting.RolloutFailed)
            summary.update({"outcome": "failed" if failed else "timed-out", "message": str(exc)})
            summary["elapsed_seconds"] = round(time.monotonic() - started, 1)
            _print_json(summary)
        raise
    elapsed = time.monotonic() - started
    summary.update({"outcome": "ready", "elapsed_seconds": round(elapsed, 1)})
    if as_json:
        _print_json(summary)
    else:
        count = len(progress.regions)
        out.print(
            f"[green]✓[/] {escape(service)} revision {revision} is ready in {environment} "
            f"({count} region{'s' if count != 1 else ''}) after {elapsed:.1f}s"
        )


def _interrupted(
    service: str, environment: str, revision: int, *, as_json: bool, started: float, summary: dict[str, Any]
) -> NoReturn:
    """Ctrl-C while waiting stops the waiting only: the control plane already has the change."""
    follow = f"taxiway status {service} --env {environment}"
    summary.update({"outcome": "interrupted", "elapsed_seconds": round(time.monotonic() - started, 1)})
    if as_json:
        _print_json(summary)
    err.print(
        f"interrupted: stopped waiting, but the rollout of revision {revision} goes on in the regions; "
        f"follow it with `{escape(follow)}`",
        highlight=False,
        soft_wrap=True,
    )
    raise SystemExit(EXIT_INTERRUPTED)


@contextlib.contextmanager
def _json_failures(as_json: bool, summary: dict[str, Any]) -> Iterator[None]:
    """With ``--json``, an error before the wait (a refused manifest, say) is JSON too."""
    try:
        yield
    except TaxiwayError as exc:
        if as_json and "outcome" not in summary:
            summary.update({"outcome": "invalid" if isinstance(exc, ValidationFailed) else "error"})
            summary.update({"code": exc.code, "message": str(exc)})
            if isinstance(exc, ValidationFailed):
                summary["problems"] = [problem.to_json() for problem in exc.problems]
            _print_json(summary)
        raise


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@_environment_option()
@_with(wait_options)
@json_option
@connection_options
def deploy(
    path: Path,
    environment: str,
    no_wait: bool,
    timeout: float,
    as_json: bool,
    url: str | None,
    token_file: Path | None,
) -> None:
    """Upload a service as a new revision, point ENV at it and wait until every region runs it.

    PATH is the service directory holding .taxiway/ (or its manifest file). The directory
    travels with the revision as a tar.gz (without .taxiway/, .git, __pycache__, .venv,
    node_modules).
    Deploying unchanged files finds the same revision again.
    """
    started = time.monotonic()
    summary: dict[str, Any] = {"service": None, "environment": environment}
    with _json_failures(as_json, summary):
        found = service_files.find(path)
        service = next(iter(service_files.load_all(found).values())).manifest.metadata.name
        summary["service"] = service
        payload = upload.service_upload(found)
        with _connect(url, token_file) as (cp, _connection):
            created = upload.create_revision(cp, service, payload, environment)
            if not as_json:
                stored = table_view.short_digest(created.artifact) if created.artifact else "not stored"
                size = f"{payload.artifact.files} files, {len(payload.artifact.data) / 1024:.1f} KiB"
                out.print(
                    f"revision {created.number} of {escape(service)}: {len(payload.files)} manifest files, "
                    f"artifact {stored} ({size})"
                )
            summary.update({"digest": created.digest, "artifact": created.artifact})
            _converge(
                cp,
                service,
                environment,
                created.number,
                wait=not no_wait,
                timeout=timeout,
                as_json=as_json,
                started=started,
                summary=summary,
            )


@click.command()
@click.argument("service")
@_environment_option()
@click.option(
    "--to",
    "target",
    metavar="REVISION",
    type=click.IntRange(min=1),
    help="Revision to return to [default: the newest earlier one that became ready in ENV].",
)
@click.option("--force", is_flag=True, help="With --to: go to it even if it never became ready in ENV.")
@_with(wait_options)
@json_option
@connection_options
def rollback(
    service: str,
    environment: str,
    target: int | None,
    force: bool,
    no_wait: bool,
    timeout: float,
    as_json: bool,
    url: str | None,
    token_file: Path | None,
) -> None:
    """Point ENV back at an earlier revision and wait until every region runs it.

    Without --to, the newest revision before the current one that became ready in every
    region of ENV (failed, rolled-back and never-ready revisions are passed over). --to
    refuses a revision that never became ready in ENV unless --force.
    """
    if force and target is None:
        raise click.UsageError("--force goes with --to REVISION: it names the revision to force")
    started = time.monotonic()
    with _connect(url, token_file) as (cp, _connection):
        choice = outcomes.rollback_choice(cp, service, environment, target, force)
        target = choice.revision
        if not as_json:
            for passed in choice.skipped:
                out.print(f"passing over revision {passed.revision}: {escape(passed.summary)}")
            out.print(
                f"rolling {escape(service)} back in {environment}: revision {choice.current} → {target} "
                f"({escape(choice.reason)})"
            )
        summary: dict[str, Any] = {"service": service, "environment": environment, "reason": choice.reason}
        _converge(
            cp,
            service,
            environment,
            target,
            wait=not no_wait,
            timeout=timeout,
            as_json=as_json,
            started=started,
            summary=summary,
        )


@click.command(name="status")
@click.argument("service", required=False)
@click.option("--env", "environment", type=click.Choice(ENVIRONMENTS), help="Only this environment.")
@json_option
@connection_options
def status_command(
    service: str | None, environment: str | None, as_json: bool, url: str | None, token_file: Path | None
) -> None:
    """Show what runs where: per region the revision, ready instances, phase and instances;
    with SERVICE, its firing alerts too (name, region, severity, since when).

    Regions whose satellite has been silent for three report periods are flagged STALE.
    """
    with _connect(url, token_file) as (cp, _connection):
        rows = cp.get("/v1/status", service=service)
        known = region_list.fetch(cp)
        targets = desired.targets(cp, service, environment) if service else {}
        firing = alerts.fetch(cp, service) if service else []
    now = datetime.datetime.now(datetime.UTC)
    entries = status.collect(
        rows if isinstance(rows, list) else [], known, targets, now, environment=environment
    )
    if environment is not None:
        firing = [a for a in firing if a.environment in (None, environment)]
    if as_json:
        _print_json([{**e.to_json(now), "alerts": alerts.firing_in(firing, e)} for e in entries])
    else:
        status_view.print_status(out, entries, now)
        if service:
            alerts_view.print_firing(out, firing, now)


@click.command()
@click.argument("service")
@json_option
@connection_options
def revisions(service: str, as_json: bool, url: str | None, token_file: Path | None) -> None:
    """List a service's revisions, newest first: which environment runs each, and what
    became of each in each environment (ready, failed where and why, rolled back, in progress)."""
    with _connect(url, token_file) as (cp, _connection):
        history = cp.get(f"/v1/services/{service}/revisions")
        current = desired.pointers(cp, service)
        results = outcomes.fetch(cp, service)
        storage = None if as_json else cp.get(f"/v1/services/{service}/storage")
    if not isinstance(history, list):
        raise ProtocolError(f"GET /v1/services/{service}/revisions answered no list")
    if as_json:
        _print_json(
            [
                {
                    **r,
                    "current_in": [env for env, n in current.items() if n == r.get("number")],
                    "outcomes": results.get(int(r.get("number") or 0), {}),
                }
                for r in sorted(history, key=lambda r: int(r.get("number") or 0), reverse=True)
            ]
        )
    else:
        kept = storage if isinstance(storage, dict) else None
        revisions_view.print_revisions(out, service, history, current, results, kept)


@click.command(name="regions")
@json_option
@connection_options
def regions_command(as_json: bool, url: str | None, token_file: Path | None) -> None:
    """List the regions, their runtime, and when each satellite last reported."""
    with _connect(url, token_file) as (cp, _connection):
        known = region_list.fetch(cp)
    now = datetime.datetime.now(datetime.UTC)
    if as_json:
        _print_json([r.to_json() for r in known])
    else:
        regions_view.print_regions(out, known, now)


def _node_ref(_ctx: click.Context, _param: click.Parameter, value: str) -> nodes.NodeRef:
    try:
        return nodes.NodeRef.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.group()
def chaos() -> None:
    """Break things on purpose (admin token): take a node down, bring it back."""


def _set_node(ref: nodes.NodeRef, state: nodes.NodeState, url: str | None, token_file: Path | None) -> None:
    with _connect(url, token_file) as (cp, _connection):
        nodes.set_state(cp, ref, state)
    if state == "failed":
        out.print(f"{ref} is down; its region's satellite moves its instances to healthy nodes")
    else:
        out.print(f"{ref} is ready again; placement may use it")


@chaos.command("node-down")
@click.argument("ref", metavar="REGION/DATACENTER/NODE", callback=_node_ref)
@connection_options
def node_down(ref: nodes.NodeRef, url: str | None, token_file: Path | None) -> None:
    """Mark a node failed: its instances stop and are placed on other nodes."""
    _set_node(ref, "failed", url, token_file)


@chaos.command("node-up")
@click.argument("ref", metavar="REGION/DATACENTER/NODE", callback=_node_ref)
@connection_options
def node_up(ref: nodes.NodeRef, url: str | None, token_file: Path | None) -> None:
    """Mark a failed node ready again."""
    _set_node(ref, "ready", url, token_file)


def deployed_state(
    url: str | None,
    token_file: Path | None,
    service: str,
    environment: str,
    values: set[SecretValue],
) -> tuple[dict[tuple[str, str, str], RegionalDefinition], str | None, dict[SecretValue, str]]:
    """What ``environment`` of ``service`` runs now, its artifact, and the control plane's
    keyed digests of the secret ``values`` the local manifest holds (``plan --remote``)."""
    with _connect(url, token_file) as (cp, _connection):
        found = desired.deployed(cp, service, environment)
        digests = secrets.digests(cp, values) if values else {}
    if found is None:
        return {}, None, digests
    return {d.key: d for d in found.definitions}, found.artifact, digests


COMMANDS: list[click.Command] = [
    deploy,
    rollback,
    status_command,
    revisions,
    regions_command,
    chaos,
]

"""The ``taxiway`` command: entry point, error handling and the declarative-core commands.

Exit codes are a contract: 0 success, 1 any error (invalid input, missing configuration,
an unreachable control plane), 2 bad usage (an unknown option, a missing ``--env``, as
click's own errors), 130 interrupted (Ctrl-C), and with ``plan --detailed-exitcode`` 2
when there are changes — so there a usage error exits 1, never to be mistaken for
"changes". Errors from Taxiway print as messages, never as tracebacks.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from ruamel.yaml import YAML

from taxiway import __version__
from taxiway.cli import (
    alerts_command,
    consoles,
    dev_commands,
    edge_commands,
    ingress_log_sink_command,
    local_digest,
    logs_command,
    observability_commands,
    plan_view,
    platform_files,
    problems_view,
    remote,
    satellite_command,
    secrets_commands,
    server_commands,
    services_commands,
    slo_commands,
    tokens_commands,
)
from taxiway.client import upload
from taxiway.errors import TaxiwayError, ValidationFailed
from taxiway.plan import derive as derivation
from taxiway.plan import diff, secret_digest
from taxiway.plan.regional import RegionalDefinition
from taxiway.plan.state import State
from taxiway.spec import ownership, reference, service_files, validation
from taxiway.spec import schema as schemas
from taxiway.spec.manifest import ENVIRONMENTS
from taxiway.spec.problem import Problem

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_USAGE = 0, 1, 2, 2

out = consoles.stdout()
err = consoles.stderr()

topology_option = click.option(
    "--topology",
    type=click.Path(path_type=Path),
    help="Topology file [env TAXIWAY_TOPOLOGY, or 'topology:' in the platform config].",
)
inventory_option = click.option(
    "--inventory",
    type=click.Path(path_type=Path),
    help="Inventory file [env TAXIWAY_INVENTORY]; without one every topology region is allowed.",
)
env_option = click.option(
    "--env", "environment", required=True, type=click.Choice(ENVIRONMENTS), help="Environment."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="taxiway")
def cli() -> None:
    """Taxiway: one manifest, many regions.

    Validate a service's manifest, see what each region would run, and plan the change.
    """


def _derive_all(
    path: Path,
    environments: Sequence[str],
    files: platform_files.PlatformFiles,
    digest: secret_digest.Digester,
    warnings: list[Problem] | None = None,
) -> dict[str, dict[str, RegionalDefinition]]:
    """Regional definitions per environment, secret values digested by ``digest``; all
    problems across them reported at once, those the platform files find in what parsed
    of a manifest the schema rejected in part too. ``warnings`` collects what is not wrong
    yet but will stop a deploy (a service nobody owns)."""
    sources = service_files.find(path)
    checked = service_files.check_all(sources)
    topology = files.topology
    result: dict[str, dict[str, RegionalDefinition]] = {}
    problems: set[Problem] = {p for item in checked.values() for p in item.problems}
    for environment in environments:
        item = checked[environment]
        if item.manifest is None or item.document is None:
            continue
        if warnings is not None:
            unowned = ownership.unowned(item.manifest.metadata, files.inventory, item.document)
            if unowned is not None and not item.unsure.touches(ownership.OWNER) and unowned not in warnings:
                warnings.append(unowned)
        if topology is None:
            continue
        if item.problems:
            problems.update(
                derivation.platform_problems(
                    item.manifest,
                    environment,
                    topology,
                    files.inventory,
                    source=item.document,
                    unsure=item.unsure,
                )
            )
            continue
        try:
            result[environment] = derivation.derive(
                item.manifest,
                environment,
                topology,
                files.inventory,
                source=item.document,
                secret_digest=digest,
            )
        except ValidationFailed as exc:
            problems.update(exc.problems)
    if problems:
        raise ValidationFailed(sorted(problems))
    return result


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@topology_option
@inventory_option
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def validate(paths: tuple[Path, ...], topology: Path | None, inventory: Path | None, as_json: bool) -> None:
    """Check manifests: schema, rules, and (given a topology) regions, capacity and inventory.

    PATH is a manifest file or a service directory holding .taxiway/ (default: .).
    Every environment's view (overlay and env file merged) is checked. Exit 0 valid, 1 invalid.
    """
    files = platform_files.load(topology, inventory)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    checked = []
    for path in paths or (Path("."),):
        try:
            _derive_all(path, ENVIRONMENTS, files, local_digest.throwaway(), warnings)
            checked.append(str(path))
        except ValidationFailed as exc:
            problems.extend(exc.problems)
    if as_json:
        out.print_json(
            data={
                "valid": not problems,
                "checked": [str(p) for p in paths or (Path("."),)],
                "topology_checked": files.topology is not None,
                "problems": [p.to_json() for p in problems],
                "warnings": [p.to_json() for p in warnings],
            }
        )
    else:
        for name in checked:
            out.print(f"[green]✓[/] {name}: valid ({', '.join(ENVIRONMENTS)})")
        problems_view.print_warnings(err, warnings)
        if problems:
            problems_view.print_problems(err, problems)
        if files.topology is None:
            err.print("note: no topology given, so regions, capacity and inventory were not checked")
    if problems:
        raise SystemExit(EXIT_ERROR)


def _state_document(definitions: Sequence[RegionalDefinition]) -> dict[str, Any]:
    return State(definitions=list(definitions)).model_dump(mode="json", by_alias=True)


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@env_option
@click.option("--region", help="Only this region.")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
@topology_option
@inventory_option
def render(
    path: Path, environment: str, region: str | None, fmt: str, topology: Path | None, inventory: Path | None
) -> None:
    """Print the regional definitions a service derives to in one environment.

    The output is a State document: feed it back to `plan --state` and the plan is empty.
    Secret env values appear only as digests, keyed with this user's local key
    (local-hmac-sha256:, never comparable with the control plane's).
    """
    files = platform_files.load(topology, inventory)
    files.require_topology()
    definitions = _derive_all(path, [environment], files, local_digest.keyer())[environment]
    if region is not None:
        if region not in definitions:
            raise click.UsageError(
                f"the service does not run in region {region!r} in {environment}; "
                f"it runs in: {', '.join(definitions)}"
            )
        definitions = {region: definitions[region]}
    document = _state_document(list(definitions.values()))
    if fmt == "json":
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = False
        yaml.width = 4096  # never fold a digest or a command line
        yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
        yaml.dump(document, sys.stdout)


def _read_state(path: Path) -> dict[diff.Key, RegionalDefinition]:
    doc = service_files.read(path)
    return validation.validate(State, doc).by_key()


def _owned_as_deployed(
    definitions: dict[str, RegionalDefinition], deployed: dict[diff.Key, RegionalDefinition]
) -> dict[str, RegionalDefinition]:
    """A manifest without ``metadata.owner`` is owned by whom the control plane's inventory
    says, which this side does not read: take the owner the deployed definitions carry,
    so a plan does not show it as a change."""
    owned = {}
    for region, definition in definitions.items():
        running = deployed.get(definition.key)
        if definition.metadata.owner is None and running is not None:
            metadata = definition.metadata.model_copy(update={"owner": running.metadata.owner})
            definition = definition.model_copy(update={"metadata": metadata})
        owned[region] = definition
    return owned


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@env_option
@click.option("--state", "state_path", type=click.Path(path_type=Path), help="What runs now (a State file).")
@click.option(
    "--remote",
    "compare_remote",
    is_flag=True,
    help="Compare with what the control plane says ENV runs now (instead of --state).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON, for CI.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing changes, 2 when something does, 1 on error.",
)
@topology_option
@inventory_option
@remote.connection_options
def plan(
    path: Path,
    environment: str,
    state_path: Path | None,
    compare_remote: bool,
    as_json: bool,
    detailed_exitcode: bool,
    topology: Path | None,
    inventory: Path | None,
    url: str | None,
    token_file: Path | None,
) -> None:
    """Show what would be created, changed and removed, region by region.

    Without --state or --remote nothing is taken to run yet, so every region is created.
    With --remote the service directory's artifact (its code) is compared too.
    """
    if compare_remote and state_path is not None:
        raise click.UsageError("--remote and --state are mutually exclusive: compare with one or the other")
    files = platform_files.load(topology, inventory)
    files.require_topology()
    if compare_remote:
        # The control plane's inventory is the authority: the file may not list a service
        # registered with `taxiway services create`; the control plane refuses what it lacks.
        files = platform_files.PlatformFiles(files.topology, None)
    keyer = local_digest.throwaway() if compare_remote else local_digest.keyer()
    definitions = _derive_all(path, [environment], files, keyer)[environment]
    service = next(iter(definitions.values())).service
    deployed_artifact: str | None = None
    if compare_remote:
        actual, deployed_artifact, digests = remote.deployed_state(
            url, token_file, service, environment, secret_digest.secret_values(definitions)
        )
        # What runs carries the control plane's digests: compare the values under its key.
        definitions = secret_digest.rekeyed(definitions, digests.__getitem__)
        definitions = _owned_as_deployed(definitions, actual)
    else:
        actual = _read_state(state_path) if state_path else {}
    desired = {d.key: d for d in definitions.values()}
    actual = {k: v for k, v in actual.items() if k[0] == service and k[1] == environment}
    result = diff.plan(desired, actual)
    if compare_remote and actual:
        # The code counts as much as the manifest: the same artifact deploy would upload.
        local_artifact = upload.service_upload(service_files.find(path)).artifact.digest
        result = diff.with_artifact(result, deployed_artifact, local_artifact)
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        plan_view.print_plan(out, result)
    if detailed_exitcode and not result.empty:
        raise SystemExit(EXIT_CHANGES)


@cli.command()
@click.argument("kind", type=click.Choice(sorted(schemas.KINDS)), default="service")
@click.option(
    "--write",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write every schema as DIR/<kind>.schema.json instead of printing one.",
)
@click.option(
    "--docs",
    "docs_directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write every kind's Markdown reference, generated from its schema, as DIR/<kind>.md.",
)
def schema(kind: str, directory: Path | None, docs_directory: Path | None) -> None:
    """Print the JSON Schema of a service manifest, topology or inventory.

    The committed files are regenerated with: taxiway schema --write schemas --docs docs/reference
    """
    if directory is None and docs_directory is None:
        sys.stdout.write(schemas.text(kind))
        return
    targets: list[tuple[Path, str]] = []
    for name in sorted(schemas.KINDS):
        if directory is not None:
            targets.append((directory / f"{name}.schema.json", schemas.text(name)))
        if docs_directory is not None:
            targets.append((docs_directory / f"{name}.md", reference.render(schemas.export(name), name)))
    for target, content in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        out.print(f"wrote {target}")


for _command in (
    server_commands.server,
    satellite_command.satellite,
    ingress_log_sink_command.ingress_log_sink,
    *edge_commands.COMMANDS,
    dev_commands.dev,
    *remote.COMMANDS,
    secrets_commands.secrets_group,
    logs_command.logs_command,
    observability_commands.observability,
    *services_commands.COMMANDS,
    *slo_commands.COMMANDS,
    *tokens_commands.COMMANDS,
    *alerts_command.COMMANDS,
):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; every error becomes a message and exit status 1."""
    try:
        code = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except ValidationFailed as exc:
        problems_view.print_problems(err, exc.problems)
        code = EXIT_ERROR
    except TaxiwayError as exc:
        err.print(f"[bold red]error[/]: {exc}")
        code = EXIT_ERROR
    except click.exceptions.Abort:  # Ctrl-C (click turns KeyboardInterrupt into Abort)
        err.print("interrupted")
        code = remote.EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show(file=sys.stderr)
        code = exc.exit_code  # 2 for usage errors, 1 for the others
        args = list(argv) if argv is not None else sys.argv[1:]
        if code == EXIT_USAGE and "--detailed-exitcode" in args:
            code = EXIT_ERROR  # there 2 means "changes"
    except BrokenPipeError:
        code = EXIT_OK
    sys.exit(code if isinstance(code, int) else EXIT_OK)


if __name__ == "__main__":
    main()

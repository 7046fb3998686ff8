"""``taxiway services``: the platform team's inventory through the control plane (admin token).

``create``, ``update``, ``delete`` and ``list`` change and read the services the control
plane knows, with no file to edit and no restart: a service registered here deploys at
once. The inventory file stays the seed (loaded at start and on every reload, the
services registered here layered over it); ``export`` prints the whole inventory as an
inventory file. ``undeploy`` removes a service's definitions from an environment (its
instances stop), which ``delete`` requires first.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from ruamel.yaml import YAML

from taxiway.cli import remote, table_view
from taxiway.client.http import ControlPlane
from taxiway.errors import NotFound, ProtocolError
from taxiway.spec.manifest import ENVIRONMENTS

out = Console(highlight=False, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])
ENTRY_KEYS = ("owners", "regions", "environments", "quota", "global_load_balancing")
SCHEMA_LINE = "# yaml-language-server: $schema=https://taxiway.dev/schemas/inventory.schema.json"


def _names(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> list[str] | None:
    """``--regions a,b --regions c`` → ``[a, b, c]``; None when the option was not given."""
    names = [part.strip() for item in value for part in item.split(",") if part.strip()]
    return names or None


def _environments(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [n for n in names if n not in ENVIRONMENTS]
    if unknown or not names:
        raise click.BadParameter(f"{value!r}: expected a comma-separated list of {', '.join(ENVIRONMENTS)}")
    return names


def _entry_options(*, creating: bool) -> list[Callable[[F], F]]:
    return [
        click.option(
            "--owner",
            "owners",
            multiple=True,
            required=creating,
            callback=_names,
            metavar="TEAM[,TEAM]",
            help="Who may deploy it (its manifest's metadata.owner must be one).",
        ),
        click.option(
            "--regions",
            multiple=True,
            required=creating,
            callback=_names,
            metavar="R1,R2",
            help="Regions it may use.",
        ),
        click.option(
            "--environments",
            callback=_environments,
            metavar="E1,E2",
            help=f"Environments it may use [default: {','.join(ENVIRONMENTS)}]."
            if creating
            else "Environments.",
        ),
        click.option(
            "--max-instances",
            type=click.IntRange(min=0),
            help="Most instances across all regions, per environment [default: 100]."
            if creating
            else "Quota.",
        ),
        click.option(
            "--global-load-balancing/--no-global-load-balancing",
            "global_load_balancing",
            default=None,
            help="Whether it may be served through the edge PoPs [default: no].",
        ),
    ]


def _apply(entry: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """``entry`` (its inventory keys) with the entry options that were given (not None)."""
    changed = {key: entry[key] for key in ENTRY_KEYS if key in entry}
    for key in ("owners", "regions", "environments", "global_load_balancing"):
        if options.get(key) is not None:
            changed[key] = options[key]
    if options.get("max_instances") is not None:
        changed["quota"] = {**(changed.get("quota") or {}), "max_instances": options["max_instances"]}
    return changed


def _inventory(cp: ControlPlane) -> dict[str, Any]:
    answer = cp.get("/v1/inventory")
    if not isinstance(answer, dict) or not isinstance(answer.get("services"), list):
        raise ProtocolError("GET /v1/inventory answered no services")
    return answer


def _print_service(service: dict[str, Any], verb: str, as_json: bool) -> None:
    if as_json:
        remote._print_json(service)
        return
    lists = "; ".join(
        f"{key} {', '.join(service.get(key) or [])}" for key in ("owners", "regions", "environments")
    )
    out.print(
        f"[green]✓[/] {verb} {escape(str(service.get('name')))} (version {service.get('version')}): {lists}"
    )


@click.group()
def services() -> None:
    """The inventory of services (admin token): create, update, delete, list, export.

    Changes take effect at once, without editing a file or restarting the control plane.
    """


@services.command()
@click.argument("name")
@remote._with(_entry_options(creating=True))
@remote.json_option
@remote.connection_options
def create(name: str, as_json: bool, url: str | None, token_file: Path | None, **options: Any) -> None:
    """Register service NAME: who owns it, where and in which environments it may run."""
    entry = _apply({}, options)
    with remote._connect(url, token_file) as (cp, _connection):
        created = cp.post("/v1/inventory/services", {"name": name, **entry})
    _print_service(created, "registered", as_json)
    if not as_json:
        first = (created.get("environments") or ENVIRONMENTS)[0]
        out.print(f"  deploy it with `taxiway deploy PATH --env {first}`")


@services.command()
@click.argument("name")
@remote._with(_entry_options(creating=False))
@remote.json_option
@remote.connection_options
def update(name: str, as_json: bool, url: str | None, token_file: Path | None, **options: Any) -> None:
    """Change what the inventory allows service NAME; options not given stay as they are.

    From then on the control plane's entry wins over the inventory file's.
    """
    with remote._connect(url, token_file) as (cp, _connection):
        known = {s.get("name"): s for s in _inventory(cp)["services"] if isinstance(s, dict)}
        current = known.get(name)
        if current is None:
            raise NotFound(
                f"no service named {name!r} in the inventory; `taxiway services list` shows them, "
                f"`taxiway services create {name} --owner TEAM --regions R1,R2` registers it"
            )
        entry = _apply(current, options)
        changed = cp.put(
            f"/v1/inventory/services/{name}", {"entry": entry, "expected_version": current.get("version")}
        )
    _print_service(changed, "updated", as_json)


@services.command()
@click.argument("name")
@remote.connection_options
def delete(name: str, url: str | None, token_file: Path | None) -> None:
    """Take service NAME out of the inventory (its revisions are kept).

    Refused while any region has a definition of it: remove those first with
    `taxiway services undeploy NAME --env ENV`.
    """
    with remote._connect(url, token_file) as (cp, _connection):
        cp.request("DELETE", f"/v1/inventory/services/{name}")
    out.print(f"[green]✓[/] deleted {escape(name)} from the inventory")


@services.command()
@click.argument("name")
@click.option("--env", "environment", required=True, type=click.Choice(ENVIRONMENTS), help="Environment.")
@remote.connection_options
def undeploy(name: str, environment: str, url: str | None, token_file: Path | None) -> None:
    """Remove service NAME from ENV in every region: its instances stop."""
    with remote._connect(url, token_file) as (cp, _connection):
        answer = cp.request("DELETE", f"/v1/services/{name}/environments/{environment}").json()
    regions = answer.get("removed_from") if isinstance(answer, dict) else None
    where = ", ".join(regions) if regions else "no region (nothing was running)"
    out.print(f"[green]✓[/] removed {escape(name)} from {environment} in {where}; its instances stop")


@services.command(name="list")
@remote.json_option
@remote.connection_options
def list_command(as_json: bool, url: str | None, token_file: Path | None) -> None:
    """List every service of the inventory: the file's and those registered through the API."""
    with remote._connect(url, token_file) as (cp, _connection):
        found = _inventory(cp)
    if as_json:
        remote._print_json(found["services"])
        return
    table_view.print_table(
        out,
        ["NAME", "OWNERS", "REGIONS", "ENVIRONMENTS", "MAX INSTANCES", "GLOBAL LB", "FROM", "VERSION"],
        [
            [
                str(s.get("name")),
                ",".join(s.get("owners") or []),
                ",".join(s.get("regions") or []),
                ",".join(s.get("environments") or []),
                str((s.get("quota") or {}).get("max_instances", "-")),
                "yes" if s.get("global_load_balancing") else "no",
                "api" if s.get("origin") == "api" else "file",
                str(s.get("version")),
            ]
            for s in found["services"]
        ],
    )
    if found.get("file"):
        out.print(f"\nseeded from {found['file']}; `taxiway services export` prints it all as one file")


@services.command()
@remote.connection_options
def export(url: str | None, token_file: Path | None) -> None:
    """Print the whole inventory (file and API) as an inventory file, to keep in git."""
    with remote._connect(url, token_file) as (cp, _connection):
        found = _inventory(cp)
    document = {
        "apiVersion": "taxiway/v1",
        "kind": "Inventory",
        "services": [
            {"name": s["name"], **{key: s[key] for key in ENTRY_KEYS if key in s}}
            for s in found["services"]
            if isinstance(s, dict) and "name" in s
        ],
    }
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = None  # lists and small mappings inline, as in examples/inventory.yaml
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    sys.stdout.write(SCHEMA_LINE + "\n")
    yaml.dump(document, sys.stdout)


COMMANDS: list[click.Command] = [services]

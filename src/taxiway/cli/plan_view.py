"""Human rendering of a plan, in the manner of ``terraform plan``."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape

from taxiway.plan.diff import Plan, RegionChange

_MARK = {"create": ("+", "green"), "change": ("~", "yellow"), "remove": ("-", "red")}
# Fields shown when a region is created or removed; the JSON plan carries all of them.
# The port shown is PORT, the port the instances get: container_port where a container
# runtime runs them, a port of its own per instance in a `local` region.
_SUMMARY = (
    "spec.run.command",
    "spec.image",
    "spec.env.PORT",
    "spec.scalability.min_instances",
    "spec.scalability.max_instances",
    "spec.resources.cpu",
    "spec.resources.memory",
    "spec.load_balancing.global.enabled",
)


def _value(value: Any) -> str:
    if isinstance(value, str) and value == "(sensitive)":
        return value
    return json.dumps(value, ensure_ascii=False)


def _region(console: Console, change: RegionChange) -> None:
    mark, colour = _MARK[change.action]
    verb = "updated in place" if change.action == "change" else f"{change.action}d"
    console.print(
        f"  [{colour}]{mark} {escape(change.service)} @ {escape(change.region)}[/] "
        f"({change.environment}) will be {verb}",
        highlight=False,
    )
    if change.action == "change":
        for field in change.fields:
            if field.old is None:
                line = f"      [green]+[/] {field.path} = {escape(_value(field.new))}"
            elif field.new is None:
                line = f"      [red]-[/] {field.path} = {escape(_value(field.old))}"
            else:
                old, new = escape(_value(field.old)), escape(_value(field.new))
                line = f"      [yellow]~[/] {field.path}: {old} → {new}"
            console.print(line, highlight=False, soft_wrap=True)
        return
    shown = {f.path: f for f in change.fields}
    for path in _SUMMARY:
        if path in shown:
            field = shown[path]
            value = field.new if change.action == "create" else field.old
            if value is not None:
                console.print(
                    f"      {mark} {path} = {escape(_value(value))}", highlight=False, soft_wrap=True
                )
    env = sorted({f.path.split(".")[2] for f in change.fields if f.path.startswith("spec.env.")})
    if env:
        console.print(f"      {mark} spec.env: {', '.join(env)}", highlight=False, soft_wrap=True)


def print_plan(console: Console, plan: Plan) -> None:
    if plan.empty:
        console.print("[green]No changes.[/] What runs matches the manifest.", highlight=False)
        return
    console.print("Taxiway will perform the following actions:\n", highlight=False)
    for change in plan.changes:
        _region(console, change)
        console.print()
    console.print(
        f"[bold]Plan:[/] {plan.count('create')} to create, {plan.count('change')} to change, "
        f"{plan.count('remove')} to remove.",
        highlight=False,
    )

"""``taxiway revisions`` for people: newest first, and which environment runs each one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console

from taxiway.cli import table_view
from taxiway.client.regions import parse_time


def _created(value: Any) -> str:
    at = parse_time(value)
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else "-"


def print_revisions(
    console: Console, service: str, revisions: Sequence[Mapping[str, Any]], current: Mapping[str, int]
) -> None:
    """``current`` maps each environment to the revision it points at."""
    if not revisions:
        console.print(f"{service} has no revisions yet; `taxiway deploy` makes the first", highlight=False)
        return
    table_view.print_table(
        console,
        ["REVISION", "CREATED BY", "CREATED AT", "DIGEST", "ENVIRONMENTS", "CURRENT IN"],
        [
            [
                str(r.get("number")),
                str(r.get("created_by") or "-"),
                _created(r.get("created_at")),
                table_view.short_digest(r.get("digest")),
                ", ".join(r.get("environments") or []) or "-",
                ", ".join(env for env, number in current.items() if number == r.get("number")) or "",
            ]
            for r in sorted(revisions, key=lambda r: int(r.get("number") or 0), reverse=True)
        ],
    )

"""``taxiway status`` for people: per service and environment, a region table and its instances."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from taxiway.cli import table_view
from taxiway.client.status import RegionStatus


def _revision(row: RegionStatus) -> str:
    reported = table_view.count(row.revision) if row.revision is not None else "-"
    if row.desired_revision is not None and row.revision != row.desired_revision:
        return f"{reported} → {row.desired_revision}"
    return reported


def _note(row: RegionStatus, now: datetime.datetime) -> str:
    notes = []
    if row.stale:
        notes.append(f"STALE: satellite last seen {table_view.age(row.last_seen, now)}")
    if row.message and row.phase != "ready":
        notes.append(row.message)
    return "; ".join(notes)


def print_status(console: Console, rows: Sequence[RegionStatus], now: datetime.datetime) -> None:
    if not rows:
        console.print("no status reported yet", highlight=False)
        return
    groups = itertools.groupby(rows, key=lambda r: (r.service, r.environment))
    for index, ((service, environment), group) in enumerate(groups):
        members = list(group)
        if index:
            console.print()
        desired = members[0].desired_revision
        wanted = f" (desired revision {desired})" if desired is not None else ""
        console.print(f"[bold]{escape(service)}[/] · {escape(environment)}{wanted}", highlight=False)
        table_view.print_table(
            console,
            ["REGION", "REVISION", "READY", "PHASE", "REPORTED", "NOTE"],
            [
                [
                    r.region,
                    _revision(r),
                    f"{table_view.count(r.ready_instances)}/{table_view.count(r.desired_instances)}"
                    if r.phase != "no report"
                    else "-",
                    r.phase,
                    table_view.age(r.reported_at, now),
                    _note(r, now),
                ]
                for r in members
            ],
            indent="  ",
        )
        # Only production goes through the region ingress: staging has nothing to serve from.
        instances = [(r.region, r.environment == "production", i) for r in members for i in r.instances]
        if instances:
            table_view.print_table(
                console,
                [
                    "INSTANCE",
                    "REGION",
                    "NODE",
                    "ENDPOINT",
                    "REVISION",
                    "STATE",
                    "READY",
                    "SERVING",
                    "RESTARTS",
                ],
                [
                    [
                        i.id,
                        region,
                        i.placement,
                        i.endpoint or "-",
                        table_view.count(i.revision),
                        i.state,
                        "yes" if i.ready else "no",
                        ("yes" if i.in_rotation else "no") if routed else "-",
                        str(i.restarts),
                    ]
                    for region, routed, i in instances
                ],
                indent="  ",
            )

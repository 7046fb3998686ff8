"""Alerts for people: ``taxiway alerts`` and the firing alerts under ``taxiway status SERVICE``.

One line per alert: its name, where (service, environment, region), its severity, its state
and since when. An alert whose ``service`` label named no service of the inventory shows
``-`` as its service (only admins see those).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from rich.console import Console

from taxiway.cli import table_view
from taxiway.wire.alerts import RecordedAlert


def _since(alert: RecordedAlert, now: datetime.datetime) -> str:
    return table_view.age(alert.starts_at, now)


def print_alerts(
    console: Console, alerts: Sequence[RecordedAlert], now: datetime.datetime, *, what: str
) -> None:
    """Every alert of ``alerts``; ``what`` names them when there are none (``firing alerts``)."""
    if not alerts:
        console.print(f"no {what}", highlight=False)
        return
    table_view.print_table(
        console,
        ["ALERT", "SERVICE", "ENVIRONMENT", "REGION", "SEVERITY", "STATE", "SINCE", "ENDED"],
        [
            [
                a.alertname or "-",
                a.service or "-",
                a.environment or "-",
                a.region or "-",
                a.severity or "-",
                a.status,
                _since(a, now),
                table_view.age(a.ends_at, now) if a.status == "resolved" and a.ends_at else "-",
            ]
            for a in alerts
        ],
    )


def print_firing(console: Console, alerts: Sequence[RecordedAlert], now: datetime.datetime) -> None:
    """The firing alerts of one service, under its status (nothing more when none fires)."""
    firing = [a for a in alerts if a.status == "firing"]
    console.print()
    if not firing:
        console.print("no alerts firing", highlight=False)
        return
    console.print(f"[bold]alerts firing[/] ({len(firing)})", highlight=False)
    table_view.print_table(
        console,
        ["ALERT", "ENVIRONMENT", "REGION", "SEVERITY", "SINCE", "SUMMARY"],
        [
            [
                a.alertname or "-",
                a.environment or "-",
                a.region or "-",
                a.severity or "-",
                _since(a, now),
                a.annotations.get("summary", ""),
            ]
            for a in firing
        ],
        indent="  ",
    )

"""``taxiway regions`` for people: each region, its runtime and its satellite's last report."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from rich.console import Console

from taxiway.cli import table_view
from taxiway.client.regions import Region


def _satellite(region: Region, now: datetime.datetime) -> str:
    if region.last_seen is None:
        return "never seen"
    seen = f"seen {table_view.age(region.last_seen, now)}"
    return f"{seen} (STALE)" if region.stale(now) else seen


def print_regions(console: Console, regions: Sequence[Region], now: datetime.datetime) -> None:
    table_view.print_table(
        console,
        ["REGION", "CONTINENT", "DRIVER", "SATELLITE", "CURSOR", "API", "FAILED NODES"],
        [
            [
                r.name,
                r.continent,
                r.driver,
                _satellite(r, now),
                table_view.count(r.cursor) if r.cursor is not None else "-",
                r.api or "-",
                ", ".join(r.failed_nodes) or "-",
            ]
            for r in regions
        ],
    )

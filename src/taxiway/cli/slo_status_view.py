"""``taxiway slo status``: per SLO and region (and global), the SLI, the budget left and its
trend, the burn rates, the alerts firing; ``--json`` for machines.

The trend is a small chart of the budget left over the last ``--trend`` (▁ spent, █ whole),
one character per fortieth of the span; blank where the Prometheus had nothing yet.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from typing import Any

from rich.console import Console

from taxiway.cli import table_view
from taxiway.client.slo_readings import Readings
from taxiway.plan.observability import slo_status
from taxiway.spec import units


def _percent(ratio: float | None, digits: int = 3) -> str:
    if ratio is None or not math.isfinite(ratio):
        return "-"
    return f"{ratio * 100:.{digits}f}%"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}×"


def _time(seconds: float | None) -> str:
    """Budget time in its two largest units: ``40m 19s``, ``6h 43m``, ``21d 14h``."""
    if seconds is None:
        return ""
    if seconds <= 0:
        return "spent"
    left = round(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size or (unit == "s" and not parts):
            parts.append(f"{left // size}{unit}")
            left %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


def _budget(status: slo_status.SloStatus) -> str:
    if status.budget_left is None:
        return "-"
    left = _time(status.budget_left_seconds)
    return f"{status.budget_left * 100:.1f}% ({left})"


def document(service: str, environment: str, readings: Readings) -> dict[str, Any]:
    return {
        "service": service,
        "environment": environment,
        "slos": [
            {
                "slo": s.slo,
                "where": s.where,
                "objective": s.objective,
                "period_days": s.period_days,
                "sli": s.sli,
                "error_budget_left": s.budget_left,
                "error_budget_left_seconds": s.budget_left_seconds,
                "burn_rate_now": s.burn_now,
                "burn_rate_1h": s.burn_1h,
                "alerts_firing": list(s.alerts),
                "trend": list(s.trend),
            }
            for s in readings.statuses
        ],
        "trend_seconds": readings.trend_seconds,
        "unreachable": readings.unreachable,
    }


def show(console: Console, service: str, environment: str, readings: Readings, *, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(document(service, environment, readings), indent=2) + "\n")
        return
    span = units.format_duration(readings.trend_seconds)
    if not readings.statuses:
        console.print(
            f"{service} ({environment}): no SLI yet — no request has reached it in its SLOs' windows, "
            "or it has no SLOs (`taxiway slo rules PATH --env ENV` prints its rules)",
            highlight=False,
        )
    else:
        headers = [
            "SLO",
            "WHERE",
            "OBJECTIVE",
            "SLI",
            "BUDGET LEFT",
            "BURN NOW",
            "BURN 1H",
            "ALERTS",
            f"BUDGET, LAST {span}",
        ]
        rows = [
            [
                s.slo,
                s.where,
                _percent(s.objective, 2),
                _percent(s.sli),
                _budget(s),
                _rate(s.burn_now),
                _rate(s.burn_1h),
                ",".join(s.alerts) or "-",
                slo_status.sparkline(s.trend),
            ]
            for s in readings.statuses
        ]
        console.print(f"{service} ({environment})", style="bold", highlight=False)
        table_view.print_table(console, headers, rows)
    for name, why in readings.unreachable.items():
        console.print(f"{name}: no answer ({why})", style="yellow", highlight=False)


def show_all(console: Console, environment: str, every: Mapping[str, Readings], *, as_json: bool) -> None:
    """Every service's status, one table after another (``--json``: a list of documents)."""
    if as_json:
        documents = [document(service, environment, readings) for service, readings in every.items()]
        sys.stdout.write(json.dumps(documents, indent=2) + "\n")
        return
    if not every:
        console.print(f"no service has SLO rules in {environment} yet", highlight=False)
    for index, (service, readings) in enumerate(every.items()):
        if index:
            console.print()
        show(console, service, environment, readings, as_json=False)

"""A service's SLO status read from every Prometheus that watches it (``taxiway slo status``).

Each regional Prometheus answers for its own region, the global one for ``global``; one
that does not answer is named in :attr:`Readings.unreachable` and the others still count,
since an on-call engineer needs the regions that answer most when one does not.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from taxiway.client import http
from taxiway.client.prometheus_api import PrometheusApi
from taxiway.errors import ProtocolError
from taxiway.plan.observability import names, slo_status

TREND_POINTS = 40


@dataclass(frozen=True)
class Readings:
    statuses: list[slo_status.SloStatus]
    unreachable: dict[str, str] = field(default_factory=dict)
    """Source name → why it gave nothing."""
    trend_seconds: float = 0.0


def services(environment: str, sources: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """The services any of ``sources`` has SLO rules for, and the sources that did not answer."""
    found: set[str] = set()
    unreachable: dict[str, str] = {}
    for name, url in sources.items():
        try:
            with PrometheusApi(url) as api:
                samples = api.query(slo_status.services_query(environment))
        except (http.Unreachable, ProtocolError) as exc:
            unreachable[name] = str(exc)
            continue
        found |= {s.labels[names.SERVICE] for s in samples if s.labels.get(names.SERVICE)}
    return sorted(found), unreachable


def read(
    service: str,
    environment: str,
    sources: Mapping[str, str],
    *,
    trend_seconds: float = 3600.0,
    now: float | None = None,
) -> Readings:
    end = time.time() if now is None else now
    start = end - trend_seconds
    statuses: list[slo_status.SloStatus] = []
    unreachable: dict[str, str] = {}
    for name, url in sources.items():
        try:
            with PrometheusApi(url) as api:
                answers = {
                    key: api.query(expr, at=end)
                    for key, expr in slo_status.queries(service, environment).items()
                }
                series = api.query_range(
                    slo_status.trend_query(service, environment), start, end, trend_seconds / TREND_POINTS
                )
        except (http.Unreachable, ProtocolError) as exc:
            unreachable[name] = str(exc)
            continue
        history = slo_status.trends(series, start, end, TREND_POINTS, name)
        found = slo_status.assemble(answers, history, default_where=name)
        statuses += [
            s
            for s in found
            if s.where == name or (name == slo_status.GLOBAL) == (s.where == slo_status.GLOBAL)
        ]
    return Readings(statuses=_unique(statuses), unreachable=unreachable, trend_seconds=trend_seconds)


def _unique(statuses: list[slo_status.SloStatus]) -> list[slo_status.SloStatus]:
    """One status per SLO and place (a global Prometheus may hold regional series too)."""
    seen: dict[tuple[str, str], slo_status.SloStatus] = {}
    for status in statuses:
        seen.setdefault((status.slo, status.where), status)
    return sorted(seen.values(), key=lambda s: (s.slo, s.where != slo_status.GLOBAL, s.where))

"""Where a service stands against its SLOs, from what its Prometheus servers answer. Pure.

``taxiway slo status`` asks each regional Prometheus (and the global one) the instant
queries of :func:`queries` — the recording rules of :mod:`taxiway.plan.observability.slo_rules`
— and the budget's recent history (:func:`trend_query`), and :func:`assemble` turns the
answers into one :class:`SloStatus` per SLO and region (or ``global``):

- the SLI over the SLO's window: ``1 − period burn rate × error budget`` (the rules'
  ``slo:period_burn_rate:ratio`` is the window's error ratio over the budget);
- the error budget left, as a ratio of the budget (negative once it is spent) and as time:
  the budget is ``(1 − objective) × window`` of full outage;
- the burn rate now (5 minutes) and over the last hour;
- the SLO's alerts firing there (page, ticket).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from taxiway.plan.observability import names
from taxiway.plan.observability.samples import Sample, Series

GLOBAL = "global"
GLOBAL_SUFFIX = ".global"
SLOTH_SLO = "sloth_slo"
ALERT_NAME = "SLOErrorBudgetBurn"

_SPARKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class SloStatus:
    slo: str
    where: str
    """A region, or ``global`` (every region, traffic-weighted)."""
    objective: float
    """A ratio: 0.999."""
    period_days: float
    sli: float | None
    budget_left: float | None
    """A ratio of the error budget; below 0 once it is spent."""
    burn_now: float | None
    burn_1h: float | None
    alerts: tuple[str, ...] = ()
    """The severities firing (``page``, ``ticket``)."""
    trend: tuple[float | None, ...] = ()
    """``budget_left`` over the trend's span, oldest first; ``None`` where unknown."""

    @property
    def budget_seconds(self) -> float:
        return (1 - self.objective) * self.period_days * 86400

    @property
    def budget_left_seconds(self) -> float | None:
        return None if self.budget_left is None else self.budget_left * self.budget_seconds


def _selector(service: str, environment: str) -> str:
    return f'{{{names.SERVICE}="{service}",{names.ENVIRONMENT}="{environment}"}}'


def queries(service: str, environment: str) -> dict[str, str]:
    """Name → the instant query whose answer :func:`assemble` reads."""
    selector = _selector(service, environment)
    return {
        "objective": f"slo:objective:ratio{selector}",
        "period_days": f"slo:time_period:days{selector}",
        "period_burn": f"slo:period_burn_rate:ratio{selector}",
        "budget_left": f"slo:period_error_budget_remaining:ratio{selector}",
        "burn_now": f"slo:current_burn_rate:ratio{selector}",
        "error_1h": f"slo:sli_error:ratio_rate1h{selector}",
        "budget": f"slo:error_budget:ratio{selector}",
        "alerts": f'ALERTS{{alertname="{ALERT_NAME}",alertstate="firing",'
        f'{names.SERVICE}="{service}",{names.ENVIRONMENT}="{environment}"}}',
    }


def services_query(environment: str) -> str:
    """Every service with SLO rules in ``environment`` (one sample per service)."""
    return f'count by ({names.SERVICE}) (slo:objective:ratio{{{names.ENVIRONMENT}="{environment}"}})'


def trend_query(service: str, environment: str) -> str:
    return f"slo:period_error_budget_remaining:ratio{_selector(service, environment)}"


def _slo_name(labels: Mapping[str, str]) -> str:
    name = labels.get(SLOTH_SLO, "")
    return name[: -len(GLOBAL_SUFFIX)] if name.endswith(GLOBAL_SUFFIX) else name


def _where(labels: Mapping[str, str], default: str) -> str:
    if labels.get(SLOTH_SLO, "").endswith(GLOBAL_SUFFIX):
        return GLOBAL
    return labels.get(names.REGION) or default


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _by_slo(samples: Sequence[Sample], default: str) -> dict[tuple[str, str], float | None]:
    return {(_slo_name(s.labels), _where(s.labels, default)): _finite(s.value) for s in samples}


def _per_slo(samples: Sequence[Sample]) -> dict[str, float | None]:
    """Meta recordings carry no region: one value per SLO (regional and global differ in name)."""
    return {s.labels.get(SLOTH_SLO, ""): _finite(s.value) for s in samples}


Trend = tuple[float | None, ...]
Key = tuple[str, str]
"""(SLO name, where)."""


def trends(
    series: Sequence[Series], start: float, end: float, points: int, default_where: str
) -> dict[Key, Trend]:
    """Each SLO's budget history, ``points`` values over [start, end]."""
    return {
        (_slo_name(s.labels), _where(s.labels, default_where)): resample(s, start, end, points)
        for s in series
    }


def assemble(
    answers: Mapping[str, Sequence[Sample]],
    trend: Mapping[Key, Trend] | None = None,
    *,
    default_where: str = GLOBAL,
) -> list[SloStatus]:
    """One status per SLO and place the answers of one Prometheus name (``default_where``:
    whose Prometheus it is, for series without a ``region``)."""
    left = _by_slo(answers.get("budget_left", ()), default_where)
    period_burn = _by_slo(answers.get("period_burn", ()), default_where)
    burn_now = _by_slo(answers.get("burn_now", ()), default_where)
    error_1h = _by_slo(answers.get("error_1h", ()), default_where)
    objective = _per_slo(answers.get("objective", ()))
    budget = _per_slo(answers.get("budget", ()))
    days = _per_slo(answers.get("period_days", ()))
    alerts: dict[tuple[str, str], set[str]] = {}
    for sample in answers.get("alerts", ()):
        labels = sample.labels
        key = (labels.get(names.SLO) or _slo_name(labels), _where(labels, default_where))
        alerts.setdefault(key, set()).add(labels.get(names.SEVERITY, "?"))
    trend = trend or {}
    statuses = []
    for key in sorted(set(left) | set(period_burn) | set(burn_now)):
        slo, where = key
        sloth_name = slo + (GLOBAL_SUFFIX if where == GLOBAL else "")
        ratio = objective.get(sloth_name)
        error_budget = budget.get(sloth_name) or (1 - ratio if ratio is not None else None)
        burn = period_burn.get(key)
        recent = error_1h.get(key)
        statuses.append(
            SloStatus(
                slo=slo,
                where=where,
                objective=ratio if ratio is not None else math.nan,
                period_days=days.get(sloth_name) or 30.0,
                sli=None if burn is None or error_budget is None else 1 - burn * error_budget,
                budget_left=left.get(key),
                burn_now=burn_now.get(key),
                burn_1h=None if recent is None or not error_budget else recent / error_budget,
                alerts=tuple(sorted(alerts.get(key, ()))),
                trend=trend.get(key, ()),
            )
        )
    return statuses


def resample(series: Series, start: float, end: float, buckets: int) -> Trend:
    """The series' last value in each of ``buckets`` equal spans of [start, end]."""
    width = (end - start) / buckets if buckets else 0.0
    out: list[float | None] = [None] * buckets
    for at, value in series.points:
        if width and start <= at <= end and math.isfinite(value):
            out[min(buckets - 1, int((at - start) / width))] = value
    return tuple(out)


def sparkline(values: Sequence[float | None], low: float = 0.0, high: float = 1.0) -> str:
    """One character per value, ``▁`` at ``low`` (or below) to ``█`` at ``high``; a blank
    where a value is unknown."""
    chars = []
    for value in values:
        if value is None:
            chars.append(" ")
            continue
        share = 0.0 if high <= low else (min(max(value, low), high) - low) / (high - low)
        chars.append(_SPARKS[min(len(_SPARKS) - 1, int(share * len(_SPARKS)))])
    return "".join(chars)

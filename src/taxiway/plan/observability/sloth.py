"""Sloth's SLO rules: an SLO in Sloth's terms → the Prometheus rule groups Sloth generates.

Sloth (slok/sloth, ``prometheus/v1`` specs, ``sloth generate``) is the most used SLO
generator for Prometheus; its Grafana dashboards and many teams' alerts read the rules it
writes. This module writes the same rules, expression text and labels included, so both
keep working on Taxiway's: three groups per SLO (SLI recordings, metadata recordings,
multi-window multi-burn-rate alerts). The facts it reproduces, and why, are in
``docs/slos.md``. Callers: :mod:`taxiway.plan.observability.slo_rules` (a manifest's SLOs)
and ``taxiway slo rules --sloth`` (Sloth's own specs). Pure: plain data in, plain data out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from taxiway.plan.observability import promql_text
from taxiway.spec import sloth_spec

SLI_ERROR = "slo:sli_error:ratio_rate{window}"
OBJECTIVE = "slo:objective:ratio"
ERROR_BUDGET = "slo:error_budget:ratio"
TIME_PERIOD_DAYS = "slo:time_period:days"
CURRENT_BURN_RATE = "slo:current_burn_rate:ratio"
PERIOD_BURN_RATE = "slo:period_burn_rate:ratio"
PERIOD_BUDGET_REMAINING = "slo:period_error_budget_remaining:ratio"
INFO = "sloth_slo_info"

ID_LABEL = "sloth_id"
SERVICE_LABEL = "sloth_service"
SLO_LABEL = "sloth_slo"
WINDOW_LABEL = "sloth_window"
SEVERITY_LABEL = "sloth_severity"

PAGE, TICKET = "page", "ticket"

_MINUTE, _HOUR, _DAY = 60_000, 3_600_000, 86_400_000
DAYS_28, DAYS_30 = 28 * _DAY, 30 * _DAY
"""Sloth's two built-in periods (``google-28d``, ``google-30d``)."""


@dataclass(frozen=True)
class EventsSli:
    """Bad events over all events, each a PromQL query with ``{{.window}}`` in its ranges."""

    error_query: str
    total_query: str


@dataclass(frozen=True)
class RawSli:
    """The error ratio directly, one PromQL query with ``{{.window}}`` in its ranges."""

    error_ratio_query: str


Sli = EventsSli | RawSli


@dataclass(frozen=True)
class Alert:
    """One severity's alert rule: its name and what it adds to the alert."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Slo:
    """An SLO as Sloth models it (``objective`` in percent, ``period`` in milliseconds)."""

    id: str
    name: str
    service: str
    objective: float
    period: int
    sli: Sli
    labels: Mapping[str, str] = field(default_factory=dict)
    page: Alert | None = None
    ticket: Alert | None = None

    @property
    def id_labels(self) -> dict[str, str]:
        return {ID_LABEL: self.id, SERVICE_LABEL: self.service, SLO_LABEL: self.name}


@dataclass(frozen=True)
class Generator:
    """Who generated the rules, as ``sloth_slo_info`` says."""

    version: str
    mode: str = "cli-gen-prom"
    spec: str = "prometheus/v1"
    labelled_period: bool = False
    """Whether the period's SLI rule carries the SLO's labels as well as the window.
    Sloth's carries only ``sloth_window`` (the rest comes with the series it reads), which
    makes ``promtool check rules`` report two SLOs' period rules in one file as
    duplicates; Taxiway's own rules name them (the same values: the series do not change)."""


@dataclass(frozen=True)
class BurnWindow:
    """One alert's windows: it fires when both burn faster than ``budget_percent`` of the
    whole period's budget would be spent in the long window."""

    budget_percent: float
    short: int
    long: int

    def factor(self, period: int) -> float:
        """The burn rate: ``budget% × period / long window`` (14.4 for 2% of 30d in 1h)."""
        # Sloth's arithmetic, in its order, so the float is the same to the last bit.
        return self.budget_percent * _hours(period) / 100 / _hours(self.long)


@dataclass(frozen=True)
class BurnWindows:
    """The SRE workbook's multi-window multi-burn-rate alerts: two per severity."""

    page_quick: BurnWindow
    page_slow: BurnWindow
    ticket_quick: BurnWindow
    ticket_slow: BurnWindow

    def all(self) -> tuple[BurnWindow, ...]:
        return (self.page_quick, self.page_slow, self.ticket_quick, self.ticket_slow)


GOOGLE = BurnWindows(
    page_quick=BurnWindow(2, 5 * _MINUTE, _HOUR),
    page_slow=BurnWindow(5, 30 * _MINUTE, 6 * _HOUR),
    ticket_quick=BurnWindow(10, 2 * _HOUR, _DAY),
    ticket_slow=BurnWindow(10, 6 * _HOUR, 3 * _DAY),
)
"""Sloth's ``google-30d`` and ``google-28d``: the same budget shares and windows (the SRE
workbook's recommendation); only the burn factors differ with the period. Any other period
keeps them too, its factors scaled the same way (:meth:`BurnWindow.factor`)."""


def _hours(milliseconds: int) -> float:
    """Go's ``Duration.Hours``: whole hours plus the rest as a fraction."""
    whole, rest = divmod(milliseconds, _HOUR)
    return float(whole) + float(rest * 1_000_000) / (60 * 60 * 1e9)


def sli_metric(window: int) -> str:
    return SLI_ERROR.format(window=promql_text.duration(window))


def _merged(*maps: Mapping[str, str]) -> dict[str, str]:
    """Later maps win, as Sloth's ``mergeLabels``."""
    result: dict[str, str] = {}
    for mapping in maps:
        result.update(mapping)
    return result


def _with_window(query: str, window: int) -> str:
    return sloth_spec.WINDOW_ACTION.sub(promql_text.duration(window), query)


def _sli_rule(slo: Slo, window: int) -> dict[str, Any]:
    if isinstance(slo.sli, EventsSli):
        expr = f"({slo.sli.error_query})\n/\n({slo.sli.total_query})\n"
    else:
        expr = f"({slo.sli.error_ratio_query})"
    labels = _merged(slo.id_labels, {WINDOW_LABEL: promql_text.duration(window)}, slo.labels)
    return {"record": sli_metric(window), "expr": _with_window(expr, window), "labels": labels}


def _period_sli_rule(slo: Slo, short: int, labelled: bool) -> dict[str, Any]:
    """The period's SLI from the shortest window's: summed ratios over their count (an
    average of averages would be wrong), cheap enough to evaluate over 30 days. Its other
    labels come from the series it reads."""
    source = sli_metric(short) + promql_text.matchers(slo.id_labels)
    window = promql_text.duration(slo.period)
    expr = (
        f"sum_over_time({source}[{window}])\n"
        f"/ ignoring ({WINDOW_LABEL})\n"
        f"count_over_time({source}[{window}])\n"
    )
    labels = (
        _merged(slo.id_labels, {WINDOW_LABEL: window}, slo.labels) if labelled else {WINDOW_LABEL: window}
    )
    return {"record": sli_metric(slo.period), "expr": expr, "labels": labels}


def sli_windows(windows: BurnWindows) -> list[int]:
    """Every window the alerts read, shortest first, each once."""
    return sorted({w for burn in windows.all() for w in (burn.short, burn.long)})


def sli_rules(slo: Slo, generator: Generator, windows: BurnWindows = GOOGLE) -> list[dict[str, Any]]:
    rules = [_sli_rule(slo, window) for window in sli_windows(windows)]
    # A period that is also an alert window has its SLI already (no second, clashing rule).
    if slo.period not in sli_windows(windows):
        rules.append(_period_sli_rule(slo, windows.page_quick.short, generator.labelled_period))
    return rules


def _burn_rate(sli: str, filter_: str) -> str:
    return (
        f"{sli}{filter_}\n"
        f"/ on({ID_LABEL}, {SLO_LABEL}, {SERVICE_LABEL}) group_left\n"
        f"{ERROR_BUDGET}{filter_}\n"
    )


def meta_rules(slo: Slo, generator: Generator, windows: BurnWindows = GOOGLE) -> list[dict[str, Any]]:
    labels = _merged(slo.id_labels, slo.labels)
    ratio = promql_text.go_g(slo.objective / 100)
    filter_ = promql_text.matchers(slo.id_labels)
    info = {
        "sloth_version": generator.version,
        "sloth_mode": generator.mode,
        "sloth_spec": generator.spec,
        "sloth_objective": promql_text.go_fixed(slo.objective),
    }
    return [
        {"record": OBJECTIVE, "expr": f"vector({ratio})", "labels": labels},
        {"record": ERROR_BUDGET, "expr": f"vector(1-{ratio})", "labels": labels},
        {
            "record": TIME_PERIOD_DAYS,
            "expr": f"vector({promql_text.go_g(_hours(slo.period) / 24)})",
            "labels": labels,
        },
        {
            "record": CURRENT_BURN_RATE,
            "expr": _burn_rate(sli_metric(windows.page_quick.short), filter_),
            "labels": labels,
        },
        {"record": PERIOD_BURN_RATE, "expr": _burn_rate(sli_metric(slo.period), filter_), "labels": labels},
        {"record": PERIOD_BUDGET_REMAINING, "expr": f"1 - {PERIOD_BURN_RATE}{filter_}", "labels": labels},
        {"record": INFO, "expr": "vector(1)", "labels": _merged(labels, info)},
    ]


def _alert_expr(slo: Slo, quick: BurnWindow, slow: BurnWindow) -> str:
    filter_ = promql_text.matchers(slo.id_labels)
    budget = promql_text.go_g((100 - slo.objective) / 100)

    def over(window: int, burn: BurnWindow) -> str:
        factor = promql_text.go_g(burn.factor(slo.period))
        return f"({sli_metric(window)}{filter_} > ({factor} * {budget}))"

    return (
        "(\n"
        f"    {over(quick.short, quick)}\n"
        f"    and ignoring ({WINDOW_LABEL})\n"
        f"    {over(quick.long, quick)}\n"
        ")\n"
        f"or ignoring ({WINDOW_LABEL})\n"
        "(\n"
        f"    {over(slow.short, slow)}\n"
        f"    and ignoring ({WINDOW_LABEL})\n"
        f"    {over(slow.long, slow)}\n"
        ")\n"
    )


def _alert_rule(slo: Slo, alert: Alert, severity: str, quick: BurnWindow, slow: BurnWindow) -> dict[str, Any]:
    service, name = f"{{{{$labels.{SERVICE_LABEL}}}}}", f"{{{{$labels.{SLO_LABEL}}}}}"
    annotations = {
        "title": f"({severity}) {service} {name} SLO error budget burn rate is too fast.",
        "summary": f"{service} {name} SLO error budget burn rate is over expected.",
    }
    return {
        "alert": alert.name,
        "expr": _alert_expr(slo, quick, slow),
        # The SLO's labels come with the series the expression reads: not repeated here.
        "labels": _merged({SEVERITY_LABEL: severity}, alert.labels),
        "annotations": _merged(annotations, alert.annotations),
    }


def alert_rules(slo: Slo, windows: BurnWindows = GOOGLE) -> list[dict[str, Any]]:
    rules = []
    if slo.page is not None:
        rules.append(_alert_rule(slo, slo.page, PAGE, windows.page_quick, windows.page_slow))
    if slo.ticket is not None:
        rules.append(_alert_rule(slo, slo.ticket, TICKET, windows.ticket_quick, windows.ticket_slow))
    return rules


def rule_groups(
    slos: Sequence[Slo], generator: Generator, windows: BurnWindows = GOOGLE
) -> list[dict[str, Any]]:
    """Sloth's groups for ``slos``, in Sloth's order: per SLO its SLI recordings, its
    metadata recordings, its alerts (no alerts group when both alerts are off)."""
    groups: list[dict[str, Any]] = []
    for slo in slos:
        groups.append(
            {"name": f"sloth-slo-sli-recordings-{slo.id}", "rules": sli_rules(slo, generator, windows)}
        )
        groups.append(
            {"name": f"sloth-slo-meta-recordings-{slo.id}", "rules": meta_rules(slo, generator, windows)}
        )
        alerts = alert_rules(slo, windows)
        if alerts:
            groups.append({"name": f"sloth-slo-alerts-{slo.id}", "rules": alerts})
    return groups


def _alert_of(slo: sloth_spec.SlothSlo, switch: sloth_spec.AlertSwitch) -> Alert | None:
    if switch.disable:
        return None
    return Alert(
        name=slo.alerting.name,
        labels=_merged(slo.alerting.labels, switch.labels),
        annotations=_merged(slo.alerting.annotations, switch.annotations),
    )


def _sli_of(sli: sloth_spec.Sli) -> Sli:
    if sli.events is not None:
        return EventsSli(sli.events.error_query, sli.events.total_query)
    if sli.raw is not None:
        return RawSli(sli.raw.error_ratio_query)
    raise ValueError("an SLI without a query (a plugin): sloth_spec.parse refuses those")


def slos_from_spec(spec: sloth_spec.SlothSpec, period: int) -> list[Slo]:
    """A Sloth spec's SLOs as Sloth maps them (``period`` as ``--default-slo-period``):
    id ``<service>-<slo>``, the spec's labels under the SLO's."""
    return [
        Slo(
            id=f"{spec.service}-{slo.name}",
            name=slo.name,
            service=spec.service,
            objective=slo.objective,
            period=period,
            sli=_sli_of(slo.sli),
            labels=_merged(spec.labels, slo.labels),
            page=_alert_of(slo, slo.alerting.page_alert),
            ticket=_alert_of(slo, slo.alerting.ticket_alert),
        )
        for slo in spec.slos
    ]

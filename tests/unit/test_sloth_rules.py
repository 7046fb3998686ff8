"""Sloth specs in, Sloth's rules out: each case's parsed output equals the rules Sloth
generates for it (``sloth_cases/<name>.rules.yml``, worked out by hand from Sloth's
templates), and the rendered text reads back as the same data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from taxiway.plan.observability import rule_text, slo_rules, sloth
from taxiway.spec import document, sloth_spec

CASES = Path(__file__).parent / "sloth_cases"
DAY = 86_400_000


def _yaml(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def _generated(name: str, period: int) -> dict[str, Any]:
    path = CASES / f"{name}.yml"
    spec = sloth_spec.parse(document.parse(path.read_text(), str(path)))
    return {"groups": sloth.rule_groups(sloth.slos_from_spec(spec, period), slo_rules.GENERATOR)}


@pytest.mark.parametrize(("name", "days"), [("checkout", 30), ("search", 30), ("ledger", 28)])
def test_a_spec_generates_what_sloth_generates(name: str, days: int) -> None:
    expected = _yaml((CASES / f"{name}.rules.yml").read_text())
    generated = _generated(name, days * DAY)
    assert [g["name"] for g in generated["groups"]] == [g["name"] for g in expected["groups"]]
    for ours, theirs in zip(generated["groups"], expected["groups"], strict=True):
        assert ours["rules"] == theirs["rules"], ours["name"]
    assert _yaml(rule_text.render(generated)) == expected


def test_no_alerts_means_no_alerts_group() -> None:
    names = [g["name"] for g in _generated("ledger", 28 * DAY)["groups"]]
    assert "sloth-slo-alerts-ledger-reads" not in names
    assert "sloth-slo-alerts-ledger-writes" in names


def test_the_30d_burn_factors_are_the_workbooks() -> None:
    factors = [window.factor(30 * DAY) for window in sloth.GOOGLE.all()]
    assert factors == [14.4, 6.0, 3.0, 1.0]


def test_other_periods_keep_the_budget_shares() -> None:
    # 7 days: 2% of the budget in 1h is a burn of 2% × 168h / 1h.
    factors = [window.factor(7 * DAY) for window in sloth.GOOGLE.all()]
    assert factors == pytest.approx([3.36, 1.4, 0.7, 0.2333333])


def test_a_period_that_is_an_alert_window_is_recorded_once() -> None:
    slo = sloth.Slo("s-x", "x", "s", 99.0, 3 * DAY, sloth.RawSli("rate(e[{{.window}}])"))
    records = [rule["record"] for rule in sloth.sli_rules(slo, slo_rules.GENERATOR)]
    assert records.count("slo:sli_error:ratio_rate3d") == 1
    assert len(records) == len(set(records))

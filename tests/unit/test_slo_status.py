"""Reading an SLO's standing from the Sloth recording rules' answers."""

from __future__ import annotations

import math

import pytest

from taxiway.plan.observability import slo_status
from taxiway.plan.observability.samples import Sample, Series


def _sample(value: float, **labels: str) -> Sample:
    return Sample(labels, value)


def test_regional_and_global_answers_become_one_status_each() -> None:
    answers = {
        "objective": [
            _sample(0.999, sloth_slo="availability"),
            _sample(0.999, sloth_slo="availability.global"),
        ],
        "budget": [_sample(0.001, sloth_slo="availability"), _sample(0.001, sloth_slo="availability.global")],
        "period_days": [_sample(30, sloth_slo="availability"), _sample(30, sloth_slo="availability.global")],
        "period_burn": [
            _sample(2.0, sloth_slo="availability", region="europe-west1"),
            _sample(0.5, sloth_slo="availability.global"),
        ],
        "budget_left": [
            _sample(-1.0, sloth_slo="availability", region="europe-west1"),
            _sample(0.5, sloth_slo="availability.global"),
        ],
        "burn_now": [_sample(200.0, sloth_slo="availability", region="europe-west1")],
        "error_1h": [_sample(0.02, sloth_slo="availability", region="europe-west1")],
        "alerts": [
            _sample(1, slo="availability", region="europe-west1", severity="page"),
            _sample(1, slo="availability", region="europe-west1", severity="ticket"),
        ],
    }
    found = {(s.slo, s.where): s for s in slo_status.assemble(answers, default_where="europe-west1")}
    regional = found["availability", "europe-west1"]
    assert regional.sli == pytest.approx(1 - 2.0 * 0.001)
    assert regional.budget_left == -1.0
    assert regional.budget_left_seconds == pytest.approx(-0.001 * 30 * 86400)
    assert regional.burn_now == 200.0
    assert regional.burn_1h == pytest.approx(20.0)
    assert regional.alerts == ("page", "ticket")
    central = found["availability", "global"]
    assert central.sli == pytest.approx(1 - 0.5 * 0.001)
    assert central.budget_seconds == pytest.approx(0.001 * 30 * 86400)
    assert central.alerts == ()
    assert central.burn_now is None


def test_not_a_number_is_unknown_not_zero() -> None:
    answers = {"budget_left": [_sample(math.nan, sloth_slo="latency", region="us-east1")]}
    (status,) = slo_status.assemble(answers, default_where="us-east1")
    assert status.budget_left is None
    assert status.budget_left_seconds is None
    assert status.sli is None


def test_trend_is_resampled_and_drawn_from_spent_to_whole() -> None:
    series = Series(
        {"sloth_slo": "availability", "region": "us-east1"}, ((0.0, 1.0), (50.0, 0.5), (99.0, -3.0))
    )
    trend = slo_status.trends([series], 0.0, 100.0, 4, "us-east1")[("availability", "us-east1")]
    assert trend == (1.0, None, 0.5, -3.0)
    assert slo_status.sparkline(trend) == "█ ▅▁"
    assert slo_status.sparkline([0.0, 1.0, 2.0]) == "▁██"


def test_queries_select_the_service_and_environment() -> None:
    queries = slo_status.queries("hello", "production")
    assert all('service="hello",environment="production"' in q for q in queries.values())
    assert queries["alerts"].startswith('ALERTS{alertname="SLOErrorBudgetBurn",alertstate="firing"')

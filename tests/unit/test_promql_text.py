"""Values spelt as Go and Prometheus spell them, which Sloth's output is made of."""

from __future__ import annotations

import pytest

from taxiway.plan.observability import promql_text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (99.9 / 100, "0.9990000000000001"),
        ((100 - 99.9) / 100, "0.0009999999999999432"),
        (14.4, "14.4"),
        (6.0, "6"),
        (30.0, "30"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (123456.0, "123456"),
        (1e6, "1e+06"),
        (1234567.0, "1.234567e+06"),
        (-0.5, "-0.5"),
        (0.0, "0"),
    ],
)
def test_floats_as_go_prints_them(value: float, text: str) -> None:
    assert promql_text.go_g(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(99.9, "99.9"), (99.0, "99"), (1e-5, "0.00001"), (1e21, "1" + "0" * 21)]
)
def test_fixed_floats_never_take_an_exponent(value: float, text: str) -> None:
    assert promql_text.go_fixed(value) == text


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0s"),
        (300_000, "5m"),
        (5_400_000, "1h30m"),
        (86_400_000, "1d"),
        (7 * 86_400_000, "1w"),
        (28 * 86_400_000, "4w"),
        (30 * 86_400_000, "30d"),
        (90 * 86_400_000, "90d"),
        (365 * 86_400_000, "1y"),
        (1500, "1s500ms"),
    ],
)
def test_durations_as_prometheus_prints_them(ms: int, text: str) -> None:
    assert promql_text.duration(ms) == text


def test_matchers_are_sorted_and_quoted() -> None:
    assert promql_text.matchers({"b": 'say "hi"', "a": "1"}) == '{a="1", b="say \\"hi\\""}'

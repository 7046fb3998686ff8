"""``dynamic_latency`` ordering on virtual check durations: no HAProxy, no clock."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taxiway.plan.edge import rtt
from taxiway.plan.haproxy import answers

FAILOVER = ("us-east1", "europe-west1", "asia-northeast3")
# One-way delays as a PoP in Frankfurt might see them, in ms of check duration.
TRUE_RTT = {"us-east1": 90.0, "europe-west1": 4.0, "asia-northeast3": 230.0}
NEAREST_FIRST = ("europe-west1", "us-east1", "asia-northeast3")


def feed(
    rounds: list[dict[str, float]], estimates: dict[str, rtt.Estimate] | None = None
) -> list[tuple[str, ...]]:
    """Fold each round in and return the order after each one."""
    estimates = dict(estimates or {})
    orders = []
    for samples in rounds:
        estimates = rtt.observe(estimates, samples)
        orders.append(rtt.order(FAILOVER, estimates))
    return orders


def test_failover_order_until_every_pool_has_a_sample() -> None:
    orders = feed([{"europe-west1": 4.0}, {"asia-northeast3": 230.0}, {"us-east1": 90.0}])
    assert orders == [FAILOVER, FAILOVER, NEAREST_FIRST]


def test_clean_samples_give_the_right_order_at_the_first_probe() -> None:
    assert feed([TRUE_RTT]) == [NEAREST_FIRST]


@pytest.mark.parametrize("seed", range(20))
def test_converges_within_three_samples_despite_jitter_and_a_misleading_first_probe(seed: int) -> None:
    noise = random.Random(seed)

    def jittered() -> dict[str, float]:
        return {pool: value * noise.uniform(0.8, 1.2) for pool, value in TRUE_RTT.items()}

    # The first probe of the nearest region was stuck behind a slow check: 150 ms.
    first = {**jittered(), "europe-west1": 150.0}
    orders = feed([first, jittered(), jittered(), jittered(), jittered()])
    assert orders[2:] == [NEAREST_FIRST] * 3


def test_a_region_that_slows_down_is_overtaken_within_three_samples() -> None:
    estimates = rtt.observe({}, TRUE_RTT)
    slower = {**TRUE_RTT, "europe-west1": 400.0}
    orders = feed([slower, slower, slower], estimates)
    assert orders[-1] == ("us-east1", "asia-northeast3", "europe-west1")
    assert orders[0][0] == "us-east1"


def test_equal_estimates_keep_the_failover_order() -> None:
    same = dict.fromkeys(FAILOVER, 10.0)
    assert feed([same]) == [FAILOVER]
    assert rtt.order(("b", "a"), rtt.observe({}, {"a": 5.0, "b": 5.0})) == ("b", "a")


def test_the_dead_band_keeps_the_current_order_for_small_differences() -> None:
    estimates = rtt.observe({}, {"us-east1": 20.0, "europe-west1": 19.0, "asia-northeast3": 230.0})
    band = rtt.Band(relative=0.1, absolute_ms=2.0)
    assert rtt.order(FAILOVER, estimates, current=FAILOVER, band=band) == FAILOVER
    assert rtt.order(FAILOVER, estimates) == ("europe-west1", "us-east1", "asia-northeast3")
    far_better = rtt.observe(estimates, {"europe-west1": 1.0}, alpha=1.0)
    assert rtt.order(FAILOVER, far_better, current=FAILOVER, band=band)[0] == "europe-west1"


def test_the_dead_band_moves_a_pool_past_several_slower_ones() -> None:
    estimates = rtt.observe({}, {"us-east1": 100.0, "europe-west1": 200.0, "asia-northeast3": 5.0})
    band = rtt.Band()
    assert rtt.order(FAILOVER, estimates, current=FAILOVER, band=band) == (
        "asia-northeast3",
        "us-east1",
        "europe-west1",
    )


def test_a_current_order_for_other_pools_is_ignored() -> None:
    estimates = rtt.observe({}, TRUE_RTT)
    assert rtt.order(FAILOVER, estimates, current=("us-east1",), band=rtt.Band()) == NEAREST_FIRST


def test_ewma_arithmetic_and_its_guards() -> None:
    first = rtt.update(None, 10.0)
    assert first == rtt.Estimate(10.0, 1)
    assert rtt.update(first, 20.0, alpha=0.5) == rtt.Estimate(15.0, 2)
    with pytest.raises(ValueError, match="alpha"):
        rtt.update(first, 1.0, alpha=0.0)
    with pytest.raises(ValueError, match="negative"):
        rtt.update(first, -1.0)
    with pytest.raises(ValueError, match="twice"):
        rtt.order(("a", "a"), {})


def _row(name: str, status: str | None, duration: int | None) -> answers.StatRow:
    return answers.StatRow(
        proxy="hello",
        name=name,
        kind=answers.ProxyKind.SERVER,
        status="UP",
        current_sessions=0,
        check_status=status,
        check_in_progress=False,
        check_code=None,
        check_duration_ms=duration,
        fields={},
    )


def test_samples_come_only_from_passed_checks() -> None:
    rows = {
        "us-east1": _row("us-east1", "L7OK", 12),
        "europe-west1": _row("europe-west1", "L4TOUT", 3000),
        "asia-northeast3": _row("asia-northeast3", "L4OK", 0),
        "fallback.us-east1": _row("fallback.us-east1", None, None),
    }
    assert rtt.sample(rows) == {"us-east1": 12.0, "asia-northeast3": 0.0}


@given(
    st.dictionaries(st.sampled_from(FAILOVER), st.floats(0, 1000), min_size=3),
    st.permutations(FAILOVER),
)
def test_order_is_always_a_permutation_and_sorted_without_a_band(
    samples: dict[str, float], current: list[str]
) -> None:
    estimates = rtt.observe({}, samples)
    ordered = rtt.order(FAILOVER, estimates)
    assert sorted(ordered) == sorted(FAILOVER)
    assert [estimates[p].rtt_ms for p in ordered] == sorted(estimates[p].rtt_ms for p in FAILOVER)
    banded = rtt.order(FAILOVER, estimates, current=current, band=rtt.Band())
    assert sorted(banded) == sorted(FAILOVER)
    band = rtt.Band()
    assert not any(
        band.beats(estimates[b].rtt_ms, estimates[a].rtt_ms) for a, b in itertools.pairwise(banded)
    )

"""Steering decisions and the PoP's report over virtual check results: no HAProxy, no clock."""

from __future__ import annotations

import random

from taxiway.plan.edge import popconfig, rtt, status_report, steering
from taxiway.plan.haproxy import answers, config

FAILOVER = ("us-east1", "europe-west1", "asia-northeast3")
# What a PoP in Frankfurt might measure through its checks, in ms.
TRUE_RTT = {"us-east1": 90.0, "europe-west1": 4.0, "asia-northeast3": 230.0}
NEAREST_FIRST = ("europe-west1", "us-east1", "asia-northeast3")
INTERVAL = 2.0
BAND = rtt.Band()


def row(
    name: str, duration: int | None = 5, *, status: str = "UP", check: str = "L7OK", code: int | None = 200
) -> answers.StatRow:
    return answers.StatRow(
        proxy="hello",
        name=name,
        kind=answers.ProxyKind.SERVER,
        status=status,
        current_sessions=0,
        check_status=check,
        check_in_progress=False,
        check_code=code,
        check_duration_ms=duration,
        fields={},
    )


def rows(durations: dict[str, float]) -> dict[str, answers.StatRow]:
    """Every pool up, its last check passed in ``durations[pool]`` ms."""
    return {name: row(name, round(ms)) for name, ms in durations.items()}


def tick(
    state: steering.State,
    seen: dict[str, answers.StatRow],
    now: float,
    *,
    steer: str = "dynamic_latency",
    settled: bool = True,
    alpha: float = 0.3,
) -> steering.State:
    return steering.step(
        state,
        steering=steer,
        failover=FAILOVER,
        rows=seen,
        interval=INTERVAL,
        now=now,
        alpha=alpha,
        band=BAND,
        settled=settled,
    )


def test_with_no_data_the_order_is_the_failover_order() -> None:
    state = tick(steering.initial(FAILOVER), {}, 0.0)
    assert state.order == FAILOVER
    assert state.estimates == {}


def test_noisy_samples_reach_the_right_order_within_three_probe_intervals() -> None:
    generator = random.Random(4)
    for _ in range(200):
        state = steering.initial(FAILOVER)
        # the controller ticks every half interval; HAProxy checks once per interval
        for number in range(6):
            noisy = {
                p: ms * generator.uniform(0.7, 1.3) + generator.uniform(0, 3) for p, ms in TRUE_RTT.items()
            }
            state = tick(state, rows(noisy), number * INTERVAL / 2)
        assert state.order == NEAREST_FIRST


def test_a_sample_is_folded_at_once_the_first_time_then_once_per_interval() -> None:
    state = tick(steering.initial(FAILOVER), rows(TRUE_RTT), 0.0)
    assert state.order == NEAREST_FIRST  # the first check of every pool is enough
    assert {p: e.samples for p, e in state.estimates.items()} == dict.fromkeys(FAILOVER, 1)
    state = tick(state, rows(TRUE_RTT), 1.0)
    assert {e.samples for e in state.estimates.values()} == {1}
    state = tick(state, rows(TRUE_RTT), 1.9)
    assert {e.samples for e in state.estimates.values()} == {2}


def test_the_order_waits_until_every_healthy_pool_is_measured() -> None:
    partial = {p: row(p, round(TRUE_RTT[p])) for p in ("europe-west1", "asia-northeast3")}
    partial["us-east1"] = row("us-east1", None, check="", code=None)  # up, no check result yet
    state = tick(steering.initial(FAILOVER), partial, 0.0)
    assert state.order == FAILOVER
    state = tick(state, rows(TRUE_RTT), 2.0)
    assert state.order == NEAREST_FIRST


def test_a_pool_down_from_the_start_does_not_freeze_steering_and_goes_last() -> None:
    seen = rows(TRUE_RTT)
    seen["europe-west1"] = row("europe-west1", 1000, status="DOWN", check="L4CON", code=None)
    state = tick(steering.initial(FAILOVER), seen, 0.0)
    assert state.order == ("us-east1", "asia-northeast3", "europe-west1")
    state = tick(state, rows(TRUE_RTT), 2.0)  # it comes up and is measured
    assert state.order == NEAREST_FIRST


def test_a_measured_pool_that_goes_down_keeps_its_place_and_its_estimate() -> None:
    state = tick(steering.initial(FAILOVER), rows(TRUE_RTT), 0.0)
    seen = rows(TRUE_RTT)
    seen["europe-west1"] = row("europe-west1", 1000, status="DOWN", check="L4TOUT", code=None)
    for number in range(1, 5):
        state = tick(state, seen, number * INTERVAL)
    assert state.order == NEAREST_FIRST
    assert state.estimates["europe-west1"].samples == 1


def test_small_differences_do_not_reorder_and_a_clear_change_does() -> None:
    close = {"us-east1": 10.0, "europe-west1": 9.5, "asia-northeast3": 30.0}
    state = tick(steering.initial(FAILOVER), rows(close), 0.0)
    assert state.order == FAILOVER  # 0.5 ms is inside the dead band: no reload for noise
    moved = {"us-east1": 80.0, "europe-west1": 9.5, "asia-northeast3": 30.0}  # us-east1 got far
    orders = []
    for number in range(1, 6):
        state = tick(state, rows(moved), number * INTERVAL)
        orders.append(state.order)
    assert orders[-1] == ("europe-west1", "asia-northeast3", "us-east1")
    assert orders.index(orders[-1]) <= 2  # within three probe intervals of the change


def test_failover_steering_keeps_the_manifest_order_but_still_measures() -> None:
    state = tick(steering.initial(FAILOVER), rows(TRUE_RTT), 0.0, steer="failover")
    assert state.order == FAILOVER
    assert state.estimates["europe-west1"].rtt_ms == 4.0


def test_right_after_a_reload_only_rows_that_prove_a_real_check_are_sampled() -> None:
    restored = {p: row(p, 0, code=0) for p in FAILOVER}  # what show stat says right after a reload
    state = tick(steering.initial(FAILOVER), restored, 0.0, settled=False)
    assert state.estimates == {}
    restored["europe-west1"] = row("europe-west1", 4)  # its first real check, status code and all
    state = tick(state, restored, 0.1, settled=False)
    assert set(state.estimates) == {"europe-west1"}
    state = tick(state, rows(TRUE_RTT), 0.6, settled=True)
    assert state.order == NEAREST_FIRST


def test_an_adopted_pop_keeps_its_running_order_until_it_has_measured() -> None:
    running = ("asia-northeast3", "europe-west1", "us-east1")
    assert steering.initial(FAILOVER, running).order == running
    assert steering.initial(FAILOVER, ("europe-west1",)).order == FAILOVER  # not the same pools
    state = tick(steering.initial(FAILOVER, running), {}, 0.0)
    assert state.order == running
    state = tick(state, rows(TRUE_RTT), 0.5)
    assert state.order == NEAREST_FIRST


def test_pools_that_leave_the_config_are_forgotten() -> None:
    state = tick(steering.initial(FAILOVER), rows(TRUE_RTT), 0.0)
    smaller = steering.step(
        state,
        steering="dynamic_latency",
        failover=("us-east1", "asia-northeast3"),
        rows=rows(TRUE_RTT),
        interval=INTERVAL,
        now=1.0,
        alpha=0.3,
        band=BAND,
    )
    assert smaller.order == ("us-east1", "asia-northeast3")
    assert set(smaller.estimates) == {"us-east1", "asia-northeast3"}


# ---------------------------------------------------------------------------- report

SERVICE = popconfig.Service(
    service="hello",
    environment="production",
    steering="dynamic_latency",
    failover_order=FAILOVER,
    fallback_region="us-east1",
    monitor=config.Monitor(),
    block_health_endpoint=False,
    pools=(
        popconfig.Pool("us-east1", "http://127.0.0.1:1"),
        popconfig.Pool("europe-west1", "http://127.0.0.1:2"),
        popconfig.Pool("asia-northeast3", None),
    ),
)
ORDER = ("europe-west1", "us-east1")
ESTIMATES = {"europe-west1": rtt.Estimate(4.04, 3), "us-east1": rtt.Estimate(90.0, 3)}


def test_the_report_lists_pools_in_order_with_health_rtt_and_who_serves() -> None:
    seen = {"europe-west1": row("europe-west1", 4), "us-east1": row("us-east1", 90, status="UP 1/2")}
    body = status_report.service_report(SERVICE, ORDER, seen, ESTIMATES, "us-east1")
    assert body["serving"] == "europe-west1"
    assert body["via_fallback"] is False
    assert body["pools"] == [
        {"region": "europe-west1", "healthy": True, "rtt_ms": 4.0, "serving": True, "status": "UP"},
        {"region": "us-east1", "healthy": True, "rtt_ms": 90.0, "serving": False, "status": "UP 1/2"},
        {
            "region": "asia-northeast3",
            "healthy": False,
            "rtt_ms": None,
            "serving": False,
            "status": "no ingress",
        },
    ]


def test_the_next_healthy_pool_serves_and_with_none_the_fallback_does() -> None:
    down = row("europe-west1", 1000, status="DOWN", check="L4CON", code=None)
    seen = {"europe-west1": down, "us-east1": row("us-east1", 90)}
    assert status_report.service_report(SERVICE, ORDER, seen, ESTIMATES, "us-east1")["serving"] == "us-east1"
    seen["us-east1"] = row("us-east1", 1000, status="DOWN 1/2", check="L7STS", code=503)
    body = status_report.service_report(SERVICE, ORDER, seen, ESTIMATES, "us-east1")
    assert (body["serving"], body["via_fallback"]) == ("us-east1", True)
    assert [p["serving"] for p in body["pools"]] == [False, True, False]
    assert status_report.service_report(SERVICE, ORDER, seen, ESTIMATES, None)["serving"] is None


def test_the_snapshot_fingerprint_ignores_rtt_drift_but_not_who_serves() -> None:
    seen = {"europe-west1": row("europe-west1", 4), "us-east1": row("us-east1", 90)}
    pop = popconfig.PopConfig("iad", 1, (SERVICE,))

    def snap(
        estimates: dict[str, rtt.Estimate], rows_now: dict[str, answers.StatRow]
    ) -> status_report.Snapshot:
        return status_report.snapshot(
            pop,
            {"hello": ORDER},
            {"hello": rows_now},
            {"hello": estimates},
            {"hello": "us-east1"},
            {"pid": 1},
        )

    base = snap(ESTIMATES, seen)
    assert base.body["haproxy"] == {"pid": 1}
    assert snap({**ESTIMATES, "us-east1": rtt.Estimate(95.0, 4)}, seen).fingerprint == base.fingerprint
    seen_down = {**seen, "europe-west1": row("europe-west1", 0, status="DOWN", check="L4CON", code=None)}
    assert snap(ESTIMATES, seen_down).fingerprint != base.fingerprint

"""Probe thresholds as data: startup gates the others, readiness and liveness count in a row."""

from __future__ import annotations

from taxiway.plan.region import health
from taxiway.spec import manifest

PROBES = manifest.Probes(
    startup=manifest.Probe(initial_delay_seconds=2, period_seconds=1, failure_threshold=3),
    readiness=manifest.Probe(period_seconds=5, success_threshold=2, failure_threshold=2),
    liveness=manifest.Probe(period_seconds=10, failure_threshold=3),
)


def run(state: health.HealthState, results: list[tuple[float, health.Kind, bool]]) -> health.HealthState:
    for now, kind, ok in results:
        state = health.record(state, PROBES, kind, ok, now, None if ok else "refused")
    return state


def test_only_startup_runs_and_only_after_its_initial_delay() -> None:
    state = health.HealthState(started_at=0.0)
    assert health.due(state, PROBES, 1.9) == []
    assert health.due(state, PROBES, 2.0) == ["startup"]
    state = run(state, [(2.0, "startup", False)])
    assert health.due(state, PROBES, 2.5) == []
    assert health.due(state, PROBES, 3.0) == ["startup"]
    assert not state.started
    assert state.healthy(PROBES)


def test_startup_gives_up_after_its_failure_threshold() -> None:
    state = run(
        health.HealthState(0.0), [(2, "startup", False), (3, "startup", False), (4, "startup", False)]
    )
    assert not state.healthy(PROBES)
    assert state.reason(PROBES) == "startup probe failed 3x: refused"


def test_readiness_needs_its_success_threshold_after_startup() -> None:
    state = run(health.HealthState(0.0), [(2, "startup", True)])
    assert state.started
    assert health.due(state, PROBES, 2.0) == ["readiness", "liveness"]
    state = run(state, [(2, "readiness", True)])
    assert not state.ready
    state = run(state, [(7, "readiness", True)])
    assert state.ready
    assert state.reason(PROBES) is None


def test_readiness_turns_unready_after_failures_in_a_row_and_back() -> None:
    state = run(
        health.HealthState(0.0), [(2, "startup", True), (2, "readiness", True), (3, "readiness", True)]
    )
    state = run(state, [(8, "readiness", False), (13, "readiness", True), (18, "readiness", False)])
    assert state.ready, "failures must be in a row"
    state = run(state, [(23, "readiness", False)])
    assert not state.ready
    assert state.healthy(PROBES), "unready is not a reason to restart"


def test_liveness_starts_alive_and_dies_after_its_threshold() -> None:
    state = run(health.HealthState(0.0), [(2, "startup", True)])
    assert state.healthy(PROBES)
    state = run(state, [(2, "liveness", False), (12, "liveness", False)])
    assert state.healthy(PROBES)
    state = run(state, [(22, "liveness", False)])
    assert not state.healthy(PROBES)
    assert state.reason(PROBES) == "liveness probe failed 3x: refused"

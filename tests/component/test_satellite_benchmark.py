"""The reconcile benchmark's phases at a tiny size: correctness only, never timing."""

from __future__ import annotations

from benchmarks import reconcile_scale


def test_every_phase_runs_and_converges() -> None:
    figures = reconcile_scale.run(services=6, instances=3, no_change_steps=2)
    assert set(figures) == {
        "store",
        "first",
        "no_change",
        "one_change",
        "one_change_converge",
        "converge_steps",
    }
    assert figures["converge_steps"] >= 1
    assert all(seconds >= 0 for seconds in figures.values())

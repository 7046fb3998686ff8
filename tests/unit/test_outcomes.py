"""Revision outcomes and where a rollback goes: pure, on fixed times."""

from __future__ import annotations

import pytest

from taxiway.errors import InvalidInput
from taxiway.plan import outcomes
from tests.fixtures.outcome_cases import at, outcome, ready_everywhere, verdict


def test_the_current_revision_is_in_progress_ready_or_failed() -> None:
    assert outcome(1, [], 1).state == "in_progress"
    assert outcome(1, [verdict("us-east1", "ready", 1)], 1).state == "in_progress"
    assert outcome(1, ready_everywhere(1), 1).state == "ready"
    failed = outcome(1, [verdict("us-east1", "failed", 1), verdict("europe-west1", "ready", 1)], 1)
    assert failed.state == "failed"
    assert failed.describe() == "failed in us-east1: failed in us-east1"
    assert [v.region for v in failed.failed_regions] == ["us-east1"]


def test_a_revision_left_behind_keeps_what_it_became() -> None:
    assert outcome(1, ready_everywhere(1), 2, left_for=2).state == "ready"
    assert outcome(2, [verdict("us-east1", "failed", 1)], 3, left_for=3).state == "failed"
    assert outcome(2, [verdict("us-east1", "ready", 1)], 3, left_for=3).state == "superseded"
    rolled = outcome(3, ready_everywhere(1), 1, left_for=1)
    assert rolled.state == "rolled_back"
    assert rolled.describe() == "rolled back to revision 1 (it had been ready everywhere)"


def test_became_ready_needs_every_region_and_survives_a_later_failure() -> None:
    half = outcome(1, [verdict("us-east1", "ready", 1)], 1)
    assert not half.became_ready
    later = outcome(
        1, [verdict("us-east1", "failed", 9, was_ready=True), verdict("europe-west1", "ready", 3)], 1
    )
    assert later.became_ready
    assert later.ready_at == at(9)
    assert later.to_json()["regions"]["us-east1"]["state"] == "failed"


def test_rollback_passes_over_failed_and_never_ready_revisions() -> None:
    history = [
        outcome(1, ready_everywhere(1), 4, left_for=2),
        outcome(2, [verdict("us-east1", "failed", 2)], 4, left_for=3),
        outcome(3, [verdict("us-east1", "ready", 3)], 4, left_for=4),
        outcome(4, [], 4),
    ]
    choice = outcomes.rollback_target(history, "production", 4)
    assert choice.revision == 1
    assert [o.revision for o in choice.skipped] == [3, 2]
    assert "newest revision before 4 that became ready in production" in choice.reason


def test_rollback_never_returns_to_a_revision_rolled_back_from() -> None:
    history = [
        outcome(1, ready_everywhere(1), 3, left_for=2),
        outcome(2, ready_everywhere(2), 3, left_for=1),  # someone rolled back from 2 to 1
        outcome(3, ready_everywhere(3), 3),
    ]
    assert outcomes.rollback_target(history, "production", 3).revision == 1


def test_rollback_without_a_ready_revision_before_is_refused() -> None:
    history = [outcome(1, [verdict("us-east1", "failed", 1)], 2, left_for=2), outcome(2, [], 2)]
    with pytest.raises(InvalidInput, match=r"no revision before 2 became ready in production.*--to N"):
        outcomes.rollback_target(history, "production", 2)


def test_rollback_to_a_never_ready_revision_needs_force() -> None:
    history = [
        outcome(1, ready_everywhere(1), 3, left_for=2),
        outcome(2, [verdict("us-east1", "failed", 2)], 3, left_for=3),
        outcome(3, [], 3),
    ]
    assert outcomes.rollback_target(history, "production", 3, to=1, known=[1, 2, 3, 4]).revision == 1
    with pytest.raises(
        InvalidInput, match=r"revision 2 never became ready in production \(failed in us-east1"
    ):
        outcomes.rollback_target(history, "production", 3, to=2, known=[1, 2, 3, 4])
    with pytest.raises(InvalidInput, match=r"revision 4 never became ready in production .*never deployed"):
        outcomes.rollback_target(history, "production", 3, to=4, known=[1, 2, 3, 4])
    forced = outcomes.rollback_target(history, "production", 3, to=2, force=True, known=[1, 2, 3, 4])
    assert forced.revision == 2
    assert forced.reason.startswith("forced")
    with pytest.raises(InvalidInput, match="there is no revision 9"):
        outcomes.rollback_target(history, "production", 3, to=9, force=True, known=[1, 2, 3, 4])


def test_outcomes_of_another_environment_do_not_count() -> None:
    history = [
        outcome(1, ready_everywhere(1), 2, left_for=2, environment="staging"),
        outcome(2, [], 2),
    ]
    with pytest.raises(InvalidInput):
        outcomes.rollback_target(history, "production", 2)

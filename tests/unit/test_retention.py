"""What a service keeps of its revisions and artifacts: pure, on small policies."""

from __future__ import annotations

import pytest

from taxiway.errors import InvalidInput, QuotaExceeded
from taxiway.plan import retention
from taxiway.plan.sizes import shown_bytes
from tests.fixtures.outcome_cases import outcome, ready_everywhere, verdict

MIB = 1024 * 1024


def stored(*sizes: int) -> list[retention.Stored]:
    """Revisions 1..n, each with an artifact of its own of ``sizes[i]`` MiB."""
    return [retention.Stored(n, f"sha256:{n}", size * MIB) for n, size in enumerate(sizes, start=1)]


def test_the_newest_and_the_needed_stay_and_the_rest_is_pruned() -> None:
    policy = retention.Policy(keep_newest=3, quota_bytes=1024 * MIB)
    incoming = retention.Stored(9, "sha256:9", MIB)
    decision = retention.decide("hello", stored(*[1] * 8), incoming, {2: "production runs it"}, policy)
    assert sorted(decision.kept) == [2, 7, 8, 9]
    assert decision.pruned == (1, 3, 4, 5, 6)
    assert decision.kept[2] == "production runs it"
    assert decision.kept[9] == "the revision being stored"
    assert decision.stored_bytes == 4 * MIB


def test_over_the_quota_the_oldest_unneeded_go_first() -> None:
    policy = retention.Policy(keep_newest=10, quota_bytes=5 * MIB)
    incoming = retention.Stored(6, "sha256:6", 2 * MIB)
    decision = retention.decide("hello", stored(2, 2, 2, 1, 1), incoming, {1: "production runs it"}, policy)
    # 1 (needed) and 6 (new) take 4 MiB; of 2..5 only the newest that fit stay: 5 (1 MiB).
    assert sorted(decision.kept) == [1, 5, 6]
    assert decision.pruned == (2, 3, 4)
    assert decision.stored_bytes <= policy.quota_bytes


def test_a_revision_that_cannot_fit_beside_the_needed_is_refused_with_what_holds_the_space() -> None:
    policy = retention.Policy(keep_newest=10, quota_bytes=5 * MIB)
    incoming = retention.Stored(3, "sha256:3", 2 * MIB)
    must = {1: "production runs it", 2: "production's rollback target"}
    with pytest.raises(QuotaExceeded) as caught:
        retention.decide("hello", stored(2, 2), incoming, must, policy)
    message = str(caught.value)
    assert "over the service's quota of 5.0 MiB" in message
    assert "revision 1 (2.0 MiB: production runs it)" in message
    assert "revision 2 (2.0 MiB: production's rollback target)" in message
    assert "Nothing was stored" in message
    assert "taxiway server --artifact-quota" in message


def test_an_artifact_shared_by_revisions_counts_once() -> None:
    policy = retention.Policy(keep_newest=10, quota_bytes=3 * MIB)
    same = [retention.Stored(n, "sha256:same", 2 * MIB) for n in (1, 2, 3)]
    decision = retention.decide("hello", same, retention.Stored(4, "sha256:same", 2 * MIB), {}, policy)
    assert sorted(decision.kept) == [1, 2, 3, 4]
    assert decision.stored_bytes == 2 * MIB


def test_what_must_stay_is_what_runs_its_rollback_target_and_what_regions_still_run() -> None:
    history = [
        outcome(1, ready_everywhere(1), 3, left_for=2),
        outcome(2, [verdict("us-east1", "failed", 2)], 3, left_for=3),
        outcome(3, [], 3),
    ]
    needed = retention.needed({"production": 3}, history, {2: "us-east1"})
    assert needed == {
        3: "production runs it",
        1: "production's rollback target",
        2: "still running in us-east1",
    }


def test_bounds_and_sizes_read_as_people_write_them() -> None:
    with pytest.raises(InvalidInput):
        retention.Policy(keep_newest=0)
    assert shown_bytes(512) == "512 bytes"
    assert shown_bytes(205 * 1024) == "205 KiB"
    assert shown_bytes(int(1.5 * MIB)) == "1.5 MiB"
    assert shown_bytes(512 * MIB) == "512 MiB"

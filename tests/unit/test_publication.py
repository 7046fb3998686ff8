"""Which regions a deploy publishes to and which it tombstones: pure, on small documents."""

from __future__ import annotations

from typing import Any

from taxiway.plan import publication


def definition(revision: int) -> dict[str, Any]:
    return {"revision": revision, "spec": {"image": f"hello:{revision}"}}


def test_a_first_deploy_publishes_to_every_region_it_names_and_tombstones_nothing() -> None:
    wanted = {"us-east1": definition(1), "europe-west1": definition(1)}
    decided = publication.decide(wanted, {})
    assert decided.definitions == wanted
    assert decided.tombstones == ()


def test_a_region_the_revision_leaves_gets_a_tombstone() -> None:
    published = {"us-east1": definition(1), "europe-west1": definition(1)}
    decided = publication.decide({"us-east1": definition(2)}, published)
    assert decided.definitions == {"us-east1": definition(2)}
    assert decided.tombstones == ("europe-west1",)


def test_a_region_already_tombstoned_is_not_written_again() -> None:
    decided = publication.decide({"us-east1": definition(3)}, {"us-east1": definition(2), "asia-east1": None})
    assert decided.tombstones == ()
    assert set(decided.definitions) == {"us-east1"}


def test_a_tombstoned_region_the_revision_names_again_gets_its_definition() -> None:
    decided = publication.decide(
        {"asia-east1": definition(4)}, {"asia-east1": None, "us-east1": definition(3)}
    )
    assert decided.definitions == {"asia-east1": definition(4)}
    assert decided.tombstones == ("us-east1",)


def test_a_revision_naming_no_region_tombstones_every_live_one() -> None:
    published = {"us-east1": definition(1), "europe-west1": None, "asia-east1": definition(1)}
    decided = publication.decide({}, published)
    assert decided.definitions == {}
    assert decided.tombstones == ("us-east1", "asia-east1")

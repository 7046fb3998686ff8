"""The scale benchmark's generator and phases at a tiny size: correctness only, never timing.

Also checks that the planner's shared-part flattening agrees with the plain reference
(:func:`taxiway.plan.diff.flatten`) on every generated definition, and that a state read
back from JSON (secrets without their values) plans as unchanged.
"""

from __future__ import annotations

import pytest
from benchmarks import plan_scale

from taxiway.plan import diff
from taxiway.plan.state import State

SERVICES, REGIONS = 50, 5


@pytest.fixture(scope="module")
def world() -> plan_scale.World:
    return plan_scale.make_world(SERVICES, REGIONS)


@pytest.fixture(scope="module")
def state(world: plan_scale.World) -> plan_scale.State:
    return plan_scale.derive_all(world)


def test_derive_all_yields_every_service_in_every_region(state: plan_scale.State) -> None:
    assert len(state) == SERVICES * REGIONS
    assert {key[1] for key in state} == {plan_scale.ENVIRONMENT}


def test_plan_against_empty_state_creates_everything(state: plan_scale.State) -> None:
    created = diff.plan(state, {})
    assert created.count("create") == SERVICES * REGIONS
    assert created.count("change") == created.count("remove") == 0
    removed = diff.plan({}, state)
    assert removed.count("remove") == SERVICES * REGIONS


def test_plan_against_identical_state_changes_nothing(
    world: plan_scale.World, state: plan_scale.State
) -> None:
    same = plan_scale.derive_all(world, revision=plan_scale.REVISION + 1)  # revisions never count
    result = diff.plan(state, same)
    assert result.empty
    assert len(result.unchanged) == SERVICES * REGIONS


def test_one_changed_service_changes_exactly_its_fields(
    world: plan_scale.World, state: plan_scale.State
) -> None:
    manifest = world.manifests[SERVICES // 2]
    result = plan_scale.plan_one(world, plan_scale.changed(manifest), state)
    assert result.count("change") == REGIONS
    assert result.count("create") == result.count("remove") == 0
    for change in result.changes:
        assert change.service == manifest.metadata.name
        assert tuple(f.path for f in change.fields) == plan_scale.CHANGED_FIELDS
    assert plan_scale.plan_one(world, manifest, state).empty


def test_fast_flattening_matches_the_reference(state: plan_scale.State) -> None:
    for key, change in zip(sorted(state), diff.plan(state, {}).changes, strict=True):
        reference = diff.flatten(state[key])
        assert [(f.path, f.new, f.sensitive) for f in change.fields] == [
            (path, diff.SENSITIVE if sensitive else value, sensitive)
            for path, (value, sensitive) in sorted(reference.items())
        ]


def test_state_read_back_from_json_is_unchanged(state: plan_scale.State) -> None:
    document = State(definitions=list(state.values())).model_dump_json(by_alias=True)
    loaded = State.model_validate_json(document).by_key()
    assert diff.plan(state, loaded).empty

"""A changed platform secret rolls a region's instances as a surge, on virtual time.

The revision stays the same when only a secret's value changes (``taxiway secrets set``);
the definition's digest of it changes, which is a new generation of instance ids: they
start beside the old ones, which stop only once every new one is ready.
"""

from __future__ import annotations

from typing import Any

from taxiway.plan import regional
from taxiway.plan.region import reconcile
from tests.fixtures.region_world import KEY, SERVICE_DIR, World, definition, stops


def with_secret(value: str | None, revision: int = 1) -> regional.RegionalDefinition:
    """The definition as the satellite parses it from its store: the value unsealed."""
    document: dict[str, Any] = definition(revision).model_dump(mode="json", by_alias=True)
    document["spec"]["secrets"] = ["DB_PASSWORD"]
    if value is not None:
        digest = "hmac-sha256:" + value.ljust(64, "0")
        document["spec"]["env"]["DB_PASSWORD"] = {"secret": True, "digest": digest, "value": value}
    return regional.RegionalDefinition.model_validate(document, strict=False)


def want(world: World, value: str | None) -> None:
    world.desired[KEY] = reconcile.Desired(
        "hello", "production", 1, definition=with_secret(value), service_dir=SERVICE_DIR
    )


def test_a_new_secret_value_is_a_surge_rollout_of_new_ids_in_the_same_revision() -> None:
    world = World()
    want(world, "aaaa")
    world.settle()
    first = set(world.running())
    assert len(first) == 2
    assert all(
        i.startswith("hello-production-r1s") and len(i) == len("hello-production-r1s12345678-0")
        for i in first
    )
    assert {world.executor.managed[i].env["DB_PASSWORD"] for i in first} == {"aaaa"}

    want(world, "bbbb")
    world.step()
    second = set(world.running()) - first
    assert len(second) == 2, "the new generation starts beside the old"
    assert set(world.running()) == first | second
    assert {world.executor.managed[i].env["DB_PASSWORD"] for i in second} == {"bbbb"}
    one_new = sorted(second)[1]
    world.driver.set_health(one_new, ready=False)
    world.settle()
    assert set(world.running()) == first | second, "the old keep serving until every new one is ready"
    assert stops(world) == []

    world.driver.set_health(one_new, ready=True)
    world.step()
    assert set(world.running()) == second
    assert sorted(stops(world)) == sorted(first), "the old ones stopped, none restarted in place"

    want(world, None)  # unset: another generation, without the variable
    world.settle(4)
    third = set(world.running())
    assert not third & second
    assert all("DB_PASSWORD" not in world.executor.managed[i].env for i in third)


def test_a_definition_without_platform_secrets_keeps_its_ids() -> None:
    assert reconcile.generation(definition(3)) == ""
    assert reconcile.instance_id("hello", "production", 3, 0) == "hello-production-r3-0"
    assert reconcile.generation(with_secret("aaaa")) == reconcile.generation(with_secret("aaaa"))
    assert reconcile.generation(with_secret("aaaa")) != reconcile.generation(with_secret("bbbb"))

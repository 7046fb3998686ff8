"""The satellite's reconcile decisions, carried out on the in-memory driver in virtual time.

Each test drives :class:`taxiway.satellite.executor.Executor` (plan, act, one supervisor
tick) over :class:`taxiway.runtime.fake.FakeDriver`, and reads the status reports the
satellite would send. No threads, no sockets, no sleeps.
"""

from __future__ import annotations

from typing import Any

import pytest

from taxiway.plan.region import instance_spec, reconcile
from taxiway.runtime import driver
from tests.fixtures.region_world import (
    KEY,
    SERVICE_DIR,
    TWO_BY_TWO,
    World,
    definition,
    ids,
    region,
    stops,
)


def test_a_first_deploy_starts_min_instances_spread_over_datacenters() -> None:
    world = World()
    world.want(revision=1, instances=3)
    world.settle()
    running = world.running()
    assert set(running) == {"hello-production-r1-0", "hello-production-r1-1", "hello-production-r1-2"}
    assert {running["hello-production-r1-0"].datacenter, running["hello-production-r1-1"].datacenter} == {
        "us-east1-b",
        "us-east1-c",
    }
    status = world.status()
    assert (status["phase"], status["revision"]) == ("ready", 1)
    assert (status["desired_instances"], status["ready_instances"]) == (3, 3)
    assert status["message"] == "3/3 instances ready"
    first = next(i for i in status["instances"] if i["id"] == "hello-production-r1-0")
    assert first["state"] == "running"
    assert first["endpoint"] == f"http://127.0.0.1:{running['hello-production-r1-0'].port}"
    assert first["log_tail"] == []  # only failing instances carry their log
    assert stops(world) == []


def test_surge_rollout_removes_the_old_revision_only_once_every_new_instance_is_ready() -> None:
    world = World()
    world.want(revision=1)
    world.settle()
    world.want(revision=2)
    world.step()  # r2 starts beside r1
    assert set(world.running()) == ids(1, 2) | ids(2, 2)
    world.driver.set_health("hello-production-r2-1", ready=False)
    world.settle()
    assert set(world.running()) == ids(1, 2) | ids(2, 2), "r1 must keep running while r2 is not ready"
    status = world.status()
    assert (status["phase"], status["revision"], status["ready_instances"]) == ("progressing", 2, 1)
    assert "kept until then" in status["message"]
    assert {i["id"] for i in status["instances"]} == ids(1, 2) | ids(2, 2)

    world.driver.set_health("hello-production-r2-1", ready=True)
    world.step()
    assert set(world.running()) == ids(2, 2)
    assert sorted(stops(world)) == sorted(ids(1, 2))
    world.step()
    assert world.status()["phase"] == "ready"


def test_a_crashing_new_revision_is_reported_failed_and_the_old_keeps_running() -> None:
    world = World()
    world.want(revision=1)
    world.settle()
    world.want(revision=2)
    crashing = "hello-production-r2-0"
    for _ in range(12):  # crash it whenever it runs; backoff 1, 2, 4 s of virtual time
        world.step()
        if crashing in world.running():
            world.driver.crash(crashing, exit_code=3)
    world.step()
    assert ids(1, 2) <= set(world.running()), "the old revision must keep running"
    status = world.status()
    assert status["phase"] == "failed"
    assert crashing in status["message"]
    assert "exited with status 3" in status["message"]
    failing = next(i for i in status["instances"] if i["id"] == crashing)
    assert failing["log_tail"]
    assert failing["log_tail"][-1].startswith(f"started {crashing}")
    assert failing["restarts"] >= 2


def test_a_startup_probe_that_gives_up_fails_the_revision_at_once() -> None:
    world = World()
    world.want(revision=1)
    world.settle()
    world.want(revision=2)
    world.step()
    world.driver.set_health("hello-production-r2-0", ready=False)
    world.driver.verdicts["hello-production-r2-0"] = driver.Health(
        "hello-production-r2-0", False, False, False, "startup probe failed 30x: GET /health: refused"
    )
    world.step()
    status = world.status()
    assert status["phase"] == "failed"
    assert "hello-production-r2-0: startup probe failed 30x: GET /health: refused" in status["message"]
    assert ids(1, 2) <= set(world.running())


def test_a_tombstone_removes_every_instance_of_its_service() -> None:
    world = World()
    world.want(revision=1)
    world.want(revision=4, service="other")
    world.settle()
    world.remove(revision=2)
    world.step()
    assert set(world.running()) == ids(4, 2, "other")
    assert world.status()["phase"] == "removed"
    assert world.status()["desired_instances"] == 0


@pytest.mark.parametrize(
    "desired",
    [{}, {("other", "production"): reconcile.Desired("other", "production", 1, removed=True)}],
    ids=["nothing-desired", "only-another-service-removed"],
)
def test_silence_or_an_empty_desired_state_never_removes_anything(desired: dict[Any, Any]) -> None:
    world = World()
    world.want(revision=1)
    world.settle()
    before = world.running()
    for _ in range(5):
        world.step(desired=desired)
    assert world.running() == before
    assert stops(world) == []


def test_instances_of_unknown_services_are_left_alone() -> None:
    world = World()
    stranger = instance_spec.InstanceSpec(
        "stray-production-r9-0",
        "stray",
        "production",
        "us-east1",
        9,
        "us-east1-b",
        "node-1",
        ("sleep", "1000"),
    )
    world.driver.start(stranger)
    world.want(revision=1)
    world.settle()
    assert "stray-production-r9-0" in world.running()
    assert stops(world) == []


def test_instances_on_a_failed_node_move_to_healthy_nodes_under_the_same_id() -> None:
    world = World()
    world.want(revision=1, instances=2)
    world.settle()
    victim = world.running()["hello-production-r1-0"]
    world.failed.add((victim.datacenter, victim.node))
    world.step()
    moved = world.running()["hello-production-r1-0"]
    assert (moved.datacenter, moved.node) != (victim.datacenter, victim.node)
    assert all((i.datacenter, i.node) not in world.failed for i in world.running().values())
    assert stops(world) == ["hello-production-r1-0"]  # stopped at once, then started elsewhere
    world.step()
    assert world.status()["phase"] == "ready"


def test_no_room_is_reported_failed_and_the_old_revision_keeps_running() -> None:
    world = World(region(("us-east1-b", [("node-1", 3)])))
    world.want(revision=1, instances=2)
    world.settle()
    world.want(revision=2, instances=2)
    world.settle()
    assert ids(1, 2) <= set(world.running())
    status = world.status()
    assert status["phase"] == "failed"
    assert "no room for hello-production-r2-1" in status["message"]


def test_a_failed_node_with_no_room_elsewhere_stops_its_instances() -> None:
    world = World(region(("us-east1-b", [("node-1", 1)]), ("us-east1-c", [("node-1", 1)])))
    world.want(revision=1, instances=2)
    world.settle()
    world.failed.add(("us-east1-b", "node-1"))
    world.step()
    assert all(i.datacenter == "us-east1-c" for i in world.running().values())
    assert world.status()["phase"] == "failed"


@pytest.mark.parametrize(
    ("extra", "phase"),
    [
        ({"waiting": "waiting for artifact sha256:ab"}, "progressing"),
        ({"problem": "no --services-root"}, "failed"),
    ],
)
def test_a_revision_that_cannot_start_keeps_the_old_one_running(extra: dict[str, Any], phase: str) -> None:
    world = World()
    world.want(revision=1)
    world.settle()
    world.want(revision=2, **extra)
    world.settle()
    assert set(world.running()) == ids(1, 2)
    status = world.status()
    assert status["phase"] == phase
    assert next(iter(extra.values())) in status["message"]


def test_a_smaller_definition_removes_the_highest_indexes() -> None:
    world = World()
    world.want(revision=1, instances=3)
    world.settle()
    world.want(revision=1, instances=1)
    world.step()
    assert set(world.running()) == ids(1, 1)


def test_a_restarted_satellite_adopts_what_runs_and_restarts_nothing() -> None:
    world = World()
    world.want(revision=1, instances=3)
    world.settle()
    before = {i.instance_id: (i.pid, i.spec_digest, i.node) for i in world.running().values()}
    calls = len(world.driver.calls)
    world.executor = world.new_executor()  # the satellite restarts; its instances did not
    world.settle()
    after = {i.instance_id: (i.pid, i.spec_digest, i.node) for i in world.running().values()}
    assert after == before
    assert world.driver.calls[calls:] == [], "no start and no stop after re-adoption"
    assert world.status()["phase"] == "ready"


def test_a_restarted_satellite_still_restarts_a_crash() -> None:
    world = World()
    world.want(revision=1)
    world.settle()
    world.executor = world.new_executor()
    world.settle()
    world.driver.crash("hello-production-r1-0")
    world.settle(4)
    assert set(world.running()) == ids(1, 2)
    assert world.running()["hello-production-r1-0"].restarts == 1


def test_specs_name_no_port_so_adopted_digests_match() -> None:
    world = World()
    world.want(revision=1, instances=1)
    world.step()
    assert world.last is not None
    (spec,) = world.last.plan.ensure
    assert spec.port is None
    assert spec.cwd == SERVICE_DIR
    assert spec.revision == 1
    assert world.running()[spec.instance_id].spec_digest == spec.digest()


def test_a_definition_without_a_command_is_a_problem_not_a_crash() -> None:
    world = World()
    no_command = definition(1).model_copy(
        update={"spec": definition(1).spec.model_copy(update={"run": None, "image": "x:1"})}
    )
    world.desired[KEY] = reconcile.Desired(
        "hello", "production", 1, definition=no_command, service_dir=SERVICE_DIR
    )
    world.step()
    status = world.status()
    assert status["phase"] == "failed"
    assert "spec.run.command" in status["message"]
    assert world.running() == {}


def test_the_plan_reads_its_cache_and_returns_the_specs_it_made() -> None:
    hello = reconcile.Desired(*KEY, 1, definition=definition(1), service_dir=SERVICE_DIR)
    desired = {KEY: hello}
    cache: dict[reconcile.Key, tuple[reconcile.Desired, reconcile.MemoSpec | str]] = {}
    first = reconcile.plan(desired, [], {}, TWO_BY_TWO, cache=cache)
    assert cache == {}  # the argument is left as it was
    assert set(first.templates) == {KEY}
    assert first.templates[KEY][0] is hello

    cache.update(first.templates)
    before = dict(cache)
    again = reconcile.plan(desired, [], {}, TWO_BY_TWO, cache=cache)
    assert cache == before
    assert again.templates == {}  # nothing made anew: the cached spec is the very one used
    assert again == first

    newer = reconcile.Desired(*KEY, 2, definition=definition(2), service_dir=SERVICE_DIR)
    third = reconcile.plan({KEY: newer}, [], {}, TWO_BY_TWO, cache=cache)
    assert cache == before
    assert third.templates[KEY][0] is newer

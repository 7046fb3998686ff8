"""The region ingress's membership and two-phase stops, on virtual time with an in-memory ingress.

The executor runs as in test_satellite_reconcile.py (the in-memory driver, no threads, no
sockets), with a :class:`~taxiway.satellite.rotation.Gate` over :class:`MemoryIngress`: a
dictionary that carries out membership actions the way HAProxy does and whose session
counts the test sets. The one real test of the path, with HAProxy, is
tests/component/test_ingress.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from taxiway.haproxy import membership
from taxiway.haproxy.errors import ReloadRejected, RuntimeApiUnavailable
from taxiway.plan.haproxy import answers, config
from taxiway.plan.region import instance_spec, reconcile, status_report, supervision
from taxiway.satellite import executor, rotation
from taxiway.spec import topology
from tests.fixtures.region_world import KEY, SERVICE_DIR, TWO_BY_TWO, World, definition, ids, stops

GRACE = 10.0
HOLD_LIMIT = 20.0
HOST = "127.0.0.1"


@dataclass
class MemoryIngress:
    """An ingress in a dictionary (a :class:`~taxiway.satellite.rotation.Dataplane`)."""

    up: bool = True
    backends: dict[str, dict[str, rotation.Server]] = field(default_factory=dict)
    declared: rotation.Shape | None = ()
    sessions: dict[str, int] = field(default_factory=dict)
    """Open sessions per server, as the test sets them."""
    broken: bool = False
    """The runtime API does not answer."""
    old_workers: bool = False
    refuse_installs: bool = False
    """A reload fails (the running config serves on)."""
    attempts: int = 0
    installs: list[tuple[str, ...]] = field(default_factory=list)
    done: list[tuple[str, str]] = field(default_factory=list)
    """(action, server) in the order they were carried out."""

    def running(self) -> bool:
        return self.up

    def servers(self) -> rotation.Backends:
        if self.broken:
            raise RuntimeApiUnavailable("the stats socket does not answer")
        return {
            name: {s: replace(server, sessions=self.sessions.get(s, 0)) for s, server in members.items()}
            for name, members in self.backends.items()
        }

    def apply(self, backend: str, check: config.InstanceCheck, actions: Sequence[membership.Action]) -> None:
        if self.broken:
            raise RuntimeApiUnavailable("the stats socket does not answer")
        members = self.backends[backend]
        for action in actions:
            match action:
                case membership.Add(instance=instance) | membership.Readdress(instance=instance):
                    members[instance.name] = rotation.Server(
                        instance.host, instance.port, answers.AdminState(0), True, 0
                    )
                    self.done.append((type(action).__name__, instance.name))
                case membership.Readmit(server=name):
                    members[name] = replace(members[name], admin=answers.AdminState(0))
                    self.done.append(("Readmit", name))
                case membership.Drain(server=name):
                    members[name] = replace(members[name], admin=answers.AdminState.FORCED_DRAIN)
                    self.done.append(("Drain", name))
                case membership.Remove(server=name):
                    del members[name]
                    self.sessions.pop(name, None)
                    self.done.append(("Remove", name))

    def reloading(self) -> bool:
        return self.old_workers

    def shape(self) -> rotation.Shape | None:
        return self.declared

    def install(self, services: Sequence[config.IngressService]) -> None:
        self.attempts += 1
        if self.refuse_installs:
            raise ReloadRejected("reloading HAProxy: the new config did not load")
        self.backends = {
            service.name: {
                i.name: self.backends.get(service.name, {}).get(i.name)
                or rotation.Server(i.host, i.port, answers.AdminState(0), True, 0)
                for i in service.instances
            }
            for service in services
        }
        self.declared = tuple((s.name, s.check) for s in services)
        self.installs.append(tuple(s.name for s in services))
        self.up = True

    def members(self, backend: str = "hello") -> dict[str, str]:
        """Server -> ``serving`` | ``draining``."""
        return {
            name: "draining" if server.draining else "serving"
            for name, server in self.backends.get(backend, {}).items()
        }


class IngressWorld(World):
    """A region's satellite with an ingress, minus the store and the network."""

    def __init__(self, where: topology.Region = TWO_BY_TWO) -> None:
        self.ingress = MemoryIngress()
        super().__init__(where)

    def dataplane(self) -> rotation.Dataplane:
        """What the gate drives (the in-memory ingress; a subclass may wrap it)."""
        return self.ingress

    def new_executor(self) -> executor.Executor:
        gate = rotation.Gate(self.dataplane(), host=HOST, grace=GRACE, check_interval=1.0)
        return executor.Executor(
            self.driver,
            supervision.BackoffPolicy(initial_seconds=1.0, max_seconds=8.0),
            lambda: self.now,
            gate,
            hold_limit=HOLD_LIMIT,
        )

    def status(self, key: reconcile.Key = KEY) -> dict[str, Any]:
        assert self.last is not None
        tracks = {i: self.executor.supervisor.track(i) for i in self.executor.managed}
        reports = status_report.build(
            self.desired,
            self.last.plan,
            self.last.observed,
            tracks,
            {},
            lambda _: [],
            seen=self.last.rotation,
        )
        (found,) = [r["report"] for r in reports if (r["service"], r["environment"]) == key]
        return dict(found)

    def rotation_of(self, instance_id: str) -> tuple[bool, str | None]:
        (entry,) = [i for i in self.status()["instances"] if i["id"] == instance_id]
        return bool(entry["in_rotation"]), entry["reason"]


def serving(*names: str) -> dict[str, str]:
    return dict.fromkeys(names, "serving")


# ---------------------------------------------------------------------------- the two phases


def test_instances_enter_the_ingress_once_ready_and_report_it() -> None:
    world = IngressWorld()
    world.want(revision=1)
    world.step()
    assert world.ingress.installs == [("hello",)], "a new service's backend is the one reload"
    assert world.ingress.members() == {}, "started, not yet seen ready"
    world.step()
    assert world.ingress.members() == serving(*ids(1, 2))
    assert world.rotation_of("hello-production-r1-0") == (True, None)
    world.settle()
    assert world.ingress.installs == [("hello",)]


def test_a_rollout_drains_the_old_revision_and_stops_it_only_once_its_sessions_ended() -> None:
    world = IngressWorld()
    world.want(revision=1)
    world.settle()
    world.want(revision=2)
    world.step()  # r2 starts beside r1
    world.ingress.sessions["hello-production-r1-0"] = 1  # a request still running there
    world.step()  # r2 ready: in rotation beside r1
    assert world.ingress.members() == serving(*ids(2, 2), *ids(1, 2))
    world.step()  # r2 serves at the ingress: r1 drains
    assert world.ingress.members() == {**serving(*ids(2, 2)), **dict.fromkeys(ids(1, 2), "draining")}
    assert stops(world) == [], "nothing stops while it is a server of the ingress"
    assert world.rotation_of("hello-production-r1-0") == (False, status_report.DRAINING)
    assert world.rotation_of("hello-production-r2-0") == (True, None)

    world.step()  # r1-1 has no session left: removed from the ingress, then stopped
    assert stops(world) == ["hello-production-r1-1"]
    assert world.ingress.members() == {**serving(*ids(2, 2)), "hello-production-r1-0": "draining"}
    world.settle()
    assert stops(world) == ["hello-production-r1-1"], "r1-0 still finishes its request"

    world.ingress.sessions["hello-production-r1-0"] = 0
    world.step()
    assert sorted(stops(world)) == sorted(ids(1, 2))
    assert world.ingress.members() == serving(*ids(2, 2))
    done = world.ingress.done
    for old in ids(1, 2):
        assert done.index(("Drain", old)) < done.index(("Remove", old))
    assert done.index(("Add", "hello-production-r2-1")) < done.index(("Drain", "hello-production-r1-0"))
    assert world.ingress.installs == [("hello",)], "membership changes need no reload"


def test_a_drain_that_never_empties_ends_after_the_grace_period() -> None:
    world = IngressWorld()
    world.want(revision=1, instances=3)
    world.settle()
    world.ingress.sessions["hello-production-r1-2"] = 5
    world.want(revision=1, instances=2)  # scale-in: the highest index goes
    world.step()
    drained_at = world.now
    assert world.ingress.members()["hello-production-r1-2"] == "draining"
    while world.now - drained_at < GRACE - 1:
        world.step()
        assert stops(world) == []
    world.step()
    world.step()
    assert stops(world) == ["hello-production-r1-2"]
    assert world.ingress.members() == serving(*ids(1, 2))


def test_an_instance_moved_off_a_failed_node_is_drained_before_it_is_replaced() -> None:
    world = IngressWorld()
    world.want(revision=1)
    world.settle()
    victim = world.running()["hello-production-r1-0"]
    world.ingress.sessions[victim.instance_id] = 1
    world.failed.add((victim.datacenter, victim.node))
    world.settle()
    assert world.ingress.members() == {victim.instance_id: "draining", "hello-production-r1-1": "serving"}
    assert stops(world) == [], "not replaced while draining"
    assert (world.running()[victim.instance_id].node, world.running()[victim.instance_id].datacenter) == (
        victim.node,
        victim.datacenter,
    )

    world.ingress.sessions[victim.instance_id] = 0
    world.step()  # removed from the ingress and replaced on another node
    assert stops(world) == [victim.instance_id]
    moved = world.running()[victim.instance_id]
    assert (moved.datacenter, moved.node) != (victim.datacenter, victim.node)
    world.step()
    assert world.ingress.members() == serving(*ids(1, 2)), "back once ready at its new place"
    assert world.ingress.done.count(("Add", victim.instance_id)) == 2


def test_a_tombstone_drains_everything_then_drops_the_backend_with_one_reload() -> None:
    world = IngressWorld()
    world.want(revision=1)
    world.want(revision=4, service="other")
    world.settle()
    assert world.ingress.installs == [("hello", "other")]
    world.ingress.sessions["hello-production-r1-0"] = 1
    world.remove(revision=2)
    world.step()
    assert world.ingress.members() == dict.fromkeys(ids(1, 2), "draining")
    assert stops(world) == []
    world.step()
    assert world.ingress.members() == {"hello-production-r1-0": "draining"}
    assert stops(world) == ["hello-production-r1-1"]
    assert world.ingress.installs == [("hello", "other")], "the backend stays while a server drains"
    world.ingress.sessions["hello-production-r1-0"] = 0
    world.step()
    assert sorted(stops(world)) == sorted(ids(1, 2))
    assert world.ingress.installs == [("hello", "other"), ("other",)]
    assert world.ingress.members("other") == serving(*ids(4, 2, "other"))


def test_staging_is_not_routed_and_its_instances_stop_at_once() -> None:
    world = IngressWorld()
    staging = definition(1).model_copy(update={"environment": "staging"})
    world.desired[("hello", "staging")] = reconcile.Desired(
        "hello", "staging", 1, definition=staging, service_dir=SERVICE_DIR
    )
    world.settle()
    assert world.ingress.installs == []
    assert world.ingress.backends == {}
    world.desired[("hello", "staging")] = reconcile.Desired("hello", "staging", 2, removed=True)
    world.step()
    assert sorted(stops(world)) == ["hello-staging-r1-0", "hello-staging-r1-1"]


# ---------------------------------------------------------------------------- an ingress in trouble


def test_an_unreadable_ingress_holds_stops_until_the_hold_limit() -> None:
    world = IngressWorld()
    world.want(revision=1, instances=3)
    world.settle()
    world.ingress.broken = True
    world.want(revision=1, instances=2)
    world.step()
    held_at = world.now
    assert world.last is not None
    assert world.last.rotation == rotation.UNKNOWN
    while world.now - held_at < HOLD_LIMIT - 1:
        world.step()
        assert stops(world) == []
    world.step()
    world.step()
    assert stops(world) == ["hello-production-r1-2"], "a stop is never held forever"


def test_a_stopped_ingress_is_started_with_the_ready_instances_and_holds_nothing() -> None:
    world = IngressWorld()
    world.want(revision=1, instances=3)
    world.settle()
    world.ingress.up = False  # killed
    world.ingress.backends = {}
    world.want(revision=1, instances=2)
    world.step()
    assert world.ingress.installs[-1] == ("hello",)
    assert world.ingress.members() == serving(*ids(1, 2))
    assert stops(world) == ["hello-production-r1-2"], "nothing to drain from an ingress that served nothing"


def test_removals_wait_while_old_workers_of_a_reload_still_serve() -> None:
    world = IngressWorld()
    world.want(revision=1, instances=3)
    world.settle()
    world.ingress.old_workers = True
    world.want(revision=1, instances=2)
    world.settle()
    assert world.ingress.members()["hello-production-r1-2"] == "draining"
    assert stops(world) == []
    world.ingress.old_workers = False
    world.step()
    assert stops(world) == ["hello-production-r1-2"]


def test_a_refused_reload_is_tried_again_later_while_membership_changes_go_on() -> None:
    world = IngressWorld()
    world.want(revision=1)
    world.settle()
    world.ingress.refuse_installs = True
    attempts = world.ingress.attempts
    world.want(revision=4, service="other")  # a new backend: needs a reload
    world.want(revision=2)  # a rollout in an existing one: does not
    for _ in range(int(rotation.RETRY_SECONDS) + 1):
        world.step()
    assert world.ingress.attempts - attempts == 2, "once, then again after RETRY_SECONDS"
    assert world.ingress.members() == serving(*ids(2, 2))
    assert sorted(stops(world)) == sorted(ids(1, 2))
    world.ingress.refuse_installs = False
    for _ in range(int(rotation.RETRY_SECONDS)):
        world.step()
    assert world.ingress.installs[-1] == ("hello", "other")
    assert world.ingress.members("other") == serving(*ids(4, 2, "other"))


# ---------------------------------------------------------------------------- a restarted satellite


def test_a_restarted_satellite_keeps_the_membership_it_finds() -> None:
    world = IngressWorld()
    world.want(revision=1)
    world.settle()
    before = dict(world.ingress.backends["hello"])
    done = len(world.ingress.done)
    # The satellite restarts: its instances are re-adopted and not probed yet.
    for instance_id in ids(1, 2):
        world.driver.set_health(instance_id, ready=False)
    world.executor = world.new_executor()
    world.step()
    assert world.ingress.backends["hello"] == before
    assert world.ingress.done[done:] == [], "no server drained, removed or added"
    assert world.ingress.installs == [("hello",)], "no reload"
    for instance_id in ids(1, 2):
        world.driver.set_health(instance_id, ready=True)
    world.settle()
    assert world.ingress.done[done:] == []


def test_a_drain_found_after_a_restart_gets_a_full_grace_period() -> None:
    world = IngressWorld()
    world.want(revision=1, instances=3)
    world.settle()
    world.ingress.sessions["hello-production-r1-2"] = 1
    world.want(revision=1, instances=2)
    world.step()
    assert world.ingress.members()["hello-production-r1-2"] == "draining"
    world.executor = world.new_executor()  # forgets when the drain began
    world.now += GRACE * 3
    world.step()
    assert stops(world) == [], "the new satellite waits a grace period of its own"
    world.ingress.sessions["hello-production-r1-2"] = 0
    world.step()
    assert stops(world) == ["hello-production-r1-2"]


# ---------------------------------------------------------------------------- pure parts


def test_the_check_follows_the_readiness_probe() -> None:
    item = reconcile.Desired("hello", "production", 1, definition=definition(1), service_dir=SERVICE_DIR)
    assert rotation.check_for(item, 2.0) == config.InstanceCheck(path="/health", interval=2.0, timeout=1.0)
    probes = definition(1).spec.probes.model_copy(
        update={"readiness": definition(1).spec.probes.readiness.model_copy(update={"protocol": "tcp"})}
    )
    tcp = definition(1).model_copy(update={"spec": definition(1).spec.model_copy(update={"probes": probes})})
    assert rotation.check_for(replace(item, definition=tcp), 1.0) == config.InstanceCheck(interval=1.0)


def test_a_backend_outlives_its_service_until_its_last_server_is_gone() -> None:
    check = config.InstanceCheck(path="/ready")
    server = rotation.Server(HOST, 20000, answers.AdminState.FORCED_DRAIN, True, 1)
    previous: rotation.Shape = (("gone", check),)
    assert rotation.shape({}, {"gone": {"gone-production-r1-0": server}}, previous, 1.0) == previous
    assert rotation.shape({}, {"gone": {}}, previous, 1.0) == ()


@pytest.mark.parametrize(
    ("state", "ready", "address", "wanted"),
    [
        (instance_spec.InstanceState.RUNNING, True, None, True),
        (instance_spec.InstanceState.RUNNING, False, None, False),
        (instance_spec.InstanceState.RUNNING, False, (HOST, 20000), True),
        (instance_spec.InstanceState.RUNNING, False, (HOST, 29999), False),
        (instance_spec.InstanceState.EXITED, False, (HOST, 20000), False),
    ],
    ids=["ready", "not-ready-yet", "admitted-stays", "moved-port", "exited"],
)
def test_who_is_wanted(
    state: instance_spec.InstanceState, ready: bool, address: tuple[str, int] | None, wanted: bool
) -> None:
    instance = instance_spec.Instance(
        instance_id="hello-production-r1-0",
        service="hello",
        environment="production",
        region="us-east1",
        revision=1,
        datacenter="us-east1-b",
        node="node-1",
        spec_digest="sha256:x",
        state=state,
        pid=1,
        port=20000,
        started_at=0.0,
        restarts=0,
        ready=ready,
    )
    backends = {
        "hello": {}
        if address is None
        else {"hello-production-r1-0": rotation.Server(*address, answers.AdminState(0), True, 0)}
    }
    desired = {
        KEY: reconcile.Desired("hello", "production", 1, definition=definition(1), service_dir=SERVICE_DIR)
    }
    members = rotation.wanted(desired, [instance], frozenset(), backends, HOST)
    assert (members["hello"] != ()) is wanted
    assert rotation.wanted(desired, [instance], frozenset({"hello-production-r1-0"}), backends, HOST) == {
        "hello": ()
    }


def test_a_revision_the_ingress_check_turns_away_never_replaces_the_one_that_serves() -> None:
    """Ready by the satellite's probe is not enough: the old revision leaves only once the
    ingress's own check passes on the new one, and status never says ready before."""
    world = IngressWorld()
    world.want(revision=1)
    world.settle()
    assert world.status()["phase"] == "ready"
    world.want(revision=2)
    world.step()  # r2 starts
    world.step()  # r2 ready by the driver: added to the ingress
    for name in ids(2, 2):  # HAProxy's check fails there (an app that answers 400 to it)
        world.ingress.backends["hello"][name] = replace(world.ingress.backends["hello"][name], checked=False)
    for _ in range(5):
        world.step()
        for name in ids(2, 2):
            server = world.ingress.backends["hello"][name]
            world.ingress.backends["hello"][name] = replace(server, checked=False)
    assert stops(world) == []
    assert {k: v for k, v in world.ingress.members().items() if k in ids(1, 2)} == serving(*ids(1, 2))
    status = world.status()
    assert status["phase"] == "progressing"
    assert "not in rotation at the region ingress" in status["message"]
    assert world.rotation_of("hello-production-r2-0") == (False, None)


def test_wanted_servers_carry_the_check_path_of_their_own_revision() -> None:
    world = IngressWorld()
    world.want(revision=1)
    world.settle()
    observed = world.driver.list()
    members = rotation.wanted(world.desired, observed, frozenset(), {}, HOST)
    paths = {i.name: i.check_path for i in members["hello"]}
    expected = {i.instance_id: instance_spec.check_path(i_spec.probes) for i, i_spec in _specs(world)}
    assert paths == expected
    assert set(paths.values()) == {"/health"}


def _specs(world: IngressWorld) -> list[tuple[instance_spec.Instance, instance_spec.InstanceSpec]]:
    managed = world.executor.managed
    return [(i, managed[i.instance_id]) for i in world.driver.list() if i.instance_id in managed]


def _with_readiness_path(item: reconcile.Desired, path: str) -> reconcile.Desired:
    """A definition as an older control plane could have stored it: a path no check can send
    (built without validation, as nothing today would let it through)."""
    assert item.definition is not None
    spec = item.definition.spec
    probes = spec.probes.model_copy(
        update={"readiness": spec.probes.readiness.model_copy(update={"path": path})}
    )
    changed = item.definition.model_copy(update={"spec": spec.model_copy(update={"probes": probes})})
    return replace(item, definition=changed)


@pytest.mark.parametrize("path", ["/health\nX-Injected: 1", "/health check", "/health#deep"])
def test_one_services_bad_check_path_is_held_back_and_the_rest_of_the_region_converges(path: str) -> None:
    world = IngressWorld()
    world.want(revision=1)
    world.want(revision=1, service="other")
    world.settle()
    assert world.status()["phase"] == "ready"
    world.want(revision=2, service="other")
    world.desired[("other", "production")] = _with_readiness_path(
        world.desired[("other", "production")], path
    )
    world.want(revision=2)  # another team deploys meanwhile
    world.settle(6)
    assert world.status()["phase"] == "ready", "hello rolled out beside the bad one"
    assert world.ingress.members() == serving(*ids(2, 2))
    other = world.status(("other", "production"))
    assert other["phase"] == "failed"
    assert "holds it back" in other["message"]
    assert world.last is not None
    assert dict(world.last.rotation.held if world.last.rotation else ()).keys() == {"other"}
    checks = dict(world.ingress.declared or ())
    assert checks["other"].path == "/health", "its previous check stays"
    assert {i[:-2] for i in world.ingress.members("other")} == {"other-production-r1"}, "r1 serves on"

"""A satellite's own series on virtual time: the ingress's servers per revision, drains, reloads.

The executor and its gate run as in test_satellite_rotation.py, over its in-memory ingress,
wrapped in the :class:`~taxiway.satellite.metered_dataplane.Metered` the satellite uses;
the series are read back from the registry's exposition, as Prometheus would. The real
path (an HTTP scrape, promtool) is tests/component/test_metrics_satellite.py.
"""

from __future__ import annotations

from taxiway.observability import satellite_metrics
from taxiway.plan.haproxy import answers
from taxiway.plan.observability import names, rotation_gauges
from taxiway.plan.region import rotation
from taxiway.satellite import metered_dataplane
from taxiway.satellite import rotation as satellite_rotation
from tests.fixtures import exposition
from tests.unit.test_satellite_rotation import IngressWorld


def server(*, sessions: int = 0, admin: int = 0, up: bool = True, checked: bool = True) -> rotation.Server:
    return rotation.Server("127.0.0.1", 8000, answers.AdminState(admin), up, sessions, checked)


def test_the_revision_is_read_from_an_instance_id_and_nothing_else() -> None:
    assert rotation_gauges.revision_of("hello-production-r12-0", "hello", "production") == "12"
    assert rotation_gauges.revision_of("hello-production-r3s0badcafe-2", "hello", "production") == "3"
    assert rotation_gauges.revision_of("my-app-production-r7-10", "my-app", "production") == "7"
    for odd in (
        "by-hand",
        "hello-production-r-0",
        "hello-production-rx-0",
        "hello-staging-r1-0",
        "hello-production-r1",
    ):
        assert rotation_gauges.revision_of(odd, "hello", "production") == names.NO_REVISION, odd


def test_in_flight_and_in_rotation_are_counted_per_revision() -> None:
    backends = {
        "hello": {
            "hello-production-r1-0": server(sessions=2, admin=int(answers.AdminState.FORCED_DRAIN)),
            "hello-production-r2-0": server(sessions=1),
            "hello-production-r2-1": server(sessions=4),
            "hello-production-r2-2": server(checked=False),
            "manual": server(up=False, sessions=1),
        },
        "other": {},
    }
    assert rotation_gauges.count(backends) == {
        ("hello", "production", "1"): rotation_gauges.Gauges(in_flight=2, in_rotation=0),
        ("hello", "production", "2"): rotation_gauges.Gauges(in_flight=5, in_rotation=2),
        ("hello", "production", "none"): rotation_gauges.Gauges(in_flight=1, in_rotation=0),
    }


class MeteredWorld(IngressWorld):
    def dataplane(self) -> satellite_rotation.Dataplane:
        self.metrics = satellite_metrics.SatelliteMetrics(
            lambda: self.driver.list(), lambda: self.metered.last_servers, lambda: None
        )
        self.metered = metered_dataplane.Metered(self.ingress, self.metrics, clock=lambda: self.now)
        return self.metered

    def sample(self, name: str, **labels: str) -> float | None:
        return exposition.sample(self.metrics.exposition().decode(), name, **labels)


def test_a_rollout_moves_rotation_from_one_revision_to_the_next_and_times_each_drain() -> None:
    world = MeteredWorld()
    world.want(revision=1)
    world.settle()
    r1 = {"service": "hello", "environment": "production", "revision": "1"}
    assert world.sample(names.INGRESS_IN_ROTATION, **r1) == 2
    assert world.sample("taxiway_satellite_ingress_reloads_total", outcome="ok") == 1
    assert world.sample("taxiway_satellite_instances", service="hello", state="ready") == 2

    world.want(revision=2)
    world.step()
    world.ingress.sessions["hello-production-r1-0"] = 3
    world.step()
    world.step()  # r2 serves: r1 drains
    assert world.sample(names.INGRESS_IN_ROTATION, **r1) == 0
    assert world.sample(names.INGRESS_IN_FLIGHT, **r1) == 3
    assert world.sample(names.INGRESS_IN_ROTATION, **{**r1, "revision": "2"}) == 2
    drains = "taxiway_satellite_drain_duration_seconds_count"
    world.step()  # r1-1 had no session: removed
    assert world.sample(drains, service="hello", environment="production") == 1
    drained_at = world.now
    world.ingress.sessions["hello-production-r1-0"] = 0
    world.now += 4.0
    world.step()
    assert world.sample(drains, service="hello") == 2
    total = world.sample("taxiway_satellite_drain_duration_seconds_sum", service="hello")
    assert total is not None
    assert total >= world.now - drained_at
    assert world.sample(names.INGRESS_IN_ROTATION, **r1) is None, "a revision with no server has no series"
    assert world.sample("taxiway_satellite_ingress_reloads_total", outcome="ok") == 1, (
        "no reload for membership"
    )


def test_a_failed_reload_is_counted_and_a_stopped_ingress_has_no_servers() -> None:
    world = MeteredWorld()
    world.ingress.refuse_installs = True
    world.want(revision=1)
    world.step()
    assert world.sample("taxiway_satellite_ingress_reloads_total", outcome="failed") == 1
    world.ingress.refuse_installs = False
    world.now += satellite_rotation.RETRY_SECONDS
    world.settle()
    assert world.sample(names.INGRESS_IN_ROTATION, service="hello", revision="1") == 2
    world.ingress.up = False
    world.ingress.refuse_installs = True
    world.step()
    assert world.sample(names.INGRESS_IN_ROTATION, service="hello", revision="1") is None

"""Restart decisions on virtual time: the pure backoff and the supervisor over the fake driver."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from taxiway.plan.region import instance_spec, supervision
from taxiway.runtime import driver, fake, probes, supervisor
from taxiway.spec import manifest

POLICY = supervision.BackoffPolicy(initial_seconds=1.0, factor=2.0, max_seconds=8.0, reset_after_seconds=30.0)


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


def spec(instance_id: str = "hello-1", greeting: str = "hello") -> instance_spec.InstanceSpec:
    return instance_spec.InstanceSpec(
        instance_id=instance_id,
        service="hello",
        environment="production",
        region="us-east1",
        revision=3,
        datacenter="us-east1-b",
        node="node-1",
        argv=("python3", "app.py"),
        env={"GREETING": greeting},
    )


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(0, 0.0), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (1000, 8.0)],
)
def test_backoff_doubles_and_is_capped(failures: int, delay: float) -> None:
    assert supervision.next_restart(50.0, failures, POLICY) == 50.0 + delay


def test_first_start_never_waits() -> None:
    actions, track = supervision.decide(
        "a", supervision.Observation(present=False), supervision.Track(), 0, POLICY
    )
    assert actions == [supervision.Start("a", restart=False)]
    assert track.failures == 0


def test_a_crash_waits_for_its_backoff_then_restarts() -> None:
    crashed = supervision.Observation(present=True, running=False, reason="exited with status -9")
    actions, track = supervision.decide("a", crashed, supervision.Track(), 10.0, POLICY)
    assert actions == []
    assert track.failures == 1
    assert track.restart_at == 11.0
    actions, same = supervision.decide("a", crashed, track, 10.9, POLICY)
    assert (actions, same) == ([], track)
    actions, track = supervision.decide("a", crashed, track, 11.0, POLICY)
    assert actions == [supervision.Start("a", restart=True)]
    assert track.restart_at is None
    assert track.failures == 1


def test_an_unhealthy_instance_is_killed_and_counted() -> None:
    sick = supervision.Observation(
        present=True, running=True, healthy=False, reason="liveness probe failed 3x"
    )
    actions, track = supervision.decide("a", sick, supervision.Track(failures=2), 5.0, POLICY)
    assert actions == [supervision.Kill("a", "liveness probe failed 3x")]
    assert track.failures == 3
    assert track.restart_at == 5.0 + 4.0


def test_a_changed_spec_is_replaced_without_counting_a_failure() -> None:
    stale = supervision.Observation(present=True, running=True, current=False)
    actions, track = supervision.decide("a", stale, supervision.Track(failures=1), 0, POLICY)
    assert actions == [supervision.Replace("a")]
    assert track.failures == 1


def test_failures_are_forgotten_after_running_healthy_long_enough() -> None:
    healthy = supervision.Observation(present=True, running=True)
    _, track = supervision.decide("a", healthy, supervision.Track(failures=4), 100.0, POLICY)
    assert track.up_since == 100.0
    _, track = supervision.decide("a", healthy, track, 129.0, POLICY)
    assert track.failures == 4
    _, track = supervision.decide("a", healthy, track, 130.0, POLICY)
    assert track.failures == 0


def test_supervisor_restarts_a_crashed_instance_on_schedule() -> None:
    clock = Clock()
    runtime = fake.FakeDriver(clock)
    keeper = supervisor.Supervisor(runtime, POLICY, clock)
    keeper.ensure(spec())
    keeper.tick()
    assert runtime.calls == [("start", "hello-1")]
    keeper.tick()  # seen ready: an instance that served is restarted however often it fails

    restarts = []
    for _ in range(7):
        runtime.crash("hello-1")
        crashed_at = clock.now
        while runtime.list()[0].state is instance_spec.InstanceState.EXITED:
            keeper.tick()
            clock.now += 0.25
        restarts.append(clock.now - 0.25 - crashed_at)
        clock.now += 1.0  # up for a second: not long enough to be forgiven
    assert restarts == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]
    assert runtime.list()[0].restarts == 7


def test_an_instance_that_never_became_ready_is_left_stopped_after_its_failed_starts() -> None:
    clock = Clock()
    runtime = fake.FakeDriver(clock)
    keeper = supervisor.Supervisor(runtime, POLICY, clock)
    keeper.ensure(spec())
    for _ in range(400):
        keeper.tick()
        if runtime.list()[0].state is instance_spec.InstanceState.RUNNING:
            runtime.crash("hello-1")  # dies at once, every time: never seen ready
        clock.now += 0.25
        if keeper.track("hello-1").gave_up:
            break
    track = keeper.track("hello-1")
    assert track.gave_up
    assert track.failures == POLICY.give_up_after
    (instance,) = runtime.list()
    assert instance.state is instance_spec.InstanceState.EXITED, "stopped, and kept with its logs"
    starts = runtime.calls.count(("start", "hello-1"))
    clock.now += 3600
    keeper.tick()
    assert runtime.calls.count(("start", "hello-1")) == starts, "no restart once given up"
    keeper.ensure(replace(spec(), argv=("python3", "fixed.py")))
    keeper.tick()
    clock.now += POLICY.initial_seconds
    keeper.tick()
    assert runtime.calls.count(("start", "hello-1")) == starts + 1, "a new spec starts afresh"


def test_supervisor_kills_then_restarts_an_unhealthy_instance() -> None:
    clock = Clock()
    runtime = fake.FakeDriver(clock)
    keeper = supervisor.Supervisor(runtime, POLICY, clock)
    keeper.ensure(spec())
    keeper.tick()
    runtime.set_health("hello-1", healthy=False)
    report = keeper.tick()
    assert report.actions == [supervision.Kill("hello-1", "set by test")]
    assert runtime.calls[-1] == ("stop", "hello-1")
    clock.now += 1.0
    keeper.tick()
    assert runtime.calls[-1] == ("start", "hello-1")
    assert runtime.list()[0].state is instance_spec.InstanceState.RUNNING


def test_supervisor_replaces_an_instance_whose_spec_changed() -> None:
    runtime = fake.FakeDriver()
    keeper = supervisor.Supervisor(runtime, POLICY, Clock())
    keeper.ensure(spec())
    keeper.tick()
    keeper.ensure(spec(greeting="bonjour"))
    keeper.tick()
    assert runtime.calls == [("start", "hello-1"), ("stop", "hello-1"), ("start", "hello-1")]
    assert runtime.list()[0].spec_digest == spec(greeting="bonjour").digest()


def test_supervisor_never_stops_what_it_was_not_told_to_remove() -> None:
    runtime = fake.FakeDriver()
    runtime.start(spec("adopted-1"))
    keeper = supervisor.Supervisor(runtime, POLICY, Clock())
    report = keeper.tick()  # an empty desired set, as from a faulty control plane
    assert report.unmanaged == ["adopted-1"]
    assert runtime.calls == [("start", "adopted-1")]
    keeper.remove("adopted-1")
    assert runtime.list() == []


def test_a_failed_start_is_retried_with_backoff() -> None:
    class Failing(fake.FakeDriver):
        def start(self, spec: instance_spec.InstanceSpec) -> instance_spec.Instance:
            self.calls.append(("start", spec.instance_id))
            raise driver.StartFailed("python3: No such file or directory")

    clock = Clock()
    runtime = Failing(clock)
    keeper = supervisor.Supervisor(runtime, POLICY, clock)
    keeper.ensure(spec())
    assert keeper.tick().errors == {"hello-1": "python3: No such file or directory"}
    keeper.tick()
    assert len(runtime.calls) == 1, "waits its backoff"
    clock.now += 1.0
    keeper.tick()
    assert len(runtime.calls) == 2


def test_one_instance_whose_checks_raise_never_stops_the_others_supervision() -> None:
    clock = Clock()

    class Breaking(fake.FakeDriver):
        def health(self, instance_id: str) -> driver.Health:
            if instance_id == "bad-1":
                raise ValueError("a probe path no HTTP client accepts")
            return super().health(instance_id)

    runtime = Breaking(clock)
    keeper = supervisor.Supervisor(runtime, POLICY, clock)
    keeper.ensure(spec("bad-1"))
    keeper.ensure(spec("good-1"))
    keeper.tick()
    keeper.tick()
    runtime.crash("good-1")
    report = keeper.tick()
    assert "ValueError" in report.errors["bad-1"]
    clock.now += POLICY.initial_seconds
    keeper.tick()
    assert runtime.calls.count(("start", "good-1")) == 2, "good-1 was restarted all the same"


def test_a_probe_on_a_path_no_client_can_send_fails_instead_of_raising() -> None:
    bad = manifest.Probe.model_construct(protocol="http", path="/health\nX: 1", timeout_seconds=1)
    result = probes.check(bad, "127.0.0.1", 9)
    assert not result.ok
    assert result.error is not None

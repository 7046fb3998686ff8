"""The ``local`` runtime driver with real processes: start, probe, crash, restart, stop, adopt.

Every test runs its instances under a fresh state directory and tags them with a marker
in their environment; the ``world`` fixture's teardown stops everything through a driver,
then scans ``/proc`` for anything of the test still alive (instances by the marker, shims
by the state directory on their command line), kills it and fails the test if there was
any. Waiting is always a condition polled against a deadline, never a bare sleep.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from taxiway.plan.region import instance_spec, supervision
from taxiway.runtime import driver, local, logfile, process, supervisor
from taxiway.spec import manifest
from tests.conftest import EXAMPLES
from tests.fixtures.waiting import wait_for

HELLO = EXAMPLES / "hello"
FAST_PROBES = manifest.Probes(
    startup=manifest.Probe(period_seconds=1, failure_threshold=10),
    readiness=manifest.Probe(period_seconds=1),
    liveness=manifest.Probe(period_seconds=1),
)
FAST_BACKOFF = supervision.BackoffPolicy(initial_seconds=0.5, factor=2.0, max_seconds=2.0)


@dataclass
class World:
    state_dir: Path
    marker: str

    def open_driver(self, rotation: logfile.Rotation | None = None) -> local.LocalDriver:
        settings = local.LocalSettings(
            state_dir=self.state_dir, rotation=rotation or logfile.Rotation(), kill_timeout_seconds=5.0
        )
        return local.LocalDriver(settings)

    def spec(
        self,
        instance_id: str,
        argv: tuple[str, ...] = (sys.executable, "app.py"),
        *,
        env: dict[str, str] | None = None,
        probes: manifest.Probes = FAST_PROBES,
        grace: float = 5.0,
    ) -> instance_spec.InstanceSpec:
        return instance_spec.InstanceSpec(
            instance_id=instance_id,
            service="hello",
            environment="staging",
            region="us-east1",
            revision=7,
            datacenter="us-east1-b",
            node="node-1",
            argv=argv,
            cwd=HELLO,
            env={"TEST_MARKER": self.marker, **(env or {})},
            probes=probes,
            stop_grace_seconds=grace,
        )

    def processes(self) -> list[process.ProcessId]:
        """Every live process of this test: instances (by marker) and shims (by state dir)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if f"TEST_MARKER={self.marker}".encode() in environ or str(self.state_dir).encode() in cmdline:
                pid = process.identify(int(entry.name))
                if pid is not None and process.alive(pid):
                    found.append(pid)
        return found


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    world = World(state_dir=tmp_path / "state", marker=uuid.uuid4().hex)
    yield world
    cleanup = world.open_driver()
    for instance in cleanup.list():
        cleanup.stop(instance.instance_id, grace_seconds=1.0)
    left = world.processes()
    for leftover in left:
        process.signal_group(leftover, signal.SIGKILL)
    assert not left, f"processes left behind: {left}"


def ready(runtime: driver.RuntimeDriver, instance_id: str) -> bool:
    return runtime.health(instance_id).ready


def get_root(port: int | None) -> dict[str, str]:
    assert port is not None
    response = httpx.get(f"http://127.0.0.1:{port}/", timeout=5.0, trust_env=False)
    response.raise_for_status()
    payload: dict[str, str] = response.json()
    return payload


def texts(lines: Sequence[str]) -> list[str]:
    """Log lines without their timestamps."""
    return [logfile.unstamped(line) for line in lines]


def instance(runtime: driver.RuntimeDriver, instance_id: str) -> instance_spec.Instance:
    (found,) = [item for item in runtime.list() if item.instance_id == instance_id]
    return found


def test_instances_become_ready_and_answer_on_their_own_ports(world: World) -> None:
    runtime = world.open_driver()
    first = runtime.start(world.spec("hello-a"))
    second = runtime.start(world.spec("hello-b"))
    assert first.port != second.port
    assert first.state is instance_spec.InstanceState.RUNNING

    for started in (first, second):
        wait_for(functools.partial(ready, runtime, started.instance_id), within=10, what="readiness")
        assert get_root(started.port) == {
            "greeting": "hello",
            "service": "hello",
            "region": "us-east1",
            "revision": "7",
        }
    assert all(item.ready for item in runtime.list())
    assert any("GET / HTTP/1.1" in line for line in runtime.logs("hello-a"))


def test_starting_a_running_instance_again_changes_nothing(world: World) -> None:
    runtime = world.open_driver()
    spec = world.spec("hello-a")
    started = runtime.start(spec)
    assert runtime.start(spec).pid == started.pid
    with pytest.raises(driver.InstanceConflict):
        runtime.start(world.spec("hello-a", env={"GREETING": "changed"}))
    assert len(runtime.list()) == 1


def test_environment_has_port_and_platform_variables_but_not_the_satellites(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAXIWAY_TOKEN", "satellite-secret")
    dump = "import json, os, time; print(json.dumps(dict(os.environ)), flush=True); time.sleep(60)"
    runtime = world.open_driver()
    started = runtime.start(world.spec("env-dump", (sys.executable, "-c", dump), env={"GREETING": "hi"}))
    wait_for(lambda: runtime.logs("env-dump"), within=10, what="the env dump")
    env = json.loads(logfile.unstamped(runtime.logs("env-dump")[0]))
    assert env["PORT"] == str(started.port)
    assert env["GREETING"] == "hi"
    assert {key: value for key, value in env.items() if key.startswith("TAXIWAY_")} == {
        "TAXIWAY_SERVICE": "hello",
        "TAXIWAY_ENVIRONMENT": "staging",
        "TAXIWAY_REGION": "us-east1",
        "TAXIWAY_REVISION": "7",
        "TAXIWAY_DATACENTER": "us-east1-b",
        "TAXIWAY_NODE": "node-1",
        "TAXIWAY_INSTANCE": "env-dump",
    }
    state = json.loads((world.state_dir / "instances" / "env-dump" / "state.json").read_text())
    assert "hi" not in json.dumps(state), "env values stay out of state files"


def test_path_leaves_out_taxiways_virtualenv_and_home_is_the_instances_own(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The satellite runs from a virtualenv whose bin/ is first on its PATH, as when started
    # from an activated .venv: an instance must not find Taxiway's packages and tools there.
    venv_bin = tmp_path / "taxiway-venv" / "bin"
    venv_bin.mkdir(parents=True)
    monkeypatch.setenv("PATH", f"{venv_bin}{os.pathsep}/usr/bin{os.pathsep}/bin")
    settings = local.LocalSettings(state_dir=world.state_dir, hidden_bin_dirs=(str(venv_bin),))
    runtime = local.LocalDriver(settings)
    dump = (
        "import json, os, pathlib, time; home = pathlib.Path(os.environ['HOME']);"
        "(home / 'note').write_text('kept'); print(json.dumps(dict(os.environ)), flush=True); time.sleep(60)"
    )
    runtime.start(world.spec("env-home", (sys.executable, "-c", dump)))
    wait_for(lambda: runtime.logs("env-home"), within=10, what="the env dump")
    env = json.loads(logfile.unstamped(runtime.logs("env-home")[0]))

    assert env["PATH"].split(os.pathsep) == ["/usr/bin", "/bin"]
    home = world.state_dir / "instances" / "env-home" / "home"
    assert env["HOME"] == str(home)
    assert (home / "note").read_text() == "kept"
    assert home.stat().st_mode & 0o777 == 0o700


def test_the_satellites_own_virtualenv_is_hidden_by_default() -> None:
    bins = local.own_virtualenv_bins()
    assert bins == ((os.path.join(sys.prefix, "bin"),) if sys.prefix != sys.base_prefix else ())
    assert local.LocalSettings(state_dir=Path("/nonexistent")).hidden_bin_dirs == bins
    hidden = os.path.join(sys.prefix, "bin")
    assert local.instance_path(f"{hidden}/{os.pathsep}/usr/bin", (hidden,)) == "/usr/bin"
    assert local.instance_path(hidden, (hidden,)) == local.DEFAULT_PATH
    assert local.instance_path(None, ()) == local.DEFAULT_PATH


@pytest.mark.slow
def test_killed_instance_is_restarted_within_its_backoff_and_ready_again(world: World) -> None:
    runtime = world.open_driver()
    keeper = supervisor.Supervisor(runtime, FAST_BACKOFF)
    keeper.ensure(world.spec("hello-a"))

    def ready_after_tick() -> bool:
        keeper.tick()
        return instance(runtime, "hello-a").ready

    wait_for(ready_after_tick, within=10, what="first readiness")
    before = instance(runtime, "hello-a")
    os.kill(before.pid or 0, signal.SIGKILL)
    killed_at = time.monotonic()

    # kill(2) returns before the process is gone: wait for the new process, not the old one.
    wait_for(
        lambda: ready_after_tick() and instance(runtime, "hello-a").pid != before.pid,
        within=10,
        what="a new process, ready, after kill -9",
    )
    after = instance(runtime, "hello-a")
    assert after.restarts == 1
    assert after.port == before.port, "a restart keeps its address"
    # Backoff 0.5 s, then up to one startup probe period (1 s) and tick granularity.
    assert time.monotonic() - killed_at < 0.5 + 1.0 + 1.5
    assert keeper.track("hello-a").failures == 1
    assert get_root(after.port)["region"] == "us-east1"


@pytest.mark.slow
def test_instance_failing_its_startup_probe_is_restarted_with_growing_backoff(world: World) -> None:
    deaf = (sys.executable, "-c", "import time; time.sleep(60)")  # never listens
    probes = manifest.Probes(startup=manifest.Probe(protocol="tcp", period_seconds=1, failure_threshold=1))
    runtime = world.open_driver()
    keeper = supervisor.Supervisor(runtime, supervision.BackoffPolicy(initial_seconds=0.2, max_seconds=0.4))
    keeper.ensure(world.spec("deaf", deaf, probes=probes, grace=0.5))

    def restarted_twice() -> bool:
        keeper.tick()
        return instance(runtime, "deaf").restarts >= 2

    wait_for(restarted_twice, within=15, what="two restarts")
    assert keeper.track("deaf").failures >= 2
    assert "startup probe failed" in (keeper.track("deaf").last_reason or "")


def test_graceful_stop_sends_sigterm_first(world: World) -> None:
    runtime = world.open_driver()
    runtime.start(world.spec("hello-a"))
    wait_for(lambda: ready(runtime, "hello-a"), within=10, what="readiness")
    begun = time.monotonic()
    runtime.stop("hello-a", grace_seconds=5.0, forget=False)
    assert time.monotonic() - begun < 2.0, "SIGTERM ends a well-behaved instance at once"
    stopped = instance(runtime, "hello-a")
    assert stopped.state is instance_spec.InstanceState.EXITED
    wait_for(lambda: instance(runtime, "hello-a").exit_code is not None, within=5, what="exit record")
    assert instance(runtime, "hello-a").exit_code == -signal.SIGTERM


def test_graceful_stop_kills_an_instance_that_ignores_sigterm_after_the_grace(world: World) -> None:
    stubborn = (
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ignoring', flush=True); "
        "time.sleep(60)",
    )
    runtime = world.open_driver()
    runtime.start(world.spec("stubborn", stubborn))
    wait_for(lambda: texts(runtime.logs("stubborn")) == ["ignoring"], within=10, what="the handler")
    begun = time.monotonic()
    runtime.stop("stubborn", grace_seconds=0.6, forget=False)
    took = time.monotonic() - begun
    assert 0.6 <= took < 3.0
    wait_for(lambda: instance(runtime, "stubborn").exit_code is not None, within=5, what="exit record")
    assert instance(runtime, "stubborn").exit_code == -signal.SIGKILL


def test_a_new_driver_adopts_running_instances_and_cleans_up_dead_ones(world: World) -> None:
    first = world.open_driver()
    running = [first.start(world.spec(name)) for name in ("hello-a", "hello-b")]
    first.start(world.spec("short-lived", (sys.executable, "-c", "pass")))
    wait_for(
        lambda: instance(first, "short-lived").state is instance_spec.InstanceState.EXITED,
        within=10,
        what="the short-lived instance to exit",
    )
    # From here on the first driver is never used again, as if its satellite had died.

    second = world.open_driver()
    report = second.recover()
    assert report.adopted == ("hello-a", "hello-b")
    assert report.cleaned == ("short-lived",)
    assert not (world.state_dir / "instances" / "short-lived").exists()
    adopted = {item.instance_id: item.pid for item in second.list()}
    assert adopted == {item.instance_id: item.pid for item in running}

    # Asking again for what runs starts nothing new.
    again = second.start(world.spec("hello-a"))
    assert again.pid == adopted["hello-a"]
    instances = [pid for pid in world.processes() if pid.pid in adopted.values()]
    assert len(instances) == 2
    assert len(world.processes()) == 4, "two instances and their two shims, no more"
    for item in running:
        wait_for(functools.partial(ready, second, item.instance_id), within=10, what="ready after adoption")
        assert get_root(item.port)["service"] == "hello"


def test_logs_rotate_under_the_size_bound_even_with_no_driver_alive(world: World, tmp_path: Path) -> None:
    trigger = tmp_path / "go"
    chatty = (
        sys.executable,
        "-c",
        "import os, time\n"
        f"while not os.path.exists({str(trigger)!r}): time.sleep(0.02)\n"
        "for i in range(3000): print(f'line {i:05d} ' + 'x' * 80)\n"
        "print('done', flush=True)\n"
        "time.sleep(60)\n",
    )
    rotation = logfile.Rotation(max_bytes=16 * 1024, keep=2)
    starter = world.open_driver(rotation)
    starter.start(world.spec("chatty", chatty))
    del starter  # rotation is the shim's job: no driver needs to be alive
    trigger.touch()

    reader = world.open_driver(rotation)
    wait_for(lambda: texts(reader.logs("chatty", tail=1)) == ["done"], within=10, what="all output")
    directory = world.state_dir / "instances" / "chatty"
    files = sorted(path.name for path in directory.glob("instance.log*"))
    assert files == ["instance.log", "instance.log.1", "instance.log.2"]
    for name in files:
        assert (directory / name).stat().st_size <= rotation.max_bytes
    tail = reader.logs("chatty", tail=3)
    assert texts(tail[:2]) == ["line 02998 " + "x" * 80, "line 02999 " + "x" * 80]


SATELLITE = """
import sys
from pathlib import Path
from taxiway.plan.region import instance_spec
from taxiway.runtime import local
from taxiway.spec import manifest

state_dir, marker, hello = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
runtime = local.LocalDriver(local.LocalSettings(state_dir=state_dir))
for name in ("hello-a", "hello-b"):
    started = runtime.start(instance_spec.InstanceSpec(
        instance_id=name, service="hello", environment="staging", region="us-east1", revision=7,
        datacenter="us-east1-b", node="node-1", argv=(sys.executable, "app.py"), cwd=hello,
        env={"TEST_MARKER": marker},
    ))
    print(name, started.pid, started.port, flush=True)
sys.stdin.read()  # stay up until killed
"""


@pytest.mark.slow
def test_instances_outlive_a_satellite_killed_with_sigkill(world: World) -> None:
    satellite = subprocess.Popen(
        [sys.executable, "-c", SATELLITE, str(world.state_dir), world.marker, str(HELLO)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert satellite.stdout is not None
        lines = [satellite.stdout.readline().split() for _ in range(2)]
    finally:
        satellite.kill()  # kill -9: no cleanup runs in the satellite
        satellite.wait(timeout=10)
        assert satellite.stdin is not None
        satellite.stdin.close()
        assert satellite.stdout is not None
        satellite.stdout.close()
    started = {name: (int(pid), int(port)) for name, pid, port in lines}

    runtime = world.open_driver()
    assert runtime.recover().adopted == ("hello-a", "hello-b")
    assert {item.instance_id: (item.pid, item.port) for item in runtime.list()} == started
    for _name, (_pid, port) in started.items():
        wait_for(functools.partial(_answers, port), within=10, what="the instance to answer")
    assert len(world.processes()) == 4, "two instances and their two shims, no more"


def _answers(port: int) -> bool:
    try:
        return get_root(port)["service"] == "hello"
    except httpx.HTTPError:
        return False

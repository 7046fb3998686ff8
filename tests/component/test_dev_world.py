"""The dev world's machinery with real processes but stand-in children.

The supervisor runs small Python programs instead of a control plane and satellites
(which have their own tests, and the dev world as a whole is in ``tests/e2e``): a child
that dies is restarted after a backoff that doubles from 0.5 s, a child waits for its
token, SIGTERM stops children and SIGKILLs the stubborn, leftovers of a crashed
supervisor are stopped by identity, one supervisor runs per directory, and ``dev down``
leaves no recorded process or instance alive. Every process a test starts is checked
gone at its end.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from taxiway.dev import children, instances, pidlock, private_file, processes, teardown
from taxiway.dev import layout as paths
from taxiway.dev import supervisor as world_supervisor
from taxiway.dev.settings import SatelliteTiming, WorldSettings
from taxiway.plan.region import instance_spec
from taxiway.runtime import local, process
from taxiway.spec import manifest
from tests.conftest import EXAMPLES
from tests.fixtures.waiting import wait_for


class Marked:
    """Processes of one test, found in /proc by a marker in their environment."""

    def __init__(self) -> None:
        self.marker = uuid.uuid4().hex

    def alive(self) -> list[process.ProcessId]:
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if f"TAXIWAY_TEST_MARKER={self.marker}".encode() in environ:
                pid = process.identify(int(entry.name))
                if pid is not None and process.alive(pid):
                    found.append(pid)
        return found


@pytest.fixture
def marked(monkeypatch: pytest.MonkeyPatch) -> Iterator[Marked]:
    tracker = Marked()
    monkeypatch.setenv("TAXIWAY_TEST_MARKER", tracker.marker)  # every child inherits it
    yield tracker
    left = processes.wait_gone(tracker.alive(), 5.0)
    for pid in left:
        process.signal_group(pid, signal.SIGKILL)
    assert not left, f"processes left behind: {left}"


def python(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


SLEEPER = python("import time; time.sleep(300)")
CRASHER = python("raise SystemExit(3)")
STUBBORN = python(
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ignoring', flush=True); "
    "time.sleep(300)"
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(layout: paths.Layout, name: str) -> dict[str, object]:
    document = private_file.read_json(layout.supervisor_file) or {}
    result: dict[str, object] = document["children"][name]
    return result


def waiting(keeper: world_supervisor.Supervisor, layout: paths.Layout, name: str) -> bool:
    """One supervisor tick; then: has the child exited and is it waiting for its restart?"""
    keeper.tick()
    return record(layout, name)["state"] == "waiting"


def test_a_dead_child_is_restarted_after_a_backoff_that_doubles(tmp_path: Path, marked: Marked) -> None:
    layout = paths.Layout(tmp_path)
    layout.logs_dir.mkdir()
    clock = Clock()
    keeper = world_supervisor.Supervisor(
        [children.ChildSpec("sleeper", SLEEPER), children.ChildSpec("crasher", CRASHER)],
        layout,
        clock=clock,
        stop_grace_seconds=2.0,
    )
    try:
        keeper.tick()
        first = record(layout, "sleeper")
        assert first["state"] == "running"
        assert record(layout, "crasher")["starts"] == 1

        # The crasher exits at once: each restart waits 0.5 s, then 1 s, then 2 s (virtual time).
        for delay, starts in ((0.5, 2), (1.0, 3), (2.0, 4)):
            wait_for(lambda: waiting(keeper, layout, "crasher"), within=10, what="the crash")
            clock.now += delay - 0.05
            keeper.tick()
            assert record(layout, "crasher")["starts"] == starts - 1, f"restarted before {delay}s"
            clock.now += 0.05
            keeper.tick()
            assert record(layout, "crasher")["starts"] == starts
        assert record(layout, "crasher")["last_exit"] == 3

        # kill -9 of a running child: a new process, recorded in supervisor.json.
        assert isinstance(first["pid"], int)
        os.kill(first["pid"], signal.SIGKILL)
        wait_for(lambda: waiting(keeper, layout, "sleeper"), within=10, what="the kill")
        clock.now += 0.5
        keeper.tick()
        second = record(layout, "sleeper")
        assert second["state"] == "running"
        assert second["pid"] != first["pid"]
        assert second["restarts"] == 1
        assert "supervisor starts sleeper (start 2)" in layout.log_file("sleeper").read_text()
    finally:
        keeper.shutdown()
    assert record(layout, "sleeper")["state"] == "exited"


def test_a_child_waits_for_its_token_which_is_provisioned_once_the_first_child_runs(
    tmp_path: Path, marked: Marked
) -> None:
    layout = paths.Layout(tmp_path)
    layout.logs_dir.mkdir()
    token = tmp_path / "tokens" / "r1.token"
    asked: list[str] = []

    def provision(spec: children.ChildSpec) -> None:
        assert spec.region is not None
        asked.append(spec.region)
        token.parent.mkdir(exist_ok=True)
        private_file.write_text(token, "secret\n")

    keeper = world_supervisor.Supervisor(
        [
            children.ChildSpec("control-plane", SLEEPER),
            children.ChildSpec("satellite-r1", SLEEPER, region="r1", needs=token),
        ],
        layout,
        provision=provision,
        stop_grace_seconds=2.0,
    )
    try:
        keeper.tick()  # starts the control plane; the satellite has no token yet
        assert record(layout, "satellite-r1")["state"] == "pending"
        keeper.tick()  # the control plane runs: the token is made, the satellite starts
        assert asked == ["r1"]
        assert record(layout, "satellite-r1")["state"] == "running"
        assert stat.S_IMODE(token.stat().st_mode) == 0o600
    finally:
        keeper.shutdown()


def test_shutdown_stops_every_child_and_kills_one_that_ignores_sigterm(
    tmp_path: Path, marked: Marked
) -> None:
    layout = paths.Layout(tmp_path)
    layout.logs_dir.mkdir()
    keeper = world_supervisor.Supervisor(
        [children.ChildSpec("polite", SLEEPER), children.ChildSpec("stubborn", STUBBORN, region="r")],
        layout,
        stop_grace_seconds=1.0,
    )
    stop = threading.Event()
    runner = threading.Thread(target=keeper.run, args=(stop,))
    runner.start()
    wait_for(
        lambda: layout.supervisor_file.exists() and record(layout, "stubborn")["state"] == "running",
        within=10,
        what="both children",
    )
    # The stubborn child must have installed its SIG_IGN before we ask it to stop.
    wait_for(lambda: "ignoring" in layout.log_file("stubborn").read_text(), within=10, what="SIG_IGN")
    started = time.monotonic()
    stop.set()
    runner.join(timeout=20)
    assert not runner.is_alive()
    assert 1.0 <= time.monotonic() - started < 10
    assert marked.alive() == []
    document = private_file.read_json(layout.supervisor_file) or {}
    assert document["supervisor"]["pid"] is None
    assert {c["state"] for c in document["children"].values()} == {"exited"}


def test_children_a_crashed_supervisor_left_behind_are_stopped_by_identity(
    tmp_path: Path, marked: Marked
) -> None:
    layout = paths.Layout(tmp_path)
    layout.logs_dir.mkdir()
    orphan = subprocess.Popen(SLEEPER, start_new_session=True)
    bystander = subprocess.Popen(SLEEPER, start_new_session=True)
    try:
        orphan_id = process.identify(orphan.pid)
        bystander_id = process.identify(bystander.pid)
        assert orphan_id is not None
        assert bystander_id is not None
        private_file.write_json(
            layout.supervisor_file,
            {
                "supervisor": {"pid": None, "start_time": None},
                "children": {
                    "control-plane": processes.to_record(orphan_id),
                    # Same pid, another start time: a reused pid must never be signalled.
                    "satellite-r": {"pid": bystander.pid, "start_time": bystander_id.start_time + 1},
                },
            },
        )
        keeper = world_supervisor.Supervisor([], layout, stop_grace_seconds=2.0)
        keeper.stop_leftovers()
        assert orphan.wait(timeout=10) == -signal.SIGTERM
        assert bystander.poll() is None
    finally:
        for child in (orphan, bystander):
            child.kill()
            child.wait()


def test_one_supervisor_per_directory(tmp_path: Path, marked: Marked) -> None:
    layout = paths.Layout(tmp_path)
    layout.logs_dir.mkdir()
    settings = WorldSettings(
        python=sys.executable,
        database=layout.default_database,
        topology=EXAMPLES / "topology.yaml",
        inventory=EXAMPLES / "inventory.yaml",
        regions=("us-east1",),
        control_plane_port=1,
        timing=SatelliteTiming(),
    )
    private_file.write_json(layout.world_file, settings.model_dump(mode="json"))
    with pidlock.hold(layout.pid_file):
        assert pidlock.is_held(layout.pid_file)
        assert pidlock.read_pid(layout.pid_file) == os.getpid()
        with pytest.raises(pidlock.AlreadyRunning), pidlock.hold(layout.pid_file):
            pass
        second = subprocess.run(
            [sys.executable, "-m", "taxiway.cli.main", "dev", "supervise", "--dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 0
        assert f"a supervisor runs already for {tmp_path}" in second.stderr
        assert not layout.supervisor_file.exists(), "the second supervisor started nothing"
    assert not pidlock.is_held(layout.pid_file)


def hello_spec(marker: str, region: str, instance_id: str) -> instance_spec.InstanceSpec:
    return instance_spec.InstanceSpec(
        instance_id=instance_id,
        service="hello",
        environment="production",
        region=region,
        revision=1,
        datacenter=f"{region}-b",
        node="node-1",
        argv=(sys.executable, "app.py"),
        cwd=EXAMPLES / "hello",
        env={"TAXIWAY_TEST_MARKER": marker},
        probes=manifest.Probes(),
        stop_grace_seconds=5.0,
    )


def test_dev_down_stops_the_supervisor_its_children_and_every_instance(
    tmp_path: Path, marked: Marked
) -> None:
    layout = paths.Layout(tmp_path)
    layout.logs_dir.mkdir()
    private_file.write_json(layout.world_file, {})
    # Stand-ins: a "supervisor" and a "satellite" it left running, and two instances run
    # by a local driver somewhere under a region's state directory.
    fake_supervisor = subprocess.Popen(SLEEPER, start_new_session=True)
    fake_satellite = subprocess.Popen(STUBBORN, start_new_session=True, stdout=subprocess.PIPE)
    assert fake_satellite.stdout is not None
    assert fake_satellite.stdout.readline() == b"ignoring\n"
    runtimes = {
        region: local.LocalDriver(local.LocalSettings(state_dir=layout.region_dir(region) / "runtime"))
        for region in ("us-east1", "europe-west1")
    }
    started = [
        runtime.start(hello_spec(marked.marker, region, f"hello-production-r1-{i}"))
        for region, runtime in runtimes.items()
        for i in range(2)
    ]
    try:
        private_file.write_json(
            layout.supervisor_file,
            {
                "supervisor": processes.to_record(process.identify(fake_supervisor.pid)),
                "children": {"satellite-us-east1": processes.to_record(process.identify(fake_satellite.pid))},
            },
        )
        private_file.write_text(layout.dev_file, "{}")
        found = {p.pid for region in runtimes for p in instances.running(layout.region_dir(region))}
        assert {s.pid for s in started} <= found
        assert len(found) == 8, "four instances and their four shims"

        result = teardown.down(tmp_path)

        assert result.was_running
        assert sorted(result.stopped_instances) == sorted(s.instance_id for s in started)
        assert result.left_behind == ()
        assert fake_supervisor.wait(timeout=5) == -signal.SIGTERM
        assert fake_satellite.wait(timeout=5) == -signal.SIGKILL  # ignored SIGTERM for its grace
        assert not layout.dev_file.exists()
        assert marked.alive() == []
        assert layout.world_file.exists(), "the world's files stay for the next up"
        assert teardown.down(tmp_path, purge=True).purged
        assert not tmp_path.exists()
    finally:
        for child in (fake_supervisor, fake_satellite):
            child.kill()
            child.wait()
        assert fake_satellite.stdout is not None
        fake_satellite.stdout.close()


def test_purge_refuses_a_directory_that_is_not_a_dev_world(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(Exception, match="does not look like a dev world"):
        teardown.down(tmp_path, purge=True)
    assert (tmp_path / "precious.txt").exists()


def test_private_files_are_0600_from_the_start(tmp_path: Path) -> None:
    target = tmp_path / "dev.json"
    target.write_text("old")
    target.chmod(0o644)
    private_file.write_json(target, {"token": "secret"})
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text()) == {"token": "secret"}
    assert private_file.read_json(tmp_path / "missing.json") is None


def test_satellite_command_lines_follow_the_contract(tmp_path: Path) -> None:
    layout = paths.Layout(tmp_path)
    settings = WorldSettings(
        python="/venv/bin/python",
        database="sqlite:///x.db",
        topology=Path("/t.yaml"),
        inventory=Path("/i.yaml"),
        regions=("us-east1",),
        control_plane_port=7701,
        timing=SatelliteTiming(tick=0.2, report_every=0.5),
    )
    plane, satellite = children.all_children(settings, layout)
    assert plane.argv[:4] == ("/venv/bin/python", "-m", "taxiway.cli.main", "server")
    assert "127.0.0.1:7701" in plane.argv
    assert satellite.argv[3:] == (
        "satellite",
        "--region",
        "us-east1",
        "--control-plane",
        "http://127.0.0.1:7701",
        "--token-file",
        str(layout.token_file("us-east1")),
        "--state-dir",
        str(layout.region_dir("us-east1")),
        "--topology",
        "/t.yaml",
        "--listen",
        "127.0.0.1:0",
        "--tenant-dir",
        str(layout.tenant_dir("us-east1")),
        "--users-file",
        str(layout.users_file),
        "--tick",
        "0.2",
        "--report-every",
        "0.5",
    )
    assert satellite.needs == layout.token_file("us-east1")

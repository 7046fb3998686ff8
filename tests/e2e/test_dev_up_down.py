"""``taxiway dev up`` starts a whole world the CLI finds by itself; ``dev down`` leaves nothing."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from taxiway.dev import instances as dev_instances
from taxiway.dev import private_file, processes
from taxiway.runtime import process
from tests.e2e.world import HELLO_INSTANCES, REGIONS, SATELLITE_TIMING, World, dev_status_rows, wait_for

pytestmark = [pytest.mark.slow]


def supervised(dev_dir: Path) -> dict[str, Any]:
    return private_file.read_json(dev_dir / "supervisor.json") or {}


def identities(dev_dir: Path) -> list[process.ProcessId]:
    """The supervisor and its children, by pid and start time, as supervisor.json has them."""
    document = supervised(dev_dir)
    records = [document.get("supervisor"), *(document.get("children") or {}).values()]
    return [p for p in (processes.from_record(r) for r in records) if p is not None]


def hello_ready(rows: list[dict[str, Any]]) -> bool:
    return len(rows) == len(HELLO_INSTANCES) and all(
        r["phase"] == "ready" and r["ready_instances"] == HELLO_INSTANCES[r["region"]] for r in rows
    )


def answers(control_plane: str) -> bool:
    return httpx.get(f"{control_plane}/healthz", timeout=2, trust_env=False).status_code == 200


def all_ready(world: World, dev_env: dict[str, str]) -> bool:
    """hello ready in every region: polled in this process, then as the CLI shows it."""
    if not hello_ready(dev_status_rows(Path(dev_env["TAXIWAY_DEV_DIR"]), "hello")):
        return False
    result = world.taxiway("status", "hello", "--json", admin=False, env=dev_env)
    return hello_ready([r for r in json.loads(result.stdout) if r["environment"] == "production"])


def dev_up(world: World, dev_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``dev up`` with the tests' timings and without the observability units (their own
    test, test_observability, starts and stops them)."""
    return world.taxiway(
        "dev", "up", "--timeout", "120", "--no-observability", *SATELLITE_TIMING, admin=False, timeout=180,
        env=dev_env,
    )  # fmt: skip


@pytest.mark.timeout(300)
def test_dev_up_then_down_leaves_no_process_behind(bare_world: World) -> None:
    world = bare_world
    dev_dir = world.root / "dev"
    dev_env = {"TAXIWAY_DEV_DIR": str(dev_dir)}
    try:
        up = dev_up(world, dev_env)
        assert up.returncode == 0, up.stdout + up.stderr + world.logs()
        assert "taxiway deploy examples/hello --env production" in up.stdout
        assert stat.S_IMODE(dev_dir.stat().st_mode) == 0o700

        dev_file = dev_dir / "dev.json"
        assert stat.S_IMODE(dev_file.stat().st_mode) == 0o600
        dev = json.loads(dev_file.read_text())
        assert dev["control_plane"].startswith("http://127.0.0.1:")
        assert dev["token"].startswith("twy_")
        assert Path(dev["topology"]).is_absolute()
        assert Path(dev["inventory"]).is_absolute()
        assert set(dev["regions"]) == set(REGIONS)
        for region, entry in dev["regions"].items():
            assert entry["satellite_api"].startswith("http://127.0.0.1:")
            assert entry["state_dir"] == str(dev_dir / "regions" / region)
            assert process.identify(entry["pid"]) is not None
        assert process.identify(dev["supervisor_pid"]) is not None

        again = world.taxiway("dev", "up", "--no-observability", admin=False, env=dev_env)
        assert again.returncode == 0
        assert "up already" in again.stdout
        assert "asked the control plane (pid" in again.stderr, "a running world reloads its files"

        # The CLI finds the dev world through TAXIWAY_DEV_DIR alone.
        deployed = world.taxiway("deploy", "examples/hello", "--env", "production", admin=False, env=dev_env)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        wait_for(lambda: all_ready(world, dev_env), within=90, what="hello ready in the dev world")

        # The supervisor restarts a control plane that dies.
        plane = processes.from_record(supervised(dev_dir)["children"]["control-plane"])
        assert plane is not None
        os.kill(plane.pid, signal.SIGKILL)
        wait_for(
            lambda: (
                (new := processes.from_record(supervised(dev_dir)["children"]["control-plane"]))
                and new != plane
                and answers(dev["control_plane"])  # in this process: the CLI runs once it does
                and world.taxiway("regions", admin=False, env=dev_env).returncode == 0
            ),
            within=60,
            what="the control plane restarted by the supervisor",
        )
        status = world.taxiway("dev", "status", "--json", admin=False, env=dev_env)
        assert json.loads(status.stdout)["state"] == "up"

        # A supervisor killed with -9 leaves its children behind; the next `dev up` stops
        # them (by pid and start time) and starts a new world on the same address.
        orphans = identities(dev_dir)[1:]
        supervisor = processes.from_record(supervised(dev_dir)["supervisor"])
        assert supervisor is not None
        os.kill(supervisor.pid, signal.SIGKILL)
        assert processes.wait_gone([supervisor], 10) == []
        assert processes.alive(orphans) == orphans
        up = dev_up(world, dev_env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert "up already" not in up.stdout
        assert processes.alive(orphans) == []
        assert json.loads(dev_file.read_text())["control_plane"] == dev["control_plane"]
        wait_for(lambda: all_ready(world, dev_env), within=90, what="hello ready under a new supervisor")

        recorded = identities(dev_dir)
        instance_processes = [p for r in REGIONS for p in dev_instances.running(dev_dir / "regions" / r)]
        assert len(instance_processes) == 2 * sum(HELLO_INSTANCES.values()), "instances and their shims"

        down = world.taxiway("dev", "down", admin=False, timeout=120, env=dev_env)
        assert down.returncode == 0, down.stdout + down.stderr
        assert processes.alive(recorded) == []
        assert processes.alive(instance_processes) == []
        assert world.processes() == []
        assert not dev_file.exists()

        # The database stays: up again resumes the world, and the satellites run hello again.
        up = dev_up(world, dev_env)
        assert up.returncode == 0, up.stdout + up.stderr
        wait_for(lambda: all_ready(world, dev_env), within=90, what="hello ready after up again")
    finally:
        world.taxiway("dev", "down", "--purge", admin=False, timeout=120, env=dev_env)
    assert not dev_dir.exists()
    assert world.processes() == []

"""Global traffic in the dev world: each PoP is served by its nearest region, and keeps
serving when that region dies and when the control plane dies.

``taxiway dev up`` runs everything as real processes: the control plane, a satellite per
region (each with its ingress HAProxy and hello's instances), an edge per PoP (each with
its HAProxy) and the WAN emulator between them, which adds the topology's one-way delays
(halved here) so that each PoP's own health checks measure which region is near.
Loopback only; every wait is a condition polled against a deadline; ``dev down`` must
leave no process behind.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from taxiway.client import glb as glb_client
from taxiway.client.http import ControlPlane
from taxiway.dev import ingresses as dev_ingresses
from taxiway.dev import instances as dev_instances
from taxiway.dev import private_file, processes
from taxiway.runtime import process
from tests.e2e.world import HELLO_INSTANCES, REGIONS, World, dev_status_rows, wait_for

pytestmark = [pytest.mark.slow]

HOST = "hello.taxiway.test"
NEAREST = {"iad": "us-east1", "fra": "europe-west1", "icn": "asia-northeast3"}
MAX_LOAD_REQUESTS = 3000
MAX_LOAD_SECONDS = 45.0


def via(pop_url: str, client: httpx.Client | None = None) -> tuple[int, str | None]:
    """One GET of hello through a PoP: (status, the region that answered)."""
    get = client.get if client is not None else httpx.get
    response = get(pop_url + "/", headers={"Host": HOST}, timeout=10)
    return response.status_code, response.headers.get("X-Taxiway-Region")


def served_by(pop_url: str, region: str) -> bool:
    return via(pop_url) == (200, region)


@dataclass
class Load:
    """Sequential GETs through one PoP in a thread, bounded in count and time."""

    url: str
    answers: list[tuple[float, int, str | None]] = field(default_factory=list)
    failures: list[tuple[float, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        deadline = time.monotonic() + MAX_LOAD_SECONDS
        with httpx.Client(trust_env=False) as client:
            for _ in range(MAX_LOAD_REQUESTS):
                if self.stop.is_set() or time.monotonic() >= deadline:
                    return
                now = time.monotonic()
                try:
                    status, region = via(self.url, client)
                except httpx.HTTPError as exc:
                    with self.lock:
                        self.failures.append((now, repr(exc)))
                    continue
                with self.lock:
                    self.answers.append((now, status, region))
                    if status != 200:
                        self.failures.append((now, f"status {status} from {region}"))

    def served(self, since: float) -> Counter[str | None]:
        with self.lock:
            return Counter(region for at, status, region in self.answers if at >= since and status == 200)


def supervised(dev_dir: Path) -> dict[str, Any]:
    return private_file.read_json(dev_dir / "supervisor.json") or {}


def child(dev_dir: Path, name: str) -> process.ProcessId:
    identity = processes.from_record(supervised(dev_dir)["children"][name])
    assert identity is not None, f"{name} is not running"
    return identity


def kill(identity: process.ProcessId) -> None:
    """SIGKILL that process, if it is still the one we mean (pid and start time)."""
    if process.alive(identity):
        with contextlib.suppress(ProcessLookupError):
            os.kill(identity.pid, signal.SIGKILL)


def glb_order(world: World, env: dict[str, str], pop: str) -> list[str]:
    """The pools of hello at ``pop`` in the order it uses them, as ``glb status`` shows."""
    result = world.taxiway("glb", "status", "hello", "--json", admin=False, env=env)
    entries = [e for e in json.loads(result.stdout) if e["pop"] == pop]
    return [pool["region"] for pool in entries[0]["pools"]] if entries else []


def polled_order(env: dict[str, str], pop: str) -> list[str]:
    """:func:`glb_order` from the same client code in this process: a poll without a CLI run."""
    dev = json.loads((Path(env["TAXIWAY_DEV_DIR"]) / "dev.json").read_text())
    with ControlPlane(dev["control_plane"], dev["token"]) as client:
        entries = [e.to_json(datetime.now(UTC)) for e in glb_client.fetch(client, "hello")]
    found = [e for e in entries if e["pop"] == pop]
    return [pool["region"] for pool in found[0]["pools"]] if found else []


def hello_ready(rows: list[dict[str, Any]]) -> bool:
    return len(rows) == len(HELLO_INSTANCES) and all(
        r["phase"] == "ready" and r["ready_instances"] == HELLO_INSTANCES[r["region"]] for r in rows
    )


def all_ready(world: World, env: dict[str, str]) -> bool:
    """hello ready in every region: polled in this process, then as the CLI shows it."""
    if not hello_ready(dev_status_rows(Path(env["TAXIWAY_DEV_DIR"]), "hello")):
        return False
    result = world.taxiway("status", "hello", "--json", admin=False, env=env)
    return hello_ready([r for r in json.loads(result.stdout) if r["environment"] == "production"])


@pytest.mark.timeout(150)
def test_pops_are_served_by_the_nearest_region_through_a_region_death_and_control_plane_loss(
    bare_world: World,
) -> None:
    world = bare_world
    dev_dir = world.root / "dev"
    env = {"TAXIWAY_DEV_DIR": str(dev_dir)}
    try:
        up = world.dev_up(env)
        assert up.returncode == 0, up.stdout + up.stderr + world.logs()
        dev = json.loads((dev_dir / "dev.json").read_text())
        assert dev["domain"] == "taxiway.test"
        assert set(dev["pops"]) == set(NEAREST)
        assert all(url.startswith("http://127.0.0.1:") for url in dev["pops"].values())
        assert all(dev["regions"][r]["ingress"].startswith("http://127.0.0.1:") for r in REGIONS)
        pops: dict[str, str] = dev["pops"]
        # Every HAProxy's Prometheus exporter is named, in dev.json and in `dev status`.
        exporters = [dev["regions"][r]["ingress_metrics"] for r in REGIONS] + list(
            dev["pop_metrics"].values()
        )
        assert len(exporters) == len(REGIONS) + len(NEAREST)
        for exporter in exporters:
            scraped = httpx.get(exporter, timeout=10, trust_env=False)
            assert scraped.status_code == 200, exporter
            assert "haproxy_process_" in scraped.text, exporter
        shown = world.taxiway("dev", "status", admin=False, env=env)
        assert all(exporter in shown.stdout for exporter in exporters), shown.stdout

        deployed = world.taxiway("deploy", "examples/hello", "--env", "production", admin=False, env=env)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        wait_for(lambda: all_ready(world, env), within=60, what="hello ready in every region")

        # Each PoP finds its nearest region from the RTT its own checks measure on the WAN.
        for pop, region in NEAREST.items():
            wait_for(functools.partial(served_by, pops[pop], region), within=30, what=f"{pop} by {region}")

        # fra has measured every pool: europe-west1 first, then us-east1, the next nearest.
        measured = ["europe-west1", "us-east1", "asia-northeast3"]
        wait_for(
            lambda: polled_order(env, "fra") == measured and glb_order(world, env, "fra") == measured,
            within=30,
            what="fra's pools in measured order",
        )

        # Kill every process of europe-west1 under a sequential load through fra.
        load = Load(pops["fra"])
        runner = threading.Thread(target=load.run, name="load-fra", daemon=True)
        runner.start()
        try:
            wait_for(lambda: load.served(0.0)["europe-west1"] >= 30, within=20, what="fra serving under load")
            region_dir = dev_dir / "regions" / "europe-west1"
            victims = [
                child(dev_dir, "satellite-europe-west1"),
                *dev_ingresses.running(region_dir),
                *dev_instances.running(region_dir),
            ]
            killed_at = time.monotonic()
            for victim in victims:
                kill(victim)
            assert processes.wait_gone(victims, 10) == []
            wait_for(
                lambda: load.served(killed_at)["us-east1"] >= 50,
                within=20,
                what="fra served by us-east1 after europe-west1 died",
            )
        finally:
            load.stop.set()
            runner.join(timeout=15)
        after = load.served(killed_at)
        print(
            f"\nfra under load: {len(load.answers)} requests, {len(load.failures)} failed; "
            f"after the kill served by {dict(after)}"
        )
        assert load.failures == []
        assert after["us-east1"] >= 50
        assert set(after) <= {"us-east1", "europe-west1"}, "the next nearest region serves"

        # The supervisor brings europe-west1 back; fra returns to it after consecutive_up checks.
        wait_for(lambda: served_by(pops["fra"], "europe-west1"), within=45, what="fra back on europe-west1")

        # Control plane gone (and its supervisor, so nothing restarts it): edges keep routing.
        supervisor = processes.from_record(supervised(dev_dir)["supervisor"])
        assert supervisor is not None
        kill(supervisor)
        plane = child(dev_dir, "control-plane")
        kill(plane)
        assert processes.wait_gone([plane], 10) == []
        with httpx.Client(trust_env=False) as client:
            for pop, region in NEAREST.items():
                answers = [via(pops[pop], client) for _ in range(10)]
                assert answers == [(200, region)] * 10, (pop, answers)
    finally:
        down = world.taxiway("dev", "down", "--purge", admin=False, timeout=120, env=env)
        assert down.returncode == 0, down.stdout + down.stderr
    assert not dev_dir.exists()
    assert world.processes() == []

"""Regions run on their own while the control plane is dead, and catch up when it is back."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import httpx
import pytest

from taxiway.runtime import process
from tests.conftest import EXAMPLES
from tests.e2e.world import World, answers_from, wait_for

pytestmark = [pytest.mark.slow]


def endpoints(world: World) -> dict[str, list[str]]:
    return {
        region: [f"http://127.0.0.1:{i.port}" for i in world.instances(region)] for region in world.regions
    }


@pytest.mark.timeout(240)
def test_killed_control_plane_leaves_regions_running_and_they_catch_up(world: World, tmp_path: Path) -> None:
    assert world.deploy().returncode == 0
    rows = world.wait_ready()
    revision = rows[0]["revision"]
    before = world.instance_pids()
    seen_before = {region: world.last_seen(region) for region in world.regions}

    world.kill(world.control_plane)  # kill -9
    with pytest.raises(httpx.TransportError):
        world.control_plane_answers()

    # Every instance keeps answering, each from its own region.
    for region, urls in endpoints(world).items():
        for url in urls:
            assert answers_from(url, region), f"{url} in {region} stopped answering"

    # An instance killed now is restarted by its satellite alone: new pid, same address, answering.
    victim = world.instances("us-east1")[0]
    os.kill(victim.pid, signal.SIGKILL)

    def restarted() -> bool:
        now = {i.instance_id: i for i in world.instances("us-east1")}
        again = now.get(victim.instance_id)
        return (
            again is not None
            and again.pid != victim.pid
            and answers_from(f"http://127.0.0.1:{again.port}", "us-east1")
        )

    wait_for(restarted, within=30, what=f"{victim.instance_id} restarted while the control plane is down")
    assert world.instance_pids()["europe-west1"] == before["europe-west1"]

    # The control plane comes back on the same database and port: same revision, satellites
    # report again, and the restarted instance shows with its new pid, ready.
    since = world.server_time()
    world.start_control_plane()
    world.wait_satellites_seen(since)
    rows = world.wait_ready(revision=revision, since=since)
    assert {row["revision"] for row in rows} == {revision}
    reported = world.reported("us-east1")
    assert reported[victim.instance_id]["pid"] != victim.pid
    assert process.identify(reported[victim.instance_id]["pid"]) is not None
    for region in world.regions:
        seen = world.last_seen(region)
        assert seen is not None
        previous = seen_before[region]
        assert previous is not None
        assert seen > previous

    # And a new deploy still goes through, to every region.
    changed = tmp_path / "hello"
    shutil.copytree(EXAMPLES / "hello", changed)
    env_file = changed / ".taxiway" / "env-production.yaml"
    env_file.write_text(env_file.read_text().replace("hello from production", "hello again"))
    result = world.deploy(changed)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = world.wait_ready(revision=revision + 1)
    for row in rows:
        for instance in row["instances"]:
            if instance["revision"] == revision + 1:
                answer = httpx.get(instance["endpoint"], timeout=5, trust_env=False).json()
                assert answer["greeting"] == "hello again"

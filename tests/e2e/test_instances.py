"""Instances come back after a crash within their backoff; a failed node's instances move."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest

from taxiway.runtime import process
from tests.e2e.world import World, status_rows, wait_for

pytestmark = [pytest.mark.slow]


@pytest.mark.timeout(150)
def test_a_killed_instance_is_back_and_ready_within_its_backoff(shared_world: World) -> None:
    world = shared_world
    region = "asia-northeast3"
    assert world.deploy().returncode == 0
    world.wait_ready()
    victim = world.instances(region)[0]

    os.kill(victim.pid, signal.SIGKILL)
    killed_at = time.monotonic()

    def back_and_ready() -> bool:
        mine = world.reported(region).get(victim.instance_id)
        return bool(mine and mine["pid"] != victim.pid and mine["ready"] and mine["restarts"] >= 1)

    wait_for(back_and_ready, within=30, what=f"{victim.instance_id} back and ready")
    # Backoff 0.3 s (the satellite's --backoff-initial), a 0.2 s tick, and readiness (a 2 s
    # probe period): well under ten seconds on any machine that runs this suite.
    assert time.monotonic() - killed_at < 10


@pytest.mark.timeout(180)
def test_node_down_moves_its_instances_to_other_nodes_and_node_up_restores_it(shared_world: World) -> None:
    world = shared_world
    region, datacenter, node = "us-east1", "us-east1-b", "node-1"
    assert world.deploy().returncode == 0
    world.wait_ready()
    before = world.instances(region)
    on_node = [i for i in before if (i.datacenter, i.node) == (datacenter, node)]
    assert on_node, f"placement put nothing on {datacenter}/{node}: {before}"

    result = world.taxiway("chaos", "node-down", f"{region}/{datacenter}/{node}")
    assert result.returncode == 0, result.stderr

    def off_the_node(rows: list[dict[str, Any]]) -> bool:
        row = next(r for r in rows if r["region"] == region)
        places = {(i["datacenter"], i["node"]) for i in row["instances"]}
        return row["phase"] == "ready" and row["ready_instances"] == 2 and (datacenter, node) not in places

    def moved() -> bool:
        # Polled in this process; once it looks moved, what the CLI prints must say so too.
        polled = status_rows(world.url, world.admin_token, "hello")
        return off_the_node(polled) and off_the_node(world.status())

    wait_for(moved, within=60, what=f"instances off {datacenter}/{node}")
    after = world.instances(region)
    assert len(after) == 2
    assert all((i.datacenter, i.node) != (datacenter, node) for i in after)
    for old in on_node:  # the process on the failed node was stopped, not left running
        assert not process.alive(old.identity)
    assert world.region_rows()[region]["failed_nodes"] == [[datacenter, node]]

    result = world.taxiway("chaos", "node-up", f"{region}/{datacenter}/{node}")
    assert result.returncode == 0, result.stderr
    wait_for(lambda: world.region_rows()[region]["failed_nodes"] == [], within=30, what="node up")
    world.wait_ready()

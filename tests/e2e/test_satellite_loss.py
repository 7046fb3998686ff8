"""A satellite's instances outlive it; a restarted satellite adopts them; silence is not "run nothing"."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.world import World, answers_from, wait_for

pytestmark = [pytest.mark.slow]


def all_answer(world: World, region: str) -> bool:
    return all(answers_from(f"http://127.0.0.1:{i.port}", region) for i in world.instances(region))


@pytest.mark.timeout(180)
def test_killed_satellite_leaves_instances_running_and_adopts_them_on_restart(shared_world: World) -> None:
    world = shared_world
    region = "europe-west1"
    assert world.deploy().returncode == 0
    world.wait_ready()
    pids = world.instance_pids()[region]
    processes = world.region_processes(region)
    assert len(pids) == 3
    assert pids <= processes

    world.kill(world.satellites[region])  # kill -9
    assert all_answer(world, region)
    assert world.instance_pids()[region] == pids

    since = world.server_time()
    world.start_satellite(region)
    world.wait_ready(since=since)
    assert world.instance_pids()[region] == pids, "the same instances, adopted"
    assert world.region_processes(region) == processes, "no new instance process, none orphaned"
    assert all_answer(world, region)
    assert {i["pid"] for i in world.reported(region).values()} == pids


class StubControlPlane:
    """A faulty control plane: every definitions poll answers "nothing", from cursor 0."""

    def __init__(self) -> None:
        self.polls = 0
        self.reports: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: object | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path == "/healthz":
                    self._send(200, {"status": "ok"})
                elif path.startswith("/v1/regions/") and path.endswith("/definitions"):
                    stub.polls += 1
                    time.sleep(0.1)  # a long poll that returns early: keeps the satellite from spinning
                    region = path.split("/")[3]
                    self._send(200, {"region": region, "cursor": 0, "items": [], "failed_nodes": []})
                else:
                    self._send(404, {"type": "about:blank", "title": "Not Found", "status": 404})

            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if urlsplit(self.path).path.endswith("/status"):
                    stub.reports.append(body)
                self._send(204)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StubControlPlane:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def stub() -> Iterator[StubControlPlane]:
    with StubControlPlane() as running:
        yield running


def hello_reports(stub: StubControlPlane) -> list[dict[str, Any]]:
    return [
        item["report"]
        for body in stub.reports
        for item in body.get("reports") or []
        if item.get("service") == "hello" and item.get("environment") == "production"
    ]


@pytest.mark.timeout(180)
def test_an_empty_answer_from_a_faulty_control_plane_does_not_tear_a_region_down(
    shared_world: World, stub: StubControlPlane
) -> None:
    world = shared_world
    region = "us-east1"
    assert world.deploy().returncode == 0
    world.wait_ready()
    pids = world.instance_pids()[region]
    assert len(pids) == 2

    world.stop_gracefully(world.satellites[region])
    world.start_satellite(region, control_plane=stub.url)
    # Many empty answers from cursor 0, and many status reports after them.
    wait_for(lambda: stub.polls >= 10 and len(stub.reports) >= 6, within=60, what="polls and reports")
    assert world.instance_pids()[region] == pids, "empty desired state removed nothing"
    assert all_answer(world, region)
    last = hello_reports(stub)[-1]
    assert last["phase"] != "removed"
    assert {i["pid"] for i in last["instances"]} == pids

    # Back to the real control plane: still the same instances, ready.
    world.stop_gracefully(world.satellites[region])
    since = world.server_time()
    world.start_satellite(region)
    world.wait_ready(since=since)
    assert world.instance_pids()[region] == pids

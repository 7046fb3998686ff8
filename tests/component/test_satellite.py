"""Satellites against a real control plane over loopback: deploy, outlive it, reconnect, logs.

The control plane runs in-thread under uvicorn on a SQLite store (as in test_api.py) and
can be stopped and started again on the same port; each satellite runs in-thread with the
in-memory driver, with short ticks so that every wait is a condition with a deadline.
A stub control plane (standard library) plays the faulty one: silent, empty, reset.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from taxiway.plan.region import instance_spec
from taxiway.satellite import app, runtimes
from taxiway.spec import topology
from tests.conftest import EXAMPLES
from tests.fixtures import satellite_world as satellite_fixtures
from tests.fixtures.api_server import hello_files
from tests.fixtures.satellite_world import (
    INVENTORY,
    TOPOLOGY,
    ControlPlane,
    RecordingDriver,
    Satellites,
    driver_of,
    ready,
)
from tests.fixtures.waiting import wait_for

# -- a control plane that can stop and start again on the same port --------------------------


# -- satellites in-thread ------------------------------------------------------------------------


# -- the tests -------------------------------------------------------------------------------------

control_plane = satellite_fixtures.control_plane  # the fixtures
satellites = satellite_fixtures.satellites


def test_a_deploy_runs_in_every_region_and_each_reports_ready(
    control_plane: ControlPlane, satellites: Satellites
) -> None:
    us = satellites.start("us-east1", control_plane.url, control_plane.tokens["us-east1"])
    eu = satellites.start("europe-west1", control_plane.url, control_plane.tokens["europe-west1"])
    number = control_plane.deploy()
    wait_for(lambda: ready(control_plane.report("us-east1"), number, 2), within=15, what="us-east1 ready")
    wait_for(lambda: ready(control_plane.report("europe-west1"), number, 3), within=15, what="europe ready")

    report = control_plane.report("us-east1")
    assert report is not None
    assert report["message"] == "2/2 instances ready"
    assert {i["id"] for i in report["instances"]} == {
        f"hello-production-r{number}-0",
        f"hello-production-r{number}-1",
    }
    assert {i["datacenter"] for i in report["instances"]} == {"us-east1-b", "us-east1-c"}
    spec = driver_of(us).specs[f"hello-production-r{number}-0"]
    assert spec.env["API_TOKEN"] == "not-a-real-token", "the satellite runs with the unsealed secret"
    assert spec.cwd == EXAMPLES / "hello"
    assert spec.revision == number

    region = control_plane.region("us-east1")
    assert region["api"] == us.api_url
    assert region["cursor"] == us.store.cursor > 0
    assert b"not-a-real-token" not in b"".join(
        p.read_bytes() for p in us.settings.state_dir.glob("satellite.db*")
    ), "secrets are sealed in the satellite's store"
    health = httpx.get(eu.api_url + "/healthz", timeout=5, trust_env=False).json()
    assert health == {
        "status": "ok",
        "region": "europe-west1",
        "cursor": eu.store.cursor,
        "instances": 3,
        "control_plane_reachable": True,
        "ingress": None,
        "ingress_running": False,
        "ingress_pid": None,
        "ingress_metrics": None,
        "ingress_request_metrics": None,
        "ingress_request_metrics_pid": None,
    }


def test_a_new_revision_rolls_out_and_a_removal_stops_everything(
    control_plane: ControlPlane, satellites: Satellites
) -> None:
    us = satellites.start("us-east1", control_plane.url, control_plane.tokens["us-east1"])
    first = control_plane.deploy()
    wait_for(lambda: ready(control_plane.report("us-east1"), first, 2), within=15, what="first revision")
    files = hello_files()
    files["env-production.yaml"] = files["env-production.yaml"].replace("hello from production", "hi again")
    second = control_plane.deploy(files)
    wait_for(lambda: ready(control_plane.report("us-east1"), second, 2), within=15, what="second revision")
    assert set(driver_of(us).running()) == {f"hello-production-r{second}-0", f"hello-production-r{second}-1"}
    assert driver_of(us).specs[f"hello-production-r{second}-0"].env["GREETING"] == "hi again"

    # A revision without us-east1 publishes a tombstone there: the one explicit removal.
    files["service.yaml"] = (
        files["service.yaml"]
        .replace("[us-east1, europe-west1, asia-northeast3]", "[europe-west1, asia-northeast3]")
        .replace("fallback_region: us-east1", "fallback_region: europe-west1")
    )
    third = control_plane.deploy(files)

    def removed() -> bool:
        report = control_plane.report("us-east1")
        return report is not None and report["phase"] == "removed" and report["instances"] == []

    wait_for(removed, within=15, what="the removal")
    assert driver_of(us).list() == []
    report = control_plane.report("us-east1")
    assert report is not None
    assert (report["revision"], report["desired_instances"]) == (third, 0)


def test_a_satellite_outlives_its_control_plane_and_reconnects_on_the_same_port(
    control_plane: ControlPlane, satellites: Satellites
) -> None:
    us = satellites.start("us-east1", control_plane.url, control_plane.tokens["us-east1"])
    number = control_plane.deploy()
    wait_for(lambda: ready(control_plane.report("us-east1"), number, 2), within=15, what="ready")
    fake_driver = driver_of(us)
    before = set(fake_driver.running())

    control_plane.stop()
    wait_for(lambda: not us.puller.reachable, within=10, what="the satellite to notice")
    victim = f"hello-production-r{number}-0"
    fake_driver.crash(victim)
    wait_for(
        lambda: victim in fake_driver.running() and fake_driver.running()[victim].restarts == 1,
        within=10,
        what="the crashed instance to be restarted without a control plane",
    )
    assert set(fake_driver.running()) == before, "nothing may be removed while the control plane is away"

    control_plane.start()
    wait_for(lambda: us.puller.reachable, within=10, what="the satellite to reconnect")
    files = hello_files()
    files["env-production.yaml"] += "EXTRA: 1\n"
    newer = control_plane.deploy(files)
    wait_for(lambda: ready(control_plane.report("us-east1"), newer, 2), within=15, what="convergence after")


def test_logs_are_served_to_callers_the_control_plane_allows(
    control_plane: ControlPlane, satellites: Satellites
) -> None:
    us = satellites.start("us-east1", control_plane.url, control_plane.tokens["us-east1"])
    number = control_plane.deploy()
    wait_for(lambda: ready(control_plane.report("us-east1"), number, 2), within=15, what="ready")
    url = f"{us.api_url}/v1/logs/hello/production"

    def get(who: str | None, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {control_plane.tokens[who]}"} if who else {}
        return httpx.get(url, headers=headers, params=params, timeout=10, trust_env=False)

    answer = get("owner", tail=5)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    lines = answer.text.splitlines()
    assert sorted(line.split(" | ")[0] for line in lines) == [
        f"hello-production-r{number}-0",
        f"hello-production-r{number}-1",
    ]
    one = get("owner", instance=f"hello-production-r{number}-1").text.splitlines()
    assert one == [
        f"hello-production-r{number}-1 | started hello-production-r{number}-1 pid {one[0].split()[-1]}"
    ]

    for who, status in ((None, 401), ("stranger", 403), ("us-east1", 403)):
        refused = get(who)
        assert refused.status_code == status, (who, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    bogus = httpx.get(url, headers={"Authorization": "Bearer twy_x_y"}, timeout=10, trust_env=False)
    assert bogus.status_code == 401
    assert get("owner", instance="nope").status_code == 404
    assert get("owner", tail="lots").status_code == 422

    # follow: a restart writes a new line, which arrives on the open stream
    received: list[str] = []
    with httpx.stream(
        "GET",
        url,
        params={"follow": "true", "tail": 0, "instance": f"hello-production-r{number}-0"},
        headers={"Authorization": f"Bearer {control_plane.tokens['owner']}"},
        timeout=httpx.Timeout(10, read=10),
        trust_env=False,
    ) as stream:
        driver_of(us).crash(f"hello-production-r{number}-0")
        for line in stream.iter_lines():
            received.append(line)
            if "started" in line:
                break
    assert received[-1].startswith(f"hello-production-r{number}-0 | started")


def test_allowed_log_readers_are_cached_so_the_control_plane_can_go_away(
    control_plane: ControlPlane, satellites: Satellites
) -> None:
    us = satellites.start("us-east1", control_plane.url, control_plane.tokens["us-east1"])
    number = control_plane.deploy()
    wait_for(lambda: ready(control_plane.report("us-east1"), number, 2), within=15, what="ready")
    headers = {"Authorization": f"Bearer {control_plane.tokens['owner']}"}
    url = f"{us.api_url}/v1/logs/hello/production"
    assert httpx.get(url, headers=headers, timeout=10, trust_env=False).status_code == 200
    control_plane.stop()
    assert httpx.get(url, headers=headers, timeout=10, trust_env=False).status_code == 200
    stranger = {"Authorization": f"Bearer {control_plane.tokens['stranger']}"}
    assert httpx.get(url, headers=stranger, timeout=10, trust_env=False).status_code == 503


# -- a faulty control plane ---------------------------------------------------------------------


@dataclass
class Script:
    """What the stub control plane answers: a function of ``after``, swappable mid-test."""

    answer: Callable[[int], tuple[int, dict[str, Any]]]
    polls: list[int] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)


def stub_control_plane(script: Script) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any] | None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            after = int(parse_qs(url.query).get("after", ["0"])[0])
            script.polls.append(after)
            status, body = script.answer(after)
            self._send(status, body)

        def do_PUT(self) -> None:
            length = int(self.headers["Content-Length"])
            script.statuses.append(json.loads(self.rfile.read(length)))
            self._send(204, None)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def feed_item(seq: int, revision: int, definition: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "service": "hello",
        "environment": "production",
        "revision": revision,
        "seq": seq,
        "definition": definition,
    }


def hello_definition(region: topology.Region, revision: int) -> dict[str, Any]:
    """What the control plane sends for hello in ``region``: derived here the same way."""
    from taxiway.plan import derive, secret_digest
    from taxiway.spec import service_files

    loaded = service_files.load_all(service_files.find(EXAMPLES / "hello"))
    derived = derive.derive(
        loaded["production"].manifest,
        "production",
        TOPOLOGY,
        INVENTORY,
        secret_digest=secret_digest.Keyer(b"test key"),
    )
    document = derived[region.name].model_dump(mode="json", by_alias=True)
    document["revision"] = revision
    document["spec"]["env"]["API_TOKEN"]["value"] = "not-a-real-token"
    return document


def test_a_faulty_control_plane_never_makes_a_satellite_remove_anything(satellites: Satellites) -> None:
    region = TOPOLOGY.regions["us-east1"]
    definition = hello_definition(region, 3)

    def first(after: int) -> tuple[int, dict[str, Any]]:
        items = [feed_item(40, 3, definition)] if after < 40 else []
        return 200, {"region": "us-east1", "cursor": 40, "failed_nodes": [], "items": items}

    script = Script(first)
    stub = stub_control_plane(script)
    try:
        us = satellites.start("us-east1", f"http://127.0.0.1:{stub.server_address[1]}", "twy_stub_token")
        fake_driver = driver_of(us)
        wait_for(lambda: len(fake_driver.running()) == 2, within=10, what="two instances")
        running = set(fake_driver.running())

        def stopped() -> list[str]:
            return [op for op, _ in fake_driver.calls if op == "stop"]

        # 1. It answers "nothing changed", again and again.
        polls = len(script.polls)
        wait_for(lambda: len(script.polls) > polls + 3, within=10, what="empty answers")
        # 2. It fails: 500s, then garbage.
        script.answer = lambda after: (500, {"detail": "boom"})
        polls = len(script.polls)
        wait_for(lambda: len(script.polls) > polls + 3, within=10, what="failing answers")
        script.answer = lambda after: (200, {"region": "us-east1", "items": "garbage"})
        polls = len(script.polls)
        wait_for(lambda: len(script.polls) > polls + 2, within=10, what="garbage answers")
        # 3. It was reset: its cursor went back, and read from 0 it knows nothing of hello
        #    but a removal from its own past, before the reset.
        tombstone = feed_item(1, 3, None)
        script.answer = lambda after: (
            200,
            {
                "region": "us-east1",
                "cursor": 2,
                "failed_nodes": [],
                "items": [tombstone] if after < 1 else [],
            },
        )
        wait_for(lambda: 0 in script.polls[polls:], within=10, what="a re-read from 0 after the reset")
        wait_for(lambda: us.store.cursor == 2, within=10, what="the new cursor")
        polls = len(script.polls)
        wait_for(lambda: len(script.polls) > polls + 2, within=10, what="polls after the reset")

        (entry,) = us.store.entries()
        assert (entry.revision, entry.definition is not None) == (3, True), "the old removal was not applied"
        assert set(fake_driver.running()) == running
        assert stopped() == []
        assert script.statuses, "status is reported to a faulty control plane too"
        last = script.statuses[-1]
        assert [(r["service"], r["report"]["phase"]) for r in last["reports"]] == [("hello", "ready")]
        assert last["api"] == us.api_url
    finally:
        stub.shutdown()
        stub.server_close()


def test_a_heartbeat_goes_out_with_no_services(satellites: Satellites) -> None:
    script = Script(lambda after: (200, {"region": "us-east1", "cursor": 0, "failed_nodes": [], "items": []}))
    stub = stub_control_plane(script)
    try:
        satellites.start("us-east1", f"http://127.0.0.1:{stub.server_address[1]}", "twy_stub_token")
        wait_for(lambda: len(script.statuses) >= 3, within=10, what="heartbeats")
        assert script.statuses[-1]["reports"] == []
        assert script.statuses[-1]["cursor"] == 0
    finally:
        stub.shutdown()
        stub.server_close()


def test_failed_nodes_from_the_feed_move_instances(satellites: Satellites) -> None:
    region = TOPOLOGY.regions["us-east1"]
    definition = hello_definition(region, 3)
    failed: list[list[str]] = []

    def answer(after: int) -> tuple[int, dict[str, Any]]:
        items = [feed_item(40, 3, definition)] if after < 40 else []
        return 200, {"region": "us-east1", "cursor": 40, "failed_nodes": failed, "items": items}

    stub = stub_control_plane(Script(answer))
    try:
        us = satellites.start("us-east1", f"http://127.0.0.1:{stub.server_address[1]}", "twy_stub_token")
        fake_driver = driver_of(us)
        wait_for(lambda: len(fake_driver.running()) == 2, within=10, what="two instances")
        victim = fake_driver.running()["hello-production-r3-0"]
        failed.append([victim.datacenter, victim.node])
        wait_for(
            lambda: (
                all(
                    (i.datacenter, i.node) != (victim.datacenter, victim.node)
                    for i in fake_driver.running().values()
                )
                and len(fake_driver.running()) == 2
            ),
            within=10,
            what="the instance to leave the failed node",
        )
        assert us.store.failed_nodes == {(victim.datacenter, victim.node)}
    finally:
        stub.shutdown()
        stub.server_close()


def test_a_second_satellite_on_the_same_state_directory_is_refused(
    control_plane: ControlPlane, satellites: Satellites
) -> None:
    first = satellites.start("us-east1", control_plane.url, control_plane.tokens["us-east1"])
    second = app.Satellite(
        replace(first.settings), TOPOLOGY.regions["us-east1"], runtimes.Runtime(RecordingDriver())
    )
    with pytest.raises(Exception, match="another satellite runs with this state directory"):
        second.start()


class FailingDriver(RecordingDriver):
    """Every instance of revision ``bad`` dies as soon as it starts (a crash loop)."""

    def __init__(self, bad: int) -> None:
        super().__init__()
        self.bad = bad

    def start(self, spec: instance_spec.InstanceSpec) -> instance_spec.Instance:
        started = super().start(spec)
        if spec.revision != self.bad:
            return started
        with self._guard:
            self.crash(spec.instance_id, exit_code=1)
        (crashed,) = [i for i in self.list() if i.instance_id == spec.instance_id]
        return crashed


def test_what_satellites_report_decides_where_a_rollback_goes(
    control_plane: ControlPlane, satellites: Satellites
) -> None:
    for region in ("us-east1", "europe-west1"):
        satellites.start(region, control_plane.url, control_plane.tokens[region], FailingDriver(bad=2))
    files = hello_files()
    files["service.yaml"] = files["service.yaml"].replace(
        "[us-east1, europe-west1, asia-northeast3]", "[us-east1, europe-west1]"
    )

    def deploy(greeting: str) -> int:
        changed = dict(files)
        changed["env-production.yaml"] = files["env-production.yaml"].replace(
            "hello from production", greeting
        )
        return control_plane.deploy(changed)

    def phase(region: str, revision: int, wanted: str) -> bool:
        report = control_plane.report(region)
        return report is not None and report["revision"] == revision and report["phase"] == wanted

    first = deploy("one")
    for region in ("us-east1", "europe-west1"):
        wait_for(functools.partial(phase, region, first, "ready"), within=15, what=f"{region} ready on 1")
    second = deploy("two")
    wait_for(lambda: phase("us-east1", second, "failed"), within=20, what="revision 2 failing")
    third = deploy("three")
    for region in ("us-east1", "europe-west1"):
        wait_for(functools.partial(phase, region, third, "ready"), within=15, what=f"{region} ready on 3")

    target = control_plane.call("GET", "/v1/services/hello/environments/production/rollback-target", "owner")
    assert target.status_code == 200, target.text
    assert (target.json()["current"], target.json()["revision"]) == (third, first)
    assert [s["revision"] for s in target.json()["skipped"]] == [second]
    outcomes = {
        o["revision"]: o for o in control_plane.call("GET", "/v1/services/hello/outcomes", "owner").json()
    }
    assert outcomes[second]["state"] == "failed"
    assert f"hello-production-r{second}-0" in outcomes[second]["regions"]["us-east1"]["message"]
    assert (outcomes[first]["state"], outcomes[third]["state"]) == ("ready", "ready")
    refused = control_plane.call(
        "GET", f"/v1/services/hello/environments/production/rollback-target?to={second}", "owner"
    )
    assert refused.status_code == 400
    assert f"revision {second} never became ready in production" in refused.json()["detail"]

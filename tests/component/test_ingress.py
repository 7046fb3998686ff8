"""The region ingress run by a real satellite process: routing, drains under load, adoption.

A control plane runs in-thread (tests/fixtures/satellite_world.py); ``taxiway satellite`` runs as a
subprocess with the real ``local`` driver, so ``examples/hello`` instances are real
processes and the ingress is a real HAProxy started by the satellite. Load is a thread of
sequential GETs, each on a fresh connection through the ingress, bounded in count and in
time; every failed request is kept. Teardown kills the satellites, stops the ingress and
every instance, and fails the test if any process of it is left. One more test runs the
satellite in-thread (the in-memory driver) to check that stopping it leaves the ingress
to the next one; the last two check the ports and socket paths without HAProxy.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from taxiway.errors import ConfigurationError
from taxiway.haproxy import process as haproxy_process
from taxiway.plan.haproxy import tokens
from taxiway.satellite import ingress
from tests.fixtures.api_server import hello_files
from tests.fixtures.haproxy_world import Reply, request, require_haproxy
from tests.fixtures.satellite_process import Region as SatelliteProcess
from tests.fixtures.satellite_process import hello_artifact, satellite_world
from tests.fixtures.satellite_world import ControlPlane, Satellites
from tests.fixtures.waiting import wait_for

HOST = "hello.taxiway.test"
MAX_REQUESTS = 20_000
"""A bound on every load: the loader stops there even if a test forgets to stop it."""


@dataclass
class Region(SatelliteProcess):
    """us-east1: one satellite process at a time, its ingress and instances, and a control plane."""

    timings: tuple[str, ...] = ("--report-every", "0.3", "--drain-grace", "10")

    def health(self) -> dict[str, Any]:
        api = self.control_plane.region("us-east1")["api"]
        body: dict[str, Any] = httpx.get(api + "/healthz", timeout=5, trust_env=False).json()
        return body

    @property
    def ingress_port(self) -> int:
        url = self.control_plane.region("us-east1")["ingress"]
        assert url is not None
        assert url.startswith("http://127.0.0.1:")
        return int(url.rsplit(":", 1)[1])

    def haproxy(self) -> haproxy_process.Haproxy:
        return haproxy_process.Haproxy(ingress.layout_for(self.state_dir))

    def deploy(self, files: dict[str, str] | None = None) -> int:
        plane = self.control_plane
        created = plane.call(
            "POST",
            "/v1/services/hello/revisions",
            "owner",
            json={
                "files": files or hello_files(),
                "artifact": {"format": "tar.gz", "data": hello_artifact()},
            },
        )
        assert created.status_code == 201, created.text
        number: int = created.json()["number"]
        current = plane.call("GET", "/v1/services/hello/environments/production", "owner")
        version = current.json()["version"] if current.status_code == 200 else 0
        changed = plane.call(
            "PUT",
            "/v1/services/hello/environments/production",
            "owner",
            json={"revision": number, "expected_version": version},
        )
        assert changed.status_code == 200, changed.text
        return number

    def serving(self, revision: int, instances: int) -> dict[str, Any] | None:
        """The report once ``revision`` runs exactly ``instances``, all ready and in rotation."""
        found = self.control_plane.report("us-east1")
        if (
            found is None
            or found["phase"] != "ready"
            or found["revision"] != revision
            or len(found["instances"]) != instances
            or not all(i["ready"] and i["in_rotation"] for i in found["instances"])
        ):
            return None
        return found


@pytest.fixture
def region(tmp_path: Path) -> Iterator[Region]:
    require_haproxy()
    with satellite_world(Region, tmp_path) as world:
        yield world


class Load:
    """Sequential GETs through the ingress on fresh connections, in a thread, until stopped."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.replies: list[Reply] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set() and len(self.replies) < MAX_REQUESTS:
            self.replies.append(request(self.port, HOST, timeout=5))

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=15)
        assert not self._thread.is_alive()

    def more(self, count: int, within: float = 15) -> None:
        """Wait until ``count`` more requests were answered (whatever the answers)."""
        target = len(self.replies) + count
        wait_for(lambda: len(self.replies) >= target, within=within, what=f"{count} more requests")

    def failures(self, since: int = 0) -> list[Reply]:
        return [r for r in self.replies[since:] if not r.ok]

    def revisions(self, since: int = 0) -> set[str]:
        return {json.loads(r.body)["revision"] for r in self.replies[since:] if r.ok}


def in_log(region: Region, *needles: str) -> list[int]:
    """Where each needle first appears in the satellite log (-1: absent)."""
    text = region.log.read_text()
    return [text.find(needle) for needle in needles]


def test_the_ingress_routes_hello_with_its_region_and_exports_metrics(region: Region) -> None:
    plane = region.control_plane
    region.start()
    number = region.deploy()
    report = wait_for(lambda: region.serving(number, 2), within=30, what="two instances in rotation")

    health = region.health()
    assert (
        health["ingress"] == plane.region("us-east1")["ingress"] == f"http://127.0.0.1:{region.ingress_port}"
    )
    assert health["ingress_running"] is True
    assert health["ingress_pid"] == region.haproxy().master_pid()

    replies = [request(region.ingress_port, HOST) for _ in range(20)]
    assert [r.status for r in replies] == [200] * 20
    assert {r.headers["x-taxiway-region"] for r in replies} == {"us-east1"}
    assert json.loads(replies[0].body) == {
        "greeting": "hello from production",
        "service": "hello",
        "region": "us-east1",
        "revision": str(number),
    }
    rows = region.haproxy().api.servers("hello")
    assert set(rows) == {i["id"] for i in report["instances"]}
    assert all(int(row.fields["stot"]) > 0 for row in rows.values()), "both instances served"
    unknown = request(region.ingress_port, "nobody.taxiway.test")
    assert (unknown.status, unknown.headers["x-taxiway-region"]) == (404, "us-east1")

    proxy = region.haproxy()
    assert proxy.check(proxy.layout.config_file) == ()
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(proxy.layout.config_file)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr

    kept = json.loads((proxy.layout.state_dir / "ports.json").read_text())
    assert kept["listen"] == f"127.0.0.1:{region.ingress_port}"
    assert health["ingress_metrics"] == f"http://{kept['metrics']}/metrics"
    scraped = request(int(kept["metrics"].rsplit(":", 1)[1]), "localhost", "/metrics")
    assert scraped.status == 200
    families = {family.name: family for family in text_string_to_metric_families(scraped.body)}
    up = {
        s.labels["server"]
        for s in families["haproxy_server_status"].samples
        if s.labels["proxy"] == "hello" and s.labels["state"] == "UP" and s.value == 1.0
    }
    assert up == set(rows)

    # The request log sink counts the same 20 requests (the 404 is no service's) by revision.
    assert health["ingress_request_metrics"] == f"http://{kept['request_metrics']}/metrics"
    assert health["ingress_request_metrics_pid"] is not None
    port = int(kept["request_metrics"].rsplit(":", 1)[1])

    def counted() -> dict[str, float] | None:
        answer = request(port, "localhost", "/metrics")
        samples = {
            s.name + "/" + s.labels.get("revision", "") + "/" + s.labels.get("code_class", ""): s.value
            for family in text_string_to_metric_families(answer.body)
            for s in family.samples
        }
        return samples if samples.get("taxiway_ingress_log_lines_total//", 0) >= 21 else None

    samples = wait_for(counted, within=10, what="21 request lines at the sink")
    assert samples[f"taxiway_ingress_requests_total/{number}/2xx"] == 20
    assert samples[f"taxiway_ingress_request_duration_seconds_count/{number}/"] == 20
    assert samples["taxiway_ingress_log_lines_dropped_total//"] == 0


@pytest.mark.slow
def test_a_rollout_a_node_failure_and_a_scale_in_under_load_drop_no_request(region: Region) -> None:
    plane = region.control_plane
    region.start()
    first = region.deploy()
    wait_for(lambda: region.serving(first, 2), within=30, what="the first revision in rotation")
    files = hello_files()
    figures: dict[str, tuple[int, int]] = {}

    with Load(region.ingress_port) as load:
        load.more(50)

        # 1. A new revision: surge, then the old one drains and stops.
        mark = len(load.replies)
        files["env-production.yaml"] = files["env-production.yaml"].replace("hello from production", "hi")
        second = region.deploy(files)
        wait_for(lambda: region.serving(second, 2), within=30, what="the rollout")
        load.more(50)
        figures["rollout"] = (len(load.replies) - mark, len(load.failures(mark)))
        assert load.revisions(mark) == {str(first), str(second)}, "the old revision, then the new one"

        # 2. A node fails: its instance drains, moves under the same id, and comes back.
        mark = len(load.replies)
        report = region.serving(second, 2)
        assert report is not None
        victim = report["instances"][0]
        failed = plane.call(
            "PUT",
            f"/v1/regions/us-east1/nodes/{victim['datacenter']}/{victim['node']}",
            "admin",
            json={"state": "failed"},
        )
        assert failed.status_code == 200, failed.text

        def moved() -> bool:
            now = region.serving(second, 2)
            return now is not None and all(
                (i["datacenter"], i["node"]) != (victim["datacenter"], victim["node"])
                for i in now["instances"]
            )

        wait_for(moved, within=30, what="the instance to move off the failed node")
        load.more(50)
        figures["node-down"] = (len(load.replies) - mark, len(load.failures(mark)))

        # 3. Scale-in: a revision with one instance.
        mark = len(load.replies)
        files["service.yaml"] = files["service.yaml"].replace("min_instances: 2", "min_instances: 1")
        third = region.deploy(files)
        wait_for(lambda: region.serving(third, 1), within=30, what="the scale-in")
        load.more(50)
        figures["scale-in"] = (len(load.replies) - mark, len(load.failures(mark)))
        assert load.revisions(len(load.replies) - 50) == {str(third)}

    print("requests, failures by phase:", figures)
    assert load.failures() == [], (
        f"{len(load.failures())} of {len(load.replies)} failed: {load.failures()[:3]}"
    )
    # Every old instance was drained before it was stopped.
    for old in (
        f"hello-production-r{first}-0",
        f"hello-production-r{first}-1",
        f"hello-production-r{second}-1",
    ):
        drained, removed = in_log(region, f"draining {old}", f"removing {old}")
        assert 0 <= drained < removed, old
    drained, moved_at = in_log(region, f"draining {victim['id']}", f"replaced {victim['id']}")
    assert 0 <= drained < moved_at


@pytest.mark.slow
def test_a_deploy_that_changes_the_health_path_and_fails_leaves_the_old_revision_serving(
    region: Region,
) -> None:
    """The new revision's readiness path is one the app does not serve: its instances never
    pass, the deploy fails, and the old revision's instances go on being checked on their
    own path, so not one request fails and nothing of the old revision is drained. Once
    the satellite gives up on them, the failed revision's instances stay stopped."""
    region.timings = (*region.timings, "--backoff-initial", "0.2")
    region.start()
    first = region.deploy()
    wait_for(lambda: region.serving(first, 2), within=30, what="the first revision in rotation")
    proxy = region.haproxy()
    old = {f"hello-production-r{first}-0", f"hello-production-r{first}-1"}
    files = hello_files()
    files["service.yaml"] = files["service.yaml"].replace(
        "readiness: {path: /health, period_seconds: 2}",
        "readiness: {path: /ready-v2, period_seconds: 1}\n"
        "    startup: {period_seconds: 1, failure_threshold: 3}",
    )
    assert "/ready-v2" in files["service.yaml"]

    def failed(revision: int) -> dict[str, Any] | None:
        found = region.control_plane.report("us-east1")
        return found if found and found["revision"] == revision and found["phase"] == "failed" else None

    with Load(region.ingress_port) as load:
        load.more(50)
        second = region.deploy(files)
        report = wait_for(lambda: failed(second), within=45, what="the second revision to fail")
        load.more(100)
    failures = load.failures()
    assert failures == [], f"{len(failures)} of {len(load.replies)} failed: {failures[:3]}"
    assert load.revisions() == {str(first)}
    assert "startup probe failed" in report["message"]
    assert "/ready-v2" in report["message"]
    rows = proxy.api.servers("hello")
    assert set(rows) == old, "no instance of the failed revision ever entered rotation"
    assert all(row.status == "UP" and row.check_passed for row in rows.values())
    checks = (proxy.layout.state_dir / ingress.CHECKS_FILE).read_text()
    assert sorted(checks.splitlines()) == sorted(f"{name} /health" for name in old)
    kept = [i for i in report["instances"] if i["revision"] == first]
    assert len(kept) == 2
    assert all(i["in_rotation"] for i in kept)

    def given_up() -> list[dict[str, Any]] | None:
        found = failed(second)
        new = [i for i in found["instances"] if i["revision"] == second] if found else []
        done = new and all(
            i["state"] == "exited" and "gave up after 5 failed starts" in i["reason"] for i in new
        )
        return new if done else None

    stopped = wait_for(given_up, within=90, what="the satellite to give up on the failed revision")
    assert all(i["log_tail"] for i in stopped), "their logs are kept"
    assert "gave up after 5 failed starts" in (failed(second) or {})["message"]
    assert set(proxy.api.servers("hello")) == old


@pytest.mark.slow
def test_the_ingress_outlives_a_killed_satellite_and_the_next_one_adopts_it(region: Region) -> None:
    first = region.start()
    number = region.deploy()
    wait_for(lambda: region.serving(number, 2), within=30, what="two instances in rotation")
    proxy = region.haproxy()
    pid = proxy.master_pid()
    assert pid is not None
    reloads = proxy.processes().reloads

    def membership() -> set[tuple[str, str, int | None, int]]:
        return {(s.server, s.address, s.port, int(s.admin)) for s in proxy.api.show_servers_state("hello")}

    before = membership()
    assert {name for name, *_ in before} == {f"hello-production-r{number}-0", f"hello-production-r{number}-1"}
    api = region.control_plane.region("us-east1")["api"]
    port = region.ingress_port

    with Load(port) as load:
        load.more(50)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        load.more(200)  # served with no satellite at all

        region.start()
        wait_for(
            lambda: region.control_plane.region("us-east1")["api"] not in (None, api),
            within=30,
            what="the new satellite",
        )
        wait_for(lambda: region.serving(number, 2), within=30, what="ready and in rotation after adoption")
        load.more(100)

    assert load.failures() == [], f"{len(load.failures())} of {len(load.replies)} failed"
    print(f"requests through the kill and the restart: {len(load.replies)}, failures: 0")
    assert proxy.master_pid() == pid, "the same HAProxy, adopted"
    assert proxy.processes().reloads == reloads, "adopted without a reload"
    assert membership() == before, "the same servers at the same addresses, none drained"
    assert region.ingress_port == port
    assert region.health()["ingress_pid"] == pid
    assert in_log(region, f"adopted the ingress HAProxy (pid {pid})")[0] >= 0


def test_an_in_thread_satellite_leaves_its_ingress_running_for_the_next_one(tmp_path: Path) -> None:
    require_haproxy()
    plane = ControlPlane(f"sqlite:///{tmp_path / 'control-plane.db'}")
    plane.start()
    satellites = Satellites(tmp_path)
    state_dir = tmp_path / "satellite-us-east1"
    try:
        first = satellites.start("us-east1", plane.url, plane.tokens["us-east1"], ingress=True)
        assert first.ingress is not None
        pid = first.ingress.haproxy.master_pid()
        assert pid is not None
        url = first.ingress.url
        wait_for(lambda: plane.region("us-east1")["ingress"] == url, within=10, what="the ingress reported")
        sink = first.ingress.sink.pid()
        assert sink is not None
        thresholds = state_dir / "ingress" / "latency-thresholds.json"
        wait_for(thresholds.exists, within=10, what="the latency thresholds written for the sink")
        satellites.stop(first)  # the ingress serves on, with no satellite
        answered = request(int(url.rsplit(":", 1)[1]), HOST)  # nothing deployed: HAProxy's own 404
        assert (answered.status, answered.headers["x-taxiway-region"]) == (404, "us-east1")

        second = satellites.start("us-east1", plane.url, plane.tokens["us-east1"], ingress=True)
        assert second.ingress is not None
        assert (second.ingress.haproxy.master_pid(), second.ingress.url) == (pid, url)
        health = httpx.get(second.api_url + "/healthz", timeout=5, trust_env=False).json()
        assert (health["ingress"], health["ingress_running"], health["ingress_pid"]) == (url, True, pid)
        assert health["ingress_request_metrics_pid"] == sink, "the next satellite adopts the sink too"
        assert health["ingress_request_metrics"] == first.ingress.request_metrics_url
        satellites.stop(second)
    finally:
        for satellite in list(satellites.started):
            satellites.stop(satellite)
        ingress.stop(state_dir, graceful=False)
        plane.stop()
    assert not haproxy_process.alive(pid)
    assert not haproxy_process.alive(sink)


def test_ports_are_chosen_once_and_kept(tmp_path: Path) -> None:
    directory = tmp_path / "ingress"
    chosen = ingress.choose_ports(directory, "127.0.0.1", 0, in_use=False)
    assert ingress.choose_ports(directory, "127.0.0.1", 0, in_use=False) == chosen
    assert len({chosen.listen.port, chosen.metrics.port, chosen.request_metrics.port}) == 3
    assert json.loads((directory / "ports.json").read_text()) == {
        "listen": f"127.0.0.1:{chosen.listen.port}",
        "metrics": f"127.0.0.1:{chosen.metrics.port}",
        "request_metrics": f"127.0.0.1:{chosen.request_metrics.port}",
    }

    # A kept port that something else took meanwhile is chosen again; an explicit one is an error.
    with socket_listening(chosen.listen.port) as taken:
        again = ingress.choose_ports(directory, "127.0.0.1", 0, in_use=False)
        assert again.listen.port != taken
        assert ingress.choose_ports(directory, "127.0.0.1", 0, in_use=True) == again
        with pytest.raises(ConfigurationError, match="something else listens there"):
            ingress.choose_ports(directory, "127.0.0.1", taken, in_use=False)


@contextlib.contextmanager
def socket_listening(port: int) -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        yield port


def test_a_deep_state_directory_puts_the_sockets_in_a_private_directory(tmp_path: Path) -> None:
    shallow = ingress.layout_for(tmp_path)
    assert shallow.stats_socket == tmp_path / "ingress" / "admin.sock"
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    far = ingress.layout_for(deep)
    assert far.config_file == deep / "ingress" / "haproxy.cfg"
    assert far.stats_socket.parent == far.master_socket.parent != deep / "ingress"
    assert len(str(far.master_socket)) <= tokens.UNIX_SOCKET_PATH_MAX
    assert far.stats_socket.parent.stat().st_mode & 0o077 == 0
    assert ingress.layout_for(deep) == far, "the same directory every time"
    ingress.stop(deep)  # nothing runs there; the private directory goes
    assert not far.stats_socket.parent.exists()

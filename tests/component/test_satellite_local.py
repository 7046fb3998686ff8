"""The satellite as a real process with the real ``local`` driver: deploy, kill -9, re-adopt.

A control plane runs in-thread (tests/fixtures/satellite_world.py); ``taxiway satellite`` runs as a
subprocess with its own state directory. The test deploys ``examples/hello`` as an
artifact, talks to the instances over HTTP, follows their log through the satellite,
kills the satellite with SIGKILL and checks that the instances never noticed, then starts
a new satellite that must adopt them (same pids, no duplicates). Teardown stops every
instance through the local driver and fails if any process of the test is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from taxiway.runtime import logfile
from tests.conftest import EXAMPLES
from tests.fixtures.api_server import hello_files
from tests.fixtures.satellite_process import Region, hello_artifact, satellite_world
from tests.fixtures.satellite_world import ready
from tests.fixtures.waiting import wait_for


@pytest.fixture
def region(tmp_path: Path) -> Iterator[Region]:
    with satellite_world(Region, tmp_path) as world:
        yield world


def answer(endpoint: str) -> dict[str, Any]:
    response = httpx.get(endpoint + "/", timeout=5, trust_env=False)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.slow
def test_instances_outlive_a_killed_satellite_and_the_next_one_adopts_them(region: Region) -> None:
    plane = region.control_plane
    first = region.start()
    created = plane.call(
        "POST",
        "/v1/services/hello/revisions",
        "owner",
        json={"files": hello_files(), "artifact": {"format": "tar.gz", "data": hello_artifact()}},
    )
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    assert created.json()["artifact"].startswith("sha256:")
    deployed = plane.call(
        "PUT",
        "/v1/services/hello/environments/production",
        "owner",
        json={"revision": number, "expected_version": 0},
    )
    assert deployed.status_code == 200, deployed.text
    wait_for(lambda: ready(plane.report("us-east1"), number, 2), within=60, what="two ready instances")

    report = plane.report("us-east1")
    assert report is not None
    pids = {i["id"]: i["pid"] for i in report["instances"]}
    for instance in report["instances"]:
        assert answer(instance["endpoint"]) == {
            "greeting": "hello from production",
            "service": "hello",
            "region": "us-east1",
            "revision": str(number),
        }

    # Follow one instance's log through the satellite while it serves a request.
    api = plane.region("us-east1")["api"]
    watched = report["instances"][0]
    with httpx.stream(
        "GET",
        f"{api}/v1/logs/hello/production",
        params={"instance": watched["id"], "tail": 0, "follow": "true"},
        headers={"Authorization": f"Bearer {plane.tokens['owner']}"},
        timeout=httpx.Timeout(10, read=10),
        trust_env=False,
    ) as stream:
        assert stream.status_code == 200
        answer(watched["endpoint"])
        line = next(line for line in stream.iter_lines() if "GET / HTTP/1.1" in line)
    instance_id, _, stamped = line.partition(" | ")
    assert instance_id == watched["id"]
    assert logfile.split_stamp(stamped)[0] is not None, "every line says when it was written"
    assert logfile.unstamped(stamped).startswith("127.0.0.1 ")

    def logged_since(moment: str) -> list[str]:
        answer = httpx.get(
            f"{api}/v1/logs/hello/production",
            params={"instance": watched["id"], "since": moment},
            headers={"Authorization": f"Bearer {plane.tokens['owner']}"},
            timeout=10,
            trust_env=False,
        )
        assert answer.status_code == 200, answer.text
        return answer.text.splitlines()

    assert line in logged_since("2000-01-01T00:00:00Z")
    assert logged_since("2999-01-01T00:00:00+00:00") == [], "nothing was written after then"

    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    for instance in report["instances"]:
        assert answer(instance["endpoint"])["region"] == "us-east1", "instances outlive their satellite"

    second = region.start()
    wait_for(lambda: plane.region("us-east1")["api"] not in (None, api), within=30, what="the new satellite")
    wait_for(lambda: ready(plane.report("us-east1"), number, 2), within=30, what="ready after adoption")
    adopted = plane.report("us-east1")
    assert adopted is not None
    assert {i["id"]: i["pid"] for i in adopted["instances"]} == pids, "the same processes, adopted"
    assert all(i["restarts"] == 0 for i in adopted["instances"])
    assert sorted(i.instance_id for i in region.driver().list()) == sorted(pids), "no duplicates"

    # SIGTERM stops the satellite cleanly and leaves the instances running.
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=15) == 0
    for instance in adopted["instances"]:
        assert answer(instance["endpoint"])["service"] == "hello"

    log = region.log.read_text()
    assert plane.tokens["us-east1"] not in log, "the token never reaches the log"
    assert "re-adopted 2 running instances" in log
    assert "its instances keep running" in log


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taxiway.cli.main", "satellite", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--region": "mars-north1"}, "region 'mars-north1' is not in the topology"),
        ({"--token-file": "/nonexistent/token"}, "cannot read the token file"),
        ({"--topology": "/nonexistent/topology.yaml"}, "topology.yaml"),
        ({"--listen": "nowhere"}, "expected HOST:PORT"),
        ({"--ingress-listen": "localhost:8080"}, "--ingress-listen 'localhost:8080': the host must be an IP"),
        ({"--domain": "not a domain"}, "--domain 'not a domain': expected a DNS name"),
        ({"--control-plane": "127.0.0.1:7700"}, "expected a URL such as http://127.0.0.1:7700"),
    ],
)
def test_bad_settings_are_one_clear_error_and_exit_1(
    tmp_path: Path, change: dict[str, str], message: str
) -> None:
    token = tmp_path / "token"
    token.write_text("twy_a_b")
    flags = {
        "--region": "us-east1",
        "--control-plane": "http://127.0.0.1:9",
        "--token-file": str(token),
        "--state-dir": str(tmp_path / "state"),
        "--topology": str(EXAMPLES / "topology.yaml"),
        **change,
    }
    result = run_cli(*(part for pair in flags.items() for part in pair))
    assert result.returncode == 1, result
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert "twy_a_b" not in result.stderr + result.stdout


def test_the_token_may_come_from_the_environment_but_not_from_nowhere(tmp_path: Path) -> None:
    flags = [
        "--region", "us-east1", "--control-plane", "http://127.0.0.1:9", "--state-dir", str(tmp_path / "s"),
        "--topology", str(EXAMPLES / "topology.yaml"),
    ]  # fmt: skip
    result = run_cli(*flags, env={"TAXIWAY_TOKEN": ""})
    assert result.returncode == 1
    assert "no token: pass --token-file PATH or set TAXIWAY_TOKEN" in result.stderr


@pytest.mark.slow
def test_a_satellite_with_its_token_from_the_environment_stops_on_sigint(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "taxiway.cli.main",
            "satellite",
            "--region",
            "us-east1",
            "--control-plane",
            "http://127.0.0.1:9",
            "--state-dir",
            str(tmp_path / "s"),
            "--topology",
            str(EXAMPLES / "topology.yaml"),
            "--driver",
            "fake",
            "--no-ingress",
        ],
        env={**os.environ, "TAXIWAY_TOKEN": "twy_env_token"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "s" / "satellite.db").exists():  # created after the signal handlers
            assert time.monotonic() < deadline, "the satellite did not start"
            assert child.poll() is None, child.communicate()
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, stderr
    assert "SIGINT: stopping the satellite" in stderr
    assert "satellite for us-east1 up" in stderr
    assert "twy_env_token" not in stderr

"""The remote commands against a real control plane on a loopback socket (SQLite).

The CLI runs in this process through ``taxiway.cli.main.main``; satellites are simulated
by PUTting status reports with satellite tokens from a background thread. A thin ASGI
wrapper around the real app counts requests and can run a hook just before one, which
is how the tests synchronise with the CLI's polling (never by sleeping) and stage a
concurrent deploy at the exact moment between the CLI's read and its write.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from taxiway.spec import platform
from taxiway.store.sql import utc_now
from tests.conftest import EXAMPLE_SERVICES, EXAMPLES
from tests.fixtures import cli_world
from tests.fixtures.api_server import ThreadedServer
from tests.fixtures.cli_world import HELLO, REGIONS, World, taxiway
from tests.fixtures.waiting import wait_for

world = cli_world.world  # the fixture


def changed_copy(tmp_path: Path, greeting: str) -> Path:
    copy = tmp_path / f"hello-{greeting}"
    shutil.copytree(HELLO, copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = copy / ".taxiway" / "env-production.yaml"
    env.write_text(env.read_text().replace("hello from production", greeting))
    return copy


# -- deploy -------------------------------------------------------------------------------


def test_deploy_no_wait_stores_a_revision_and_points_the_environment(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    result = taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--no-wait")
    assert result.code == 0, result.err
    assert "revision 1 of hello" in result.out
    assert "production now points at revision 1" in result.out
    current = world.store.desired("hello", "production")
    assert current is not None
    assert current.revision == 1
    assert world.store.revision("hello", 1).artifact is not None
    assert world.tokens["owner"] not in result.out + result.err


def test_deploying_the_same_files_again_gives_the_same_revision(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    first = taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--no-wait", "--json")
    again = taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--no-wait", "--json")
    assert (first.code, again.code) == (0, 0), again.err
    one, two = json.loads(first.out), json.loads(again.out)
    assert one["revision"] == two["revision"] == 1
    assert one["artifact"] == two["artifact"]
    assert one["artifact"].startswith("sha256:")
    assert (one["changed"], two["changed"]) == (True, False)
    assert two["outcome"] == "not-waited"
    assert len(world.store.revisions("hello")) == 1
    current = world.store.desired("hello", "production")
    assert current is not None
    assert current.version == 1


def test_a_bad_manifest_prints_located_problems_and_stores_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = EXAMPLES / "bad" / "schema" / "port-out-of-range"
    result = taxiway(capsys, "deploy", str(bad), "--env", "production", "--no-wait")
    assert result.code == 1
    assert f"{bad / '.taxiway' / 'service.yaml'}:" in result.err
    assert "spec.container_port" in result.err
    assert world.store.revisions("hello") == []


def test_an_unknown_region_is_refused_by_the_control_plane_and_nothing_is_stored(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = EXAMPLES / "bad" / "semantic" / "unknown-region"
    result = taxiway(capsys, "deploy", str(bad), "--env", "production", "--no-wait")
    assert result.code == 1
    assert f"{bad / '.taxiway' / 'service.yaml'}:12:" in result.err
    assert "spec.regions[1]" in result.err
    assert "mars-north1" in result.err
    assert world.store.revisions("hello") == []
    assert world.store.desired("hello", "production") is None


def test_a_manifest_without_an_owner_deploys_as_the_inventorys_owner(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    unowned = tmp_path / "hello"
    shutil.copytree(HELLO, unowned, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = unowned / ".taxiway" / "service.yaml"
    manifest.write_text(manifest.read_text().replace("  owner: team-hello\n", ""))
    result = taxiway(capsys, "deploy", str(unowned), "--env", "production", "--no-wait")
    assert result.code == 0, result.err
    stored = world.store.revision("hello", 1).definitions["production"]
    assert {d["metadata"]["owner"] for d in stored.values()} == {"team-hello"}
    # The owner came from the control plane's inventory: a plan does not see it as a change.
    plan = taxiway(
        capsys, "plan", str(unowned), "--env", "production", "--remote", "--detailed-exitcode", *PLATFORM
    )
    assert plan.code == 0, plan.out + plan.err


def test_a_service_nobody_owns_is_refused_saying_how_to_give_it_an_owner(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAXIWAY_TOKEN", world.tokens["admin"])  # one that may act on any service
    unknown = renamed_copy(tmp_path, "httpbin", "team-web")
    manifest = unknown / ".taxiway" / "service.yaml"
    manifest.write_text(manifest.read_text().replace("  owner: team-web\n", ""))
    refused = taxiway(capsys, "deploy", str(unknown), "--env", "production", "--no-wait")
    assert refused.code == 1
    assert "no service named 'httpbin' in the inventory" in refused.err
    assert "`taxiway services create httpbin --owner TEAM --regions R1,R2`" in refused.err
    assert world.store.revisions("httpbin") == []


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        (EXAMPLES / "bad" / "schema" / "port-out-of-range", "spec.container_port"),  # refused here
        (EXAMPLES / "bad" / "semantic" / "unknown-region", "spec.regions[1]"),  # by the control plane
    ],
)
def test_deploy_json_prints_json_for_a_refused_manifest_too(
    world: World, capsys: pytest.CaptureFixture[str], bad: Path, where: str
) -> None:
    result = taxiway(capsys, "deploy", str(bad), "--env", "production", "--no-wait", "--json")
    assert result.code == 1
    answer = json.loads(result.out)
    assert (answer["outcome"], answer["environment"]) == ("invalid", "production")
    assert {p["field"] for p in answer["problems"]} == {where}
    assert answer["problems"][0]["file"] == str(bad / ".taxiway" / "service.yaml")
    assert where in result.err, "people reading the CI log see the problems too"


def test_deploy_timeout_is_seconds_when_bare(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    begun = time.monotonic()
    result = taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--timeout", "1", "--json")
    took = time.monotonic() - begun
    assert result.code == 1
    assert json.loads(result.out)["outcome"] == "timed-out"
    assert "was not ready in production after 1s" in result.err
    assert took < 10, "1 means one second of waiting, not 1ms nor a usage error"
    bad = taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--timeout", "soon")
    assert bad.code == 2
    assert "a bare number is seconds" in bad.err or "expected a duration" in bad.err


def interrupt_once_it_polls(world: World, *args: str) -> tuple[int, str, str]:
    """Run the CLI in a process of its own, Ctrl-C it once it asked for status: (code, out, err)."""
    running = subprocess.Popen(
        [sys.executable, "-m", "taxiway.cli.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: world.recorder.count("GET", "/v1/status") > 0, what="the command to run", within=60)
        running.send_signal(signal.SIGINT)
        out, errors = running.communicate(timeout=20)
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()
    return running.returncode, out, errors


def test_ctrl_c_while_deploy_waits_says_the_rollout_goes_on(world: World) -> None:
    code, out, errors = interrupt_once_it_polls(world, "deploy", str(HELLO), "--env", "production")
    assert code == 130, out + errors
    assert "production now points at revision 1" in out
    assert "the rollout of revision 1 goes on in the regions" in errors
    assert "taxiway status hello --env production" in errors
    assert "Traceback" not in errors


def test_a_concurrent_deploy_wins_and_this_one_changes_nothing(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--no-wait").code == 0

    def someone_else_deploys() -> None:  # between the CLI's read of the version and its write
        world.store.set_desired("hello", "production", 1, 1, "owner:someone-else")

    world.recorder.hooks[("PUT", "/v1/services/hello/environments/production")] = someone_else_deploys
    result = taxiway(capsys, "deploy", str(changed_copy(tmp_path, "hi")), "--env", "production", "--no-wait")
    assert result.code == 1
    assert "someone else deployed hello to production meanwhile" in result.err
    assert "it now runs revision 1 (owner:someone-else)" in result.err
    assert "nothing changed; run again" in result.err
    current = world.store.desired("hello", "production")
    assert current is not None
    assert (current.revision, current.version) == (1, 2)


def test_another_services_owner_is_not_allowed(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAXIWAY_TOKEN", world.tokens["stranger"])
    result = taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--no-wait")
    assert result.code == 1
    assert "not allowed" in result.err
    assert "'hello'" in result.err
    assert world.store.revisions("hello") == []


def test_deploy_waits_from_progressing_to_ready(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    status = ("GET", "/v1/status")

    def satellites() -> None:
        wait_for(lambda: world.store.desired("hello", "production"), what="the deploy", within=20)
        for region in REGIONS:
            world.report(region, 1, "progressing")
        polled = world.recorder.count(*status)
        wait_for(lambda: world.recorder.count(*status) > polled, what="the CLI to see progressing", within=20)
        for region in REGIONS:
            world.report(region, 1, "ready")

    thread = threading.Thread(target=satellites, daemon=True)
    thread.start()
    result = taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--timeout", "60s")
    thread.join(timeout=30)
    assert result.code == 0, result.err
    for region in REGIONS:
        assert f"{region}: progressing, 0/2 ready" in result.out
        assert f"{region}: ready, 2/2 ready" in result.out
    assert "✓ hello revision 1 is ready in production (3 regions) after" in result.out


def test_deploy_fails_with_the_instance_reason_and_log_tail(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    crashed = {
        "id": "hello-production-r1-0",
        "revision": 1,
        "datacenter": "europe-west1-b",
        "node": "node-1",
        "pid": None,
        "endpoint": None,
        "state": "exited",
        "ready": False,
        "restarts": 3,
        "reason": "crashed 3 times in a row (exit status 1)",
        "log_tail": ["starting hello", "ModuleNotFoundError: No module named 'flask'"],
    }

    def satellites() -> None:
        wait_for(lambda: world.store.desired("hello", "production"), what="the deploy", within=20)
        world.report("us-east1", 1, "ready")
        world.report(
            "europe-west1", 1, "failed", message="hello-production-r1-0: crashed 3 times", instances=[crashed]
        )

    thread = threading.Thread(target=satellites, daemon=True)
    thread.start()
    result = taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--timeout", "60s")
    thread.join(timeout=30)
    assert result.code == 1
    assert "✗ europe-west1: hello-production-r1-0: crashed 3 times" in result.err
    assert "instance hello-production-r1-0 on europe-west1-b/node-1" in result.err
    assert "crashed 3 times in a row (exit status 1)" in result.err
    assert "| ModuleNotFoundError: No module named 'flask'" in result.err
    assert "hello revision 1 failed in production (europe-west1)" in result.err


def test_deploy_times_out_naming_the_regions_not_ready(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.report("us-east1", 1, "ready")  # before the deploy: the revision number it will get
    result = taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--timeout", "1s")
    assert result.code == 1
    assert "not ready: asia-northeast3, europe-west1" in result.err
    assert "us-east1" not in result.err.split("not ready:")[1]


# -- rollback, revisions, regions, status ---------------------------------------------------


def ready_everywhere(world: World, revision: int) -> None:
    for region in REGIONS:
        world.report(region, revision, "ready")


PROBE_FAILED = "hello-production-r2-0: startup probe failed: HTTP 404 on /healthz"


def ready_then_failed(world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Revision 1 became ready in every region; revision 2 then failed in us-east1."""
    assert taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--no-wait").code == 0
    ready_everywhere(world, 1)
    v2 = changed_copy(tmp_path, "v2")
    assert taxiway(capsys, "deploy", str(v2), "--env", "production", "--no-wait").code == 0
    world.report("us-east1", 2, "failed", message=PROBE_FAILED)


def test_rollback_goes_to_the_last_revision_that_became_ready(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ready_then_failed(world, capsys, tmp_path)
    v3 = changed_copy(tmp_path, "v3")
    assert taxiway(capsys, "deploy", str(v3), "--env", "production", "--no-wait").code == 0

    back = taxiway(capsys, "rollback", "hello", "--env", "production", "--no-wait")
    assert back.code == 0, back.err
    assert "revision 3 → 1" in back.out, "revision 2 failed: the revision before 3 is not a safe place"
    assert f"passing over revision 2: failed in us-east1: {PROBE_FAILED}" in back.out
    current = world.store.desired("hello", "production")
    assert current is not None
    assert current.revision == 1


def test_rollback_to_a_revision_that_never_became_ready_needs_force(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ready_then_failed(world, capsys, tmp_path)
    assert taxiway(capsys, "rollback", "hello", "--env", "production", "--no-wait").code == 0
    before = world.store.desired("hello", "production")
    audit_before = len(world.store.audit_log())

    refused = taxiway(capsys, "rollback", "hello", "--env", "production", "--to", "2", "--no-wait")
    assert refused.code == 1
    assert "revision 2 never became ready in production" in refused.err
    assert PROBE_FAILED in refused.err
    assert "--force" in refused.err
    assert world.store.desired("hello", "production") == before, "a refused rollback changed something"
    assert len(world.store.audit_log()) == audit_before

    # A revision stored but never deployed to production: refused the same way.
    staging_only = taxiway(
        capsys, "deploy", str(changed_copy(tmp_path, "v3")), "--env", "staging", "--no-wait"
    )
    assert staging_only.code == 0
    never = taxiway(capsys, "rollback", "hello", "--env", "production", "--to", "3", "--no-wait")
    assert never.code == 1
    assert "it was never deployed to production" in never.err

    forced = taxiway(
        capsys, "rollback", "hello", "--env", "production", "--to", "2", "--force", "--no-wait", "--json"
    )
    assert forced.code == 0, forced.err
    assert json.loads(forced.out)["revision"] == 2
    assert json.loads(forced.out)["reason"].startswith("forced")

    missing = taxiway(capsys, "rollback", "hello", "--env", "production", "--to", "9", "--no-wait")
    assert missing.code == 1
    assert "no revision 9" in missing.err
    nowhere = taxiway(capsys, "rollback", "hello", "--env", "staging", "--no-wait")
    assert nowhere.code == 1
    assert "no revision before 3 became ready in staging" in nowhere.err
    unused = taxiway(capsys, "rollback", "hello", "--env", "production", "--force", "--no-wait")
    assert unused.code != 0
    assert "--force goes with --to" in unused.err


def test_revisions_show_each_revisions_outcome_per_environment(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ready_then_failed(world, capsys, tmp_path)
    world.report("europe-west1", 2, "ready")
    assert (
        taxiway(capsys, "deploy", str(changed_copy(tmp_path, "v3")), "--env", "production", "--no-wait").code
        == 0
    )

    listed = taxiway(capsys, "revisions", "hello", "--json")
    assert listed.code == 0, listed.err
    by_number = {r["number"]: r["outcomes"] for r in json.loads(listed.out)}
    assert by_number[1]["production"]["state"] == "ready"
    assert by_number[1]["production"]["became_ready"] is True
    assert by_number[2]["production"]["state"] == "failed"
    assert by_number[2]["production"]["regions"]["us-east1"] == {
        "state": "failed",
        "message": PROBE_FAILED,
        "ready_at": None,
    }
    assert by_number[2]["production"]["regions"]["europe-west1"]["state"] == "ready"
    assert by_number[3]["production"]["state"] == "in_progress"
    assert "staging" not in by_number[3]

    table = taxiway(capsys, "revisions", "hello").out.splitlines()
    assert table[0].split()[-2:] == ["STAGING", "PRODUCTION"]
    rows = {line.split()[0]: line for line in table[1:4]}
    assert rows["3"].endswith("not deployed  in progress")
    assert rows["2"].endswith("failed (us-east1)")
    assert rows["1"].endswith("ready")
    assert f"  revision 2 in production: failed in us-east1: {PROBE_FAILED}" in table


def test_revisions_json_and_table(world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--no-wait").code == 0
    assert (
        taxiway(capsys, "deploy", str(changed_copy(tmp_path, "v2")), "--env", "staging", "--no-wait").code
        == 0
    )
    listed = taxiway(capsys, "revisions", "hello", "--json")
    assert listed.code == 0, listed.err
    rows = json.loads(listed.out)
    assert [r["number"] for r in rows] == [2, 1]
    assert set(rows[0]) >= {
        "number",
        "created_by",
        "created_at",
        "digest",
        "environments",
        "current_in",
    }
    assert rows[0]["created_by"] == "owner:hello-ci"
    assert rows[0]["environments"] == ["production", "staging"]
    assert (rows[0]["current_in"], rows[1]["current_in"]) == (["staging"], ["production"])
    table = taxiway(capsys, "revisions", "hello")
    assert table.out.splitlines()[0].split() == [
        "REVISION",
        "CREATED",
        "BY",
        "CREATED",
        "AT",
        "DIGEST",
        "CURRENT",
        "IN",
        "STAGING",
        "PRODUCTION",
    ]
    assert "owner:hello-ci" in table.out
    assert "staging" in table.out.splitlines()[1]


def test_regions_json_and_table(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.report("us-east1", 1, "ready", api="http://127.0.0.1:9")
    listed = taxiway(capsys, "regions", "--json")
    assert listed.code == 0, listed.err
    regions = {r["name"]: r for r in json.loads(listed.out)}
    assert set(regions) == set(REGIONS)
    assert set(regions["us-east1"]) >= {"name", "continent", "driver", "last_seen", "cursor", "api"}
    assert regions["us-east1"]["api"] == "http://127.0.0.1:9"
    assert regions["us-east1"]["continent"] == "americas"
    assert regions["europe-west1"]["last_seen"] is None
    table = taxiway(capsys, "regions")
    assert "never seen" in table.out
    assert any(line.startswith("us-east1") and "seen" in line for line in table.out.splitlines())


def test_status_json_shows_regions_instances_and_stale_satellites(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--no-wait").code == 0
    instance = {
        "id": "hello-production-r1-0",
        "revision": 1,
        "datacenter": "us-east1-b",
        "node": "node-1",
        "endpoint": "http://127.0.0.1:41234",
        "state": "running",
        "ready": True,
        "restarts": 0,
    }
    world.report("us-east1", 1, "ready", instances=[instance])
    world.clock.offset = -datetime.timedelta(minutes=5)  # europe-west1 last reported 5 minutes ago
    world.report("europe-west1", 1, "progressing")
    world.clock.offset = datetime.timedelta()

    listed = taxiway(capsys, "status", "hello", "--json")
    assert listed.code == 0, listed.err
    rows = {r["region"]: r for r in json.loads(listed.out)}
    assert set(rows) == set(REGIONS)
    us = rows["us-east1"]
    assert (us["revision"], us["desired_revision"], us["phase"], us["stale"]) == (1, 1, "ready", False)
    assert (us["desired_instances"], us["ready_instances"]) == (2, 2)
    assert us["instances"][0]["endpoint"] == "http://127.0.0.1:41234"
    assert set(us["instances"][0]) >= {"id", "node", "endpoint", "ready", "restarts"}
    assert rows["europe-west1"]["stale"] is True
    assert rows["asia-northeast3"]["phase"] == "no report"

    table = taxiway(capsys, "status", "hello", "--env", "production")
    assert "hello · production (desired revision 1)" in table.out
    assert "STALE: satellite last seen 5m ago" in table.out
    assert "hello-production-r1-0" in table.out
    assert "us-east1-b/node-1" in table.out
    assert "staging" not in table.out


# -- logs and chaos --------------------------------------------------------------------------


def fake_satellite(expected_token: str, lines: list[str]) -> Any:
    """A satellite's log API: checks the bearer, answers ``INSTANCE | LINE`` lines."""
    asked: list[dict[str, str]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        headers = dict(scope["headers"])
        asked.append({"path": scope["path"], "query": scope["query_string"].decode()})
        if headers.get(b"authorization") != f"Bearer {expected_token}".encode():
            await send({"type": "http.response.start", "status": 403, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": "".join(f"{x}\n" for x in lines).encode()})

    app.asked = asked  # type: ignore[attr-defined]
    return app


def test_logs_prefix_each_line_with_its_region_and_warn_about_silent_ones(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    satellite = fake_satellite(
        world.tokens["owner"], ["hello-production-r1-0 | 2026-12-01T09:10:11.123Z listening on 41234"]
    )
    fake = ThreadedServer(satellite).start()
    api = fake.url
    try:
        world.report("us-east1", 1, "ready", api=api)
        world.report("europe-west1", 1, "ready")  # no API address: a warning, not a failure
        result = taxiway(capsys, "logs", "hello", "--tail", "5", "--instance", "hello-production-r1-0")
        assert result.code == 0, result.err
        assert result.out == "2026-12-01T09:10:11.123Z us-east1/hello-production-r1-0 | listening on 41234\n"
        assert "europe-west1" in result.err
        assert "API address" in result.err
        [asked] = satellite.asked
        assert asked["path"] == "/v1/logs/hello/production"
        assert "tail=10000" in asked["query"], "more than --tail: checks are left out after reading"
        assert "instance=hello-production-r1-0" in asked["query"]

        followed = taxiway(capsys, "logs", "hello", "--region", "us-east1", "--follow")
        assert followed.code == 0, followed.err
        assert (
            followed.out == "2026-12-01T09:10:11.123Z us-east1/hello-production-r1-0 | listening on 41234\n"
        )
        assert "follow=true" in satellite.asked[-1]["query"]
    finally:
        fake.stop()


def test_logs_leave_out_checks_unless_all_and_ask_for_lines_since(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--no-wait").code == 0
    stamp = "2026-12-01T09:10:11.123Z"
    lines = [
        f'hello-production-r1-0 | {stamp} 127.0.0.1 - - "GET /health HTTP/1.1" 200 -',  # the probe path
        f'hello-production-r1-0 | {stamp} 127.0.0.1 "GET /?q=1 HTTP/1.1" 200 "Taxiway-check/0.1"',
        f'hello-production-r1-0 | {stamp} 127.0.0.1 - - "GET / HTTP/1.1" 200 -',
        f"hello-production-r1-0 | {stamp} Traceback (most recent call last):",
    ]
    satellite = fake_satellite(world.tokens["owner"], lines)
    fake = ThreadedServer(satellite).start()
    api = fake.url
    try:
        world.report("us-east1", 1, "ready", api=api)
        quiet = taxiway(capsys, "logs", "hello", "--since", "5m")
        assert quiet.code == 0, quiet.err
        assert quiet.out.splitlines() == [
            f'{stamp} us-east1/hello-production-r1-0 | 127.0.0.1 - - "GET / HTTP/1.1" 200 -',
            f"{stamp} us-east1/hello-production-r1-0 | Traceback (most recent call last):",
        ]
        query = satellite.asked[-1]["query"]
        assert "tail=10000" in query, "--since without --tail: every line since then"
        since = datetime.datetime.fromisoformat(urllib.parse.parse_qs(query)["since"][0])
        assert abs((utc_now() - datetime.timedelta(minutes=5) - since).total_seconds()) < 60
        everything = taxiway(
            capsys, "logs", "hello", "--all", "--since", "2026-12-01T09:00:00Z", "--tail", "7"
        )
        assert len(everything.out.splitlines()) == 4
        assert "since=2026-12-01T09%3A00%3A00%2B00%3A00" in satellite.asked[-1]["query"]
        assert "tail=7" in satellite.asked[-1]["query"]
        newest = taxiway(capsys, "logs", "hello", "--tail", "1")
        assert newest.out.splitlines() == [
            f"{stamp} us-east1/hello-production-r1-0 | Traceback (most recent call last):"
        ]
        app_lines = taxiway(capsys, "logs", "hello", "--tail", "2")
        assert len(app_lines.out.splitlines()) == 2, "--tail counts the lines shown, checks left out"
        assert "GET / HTTP/1.1" in app_lines.out
        bad = taxiway(capsys, "logs", "hello", "--since", "yesterday")
        assert bad.code == 2
        assert "RFC 3339" in bad.err
    finally:
        fake.stop()


def endless_satellite(line: str) -> Any:
    """A satellite's log API in follow mode: one line, then silence until the client leaves."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": f"{line}\n".encode(), "more_body": True})
        while (await receive())["type"] != "http.disconnect":
            pass

    return app


def test_logs_follow_streams_until_ctrl_c_then_exits_0(world: World) -> None:
    fake = ThreadedServer(endless_satellite("hello-production-r1-0 | 2026-12-01T09:10:11.123Z tick")).start()
    api = fake.url
    try:
        world.report("us-east1", 1, "ready", api=api)
        follower = subprocess.Popen(
            [sys.executable, "-m", "taxiway.cli.main", "logs", "hello", "--follow"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert follower.stdout is not None
            assert (
                follower.stdout.readline()
                == "2026-12-01T09:10:11.123Z us-east1/hello-production-r1-0 | tick\n"
            )
            follower.send_signal(signal.SIGINT)
            _, errors = follower.communicate(timeout=20)
        finally:
            if follower.poll() is None:
                follower.kill()
                follower.wait()
        assert follower.returncode == 0, errors
        assert "Traceback" not in errors
    finally:
        fake.stop()


def test_ctrl_c_in_any_command_is_a_message_and_exit_130(world: World) -> None:
    fake = ThreadedServer(endless_satellite("hello-production-r1-0 | 2026-12-01T09:10:11.123Z tick")).start()
    api = fake.url
    try:
        world.report("us-east1", 1, "ready", api=api)
        code, _, errors = interrupt_once_it_polls(world, "logs", "hello")  # a satellite that never ends
        assert code == 130, errors
        assert "interrupted" in errors
        assert "Traceback" not in errors
    finally:
        fake.stop()


def test_logs_from_unreachable_satellites_fail_clearly(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.report("us-east1", 1, "ready", api=closed_port_url())
    result = taxiway(capsys, "logs", "hello")
    assert result.code == 1
    assert "us-east1" in result.err
    assert "cannot reach the satellite" in result.err
    assert "no logs could be read" in result.err


def test_chaos_marks_nodes_down_and_up(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAXIWAY_TOKEN", world.tokens["admin"])
    down = taxiway(capsys, "chaos", "node-down", "us-east1/us-east1-b/node-1")
    assert down.code == 0, down.err
    assert "us-east1/us-east1-b/node-1 is down" in down.out
    regions = {r["name"]: r for r in world.call("GET", "/v1/regions", "admin").json()}
    assert regions["us-east1"]["failed_nodes"] == [["us-east1-b", "node-1"]]
    up = taxiway(capsys, "chaos", "node-up", "us-east1/us-east1-b/node-1")
    assert up.code == 0, up.err
    regions = {r["name"]: r for r in world.call("GET", "/v1/regions", "admin").json()}
    assert regions["us-east1"]["failed_nodes"] == []

    bad = taxiway(capsys, "chaos", "node-down", "us-east1/node-1")
    assert bad.code == 2
    assert "REGION/DATACENTER/NODE" in bad.err
    unknown = taxiway(capsys, "chaos", "node-down", "us-east1/us-east1-z/node-9")
    assert unknown.code == 1
    assert "no node us-east1-z/node-9" in unknown.err
    monkeypatch.setenv("TAXIWAY_TOKEN", world.tokens["owner"])
    owner = taxiway(capsys, "chaos", "node-down", "us-east1/us-east1-b/node-1")
    assert owner.code == 1
    assert "not allowed" in owner.err


# -- plan --remote -----------------------------------------------------------------------------

PLATFORM = ["--topology", str(EXAMPLES / "topology.yaml"), "--inventory", str(EXAMPLES / "inventory.yaml")]


def test_plan_remote_compares_with_what_the_environment_runs(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    plan = ["plan", str(HELLO), "--env", "production", "--remote", "--detailed-exitcode", *PLATFORM]
    fresh = taxiway(capsys, *plan, "--json")
    assert fresh.code == 2, fresh.err
    assert json.loads(fresh.out)["summary"] == {"create": 3, "change": 0, "remove": 0}
    assert taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--no-wait").code == 0
    same = taxiway(capsys, *plan)
    assert same.code == 0, same.out + same.err
    changed = taxiway(capsys, "plan", str(changed_copy(tmp_path, "hi")), *plan[2:])
    assert changed.code == 2
    assert "GREETING" in changed.out
    both = taxiway(capsys, *plan, "--state", str(tmp_path / "state.json"))
    assert both.code == 1
    assert "mutually exclusive" in both.err


def test_plan_remote_knows_a_service_registered_with_the_control_plane_only(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`taxiway services create` registers a service the inventory file does not name."""
    monkeypatch.setenv("TAXIWAY_TOKEN", world.tokens["admin"])
    regions = "us-east1,europe-west1"
    create = ("services", "create", "flights", "--owner", "team-flights", "--regions", regions)
    created = taxiway(capsys, *create)
    assert created.code == 0, created.err
    flights = tmp_path / "flights"
    shutil.copytree(HELLO, flights, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = flights / ".taxiway" / "service.yaml"
    text = manifest.read_text().replace("name: hello", "name: flights").replace("team-hello", "team-flights")
    manifest.write_text(text.replace(", asia-northeast3]", "]", 1))
    for overlay in ("env-production.yaml", "service-staging.yaml"):
        (flights / ".taxiway" / overlay).unlink()
    planned = taxiway(capsys, "plan", str(flights), "--env", "production", "--remote", "--json", *PLATFORM)
    assert planned.code == 0, planned.err
    assert json.loads(planned.out)["summary"] == {"create": 2, "change": 0, "remove": 0}


def test_plan_remote_compares_secret_values_under_the_control_planes_key(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored digests are keyed by the control plane: the plan asks it to key the local
    values, so an unchanged secret is unchanged and a new value is a change."""
    monkeypatch.setenv("TAXIWAY_LOCAL_DIGEST_KEY_FILE", str(tmp_path / "local.key"))
    assert taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--no-wait").code == 0
    plan = ["--env", "production", "--remote", "--detailed-exitcode", "--json", *PLATFORM]
    same = taxiway(capsys, "plan", str(HELLO), *plan)
    assert same.code == 0, same.out + same.err
    rotated = tmp_path / "hello-rotated"
    shutil.copytree(HELLO, rotated, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = rotated / ".taxiway" / "service.yaml"
    manifest.write_text(manifest.read_text().replace("value: not-a-real-token", "value: another-fake-token"))
    changed = taxiway(capsys, "plan", str(rotated), *plan)
    assert changed.code == 2, changed.out + changed.err
    fields = {f["field"]: f for c in json.loads(changed.out)["changes"] for f in c["fields"]}
    assert fields["spec.env.API_TOKEN"] == {
        "field": "spec.env.API_TOKEN",
        "old": "(sensitive)",
        "new": "(sensitive)",
        "sensitive": True,
    }
    for value in ("not-a-real-token", "another-fake-token"):
        assert hashlib.sha256(value.encode()).hexdigest() not in changed.out + same.out


def test_render_keys_secret_digests_locally_and_plan_state_reads_them_back(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "keys" / "local.key"
    monkeypatch.setenv("TAXIWAY_LOCAL_DIGEST_KEY_FILE", str(key))
    rendered = taxiway(capsys, "render", str(HELLO), "--env", "production", "--format", "json", *PLATFORM)
    assert rendered.code == 0, rendered.err
    assert hashlib.sha256(b"not-a-real-token").hexdigest() not in rendered.out
    env = json.loads(rendered.out)["definitions"][0]["spec"]["env"]
    assert env["API_TOKEN"]["digest"].startswith("local-hmac-sha256:")
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    state = tmp_path / "state.json"
    state.write_text(rendered.out)
    again = taxiway(
        capsys,
        "plan",
        str(HELLO),
        "--env",
        "production",
        "--state",
        str(state),
        "--detailed-exitcode",
        *PLATFORM,
    )
    assert again.code == 0, again.out + again.err
    other = tmp_path / "another-machine.key"
    monkeypatch.setenv("TAXIWAY_LOCAL_DIGEST_KEY_FILE", str(other))
    elsewhere = taxiway(capsys, "render", str(HELLO), "--env", "production", "--format", "json", *PLATFORM)
    assert json.loads(elsewhere.out)["definitions"][0]["spec"]["env"]["API_TOKEN"] != env["API_TOKEN"]


def test_plan_remote_sees_a_change_of_code_alone(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code_only = tmp_path / "hello-code"
    shutil.copytree(HELLO, code_only, ignore=shutil.ignore_patterns("__pycache__"))
    assert taxiway(capsys, "deploy", str(code_only), "--env", "production", "--no-wait").code == 0
    plan = ["plan", str(code_only), "--env", "production", "--remote", "--detailed-exitcode", *PLATFORM]
    assert taxiway(capsys, *plan).code == 0, "the very files deployed: no changes"
    app = code_only / "app.py"
    app.write_text(app.read_text() + "\n# a fix that touches no manifest\n")
    changed = taxiway(capsys, *plan)
    assert changed.code == 2, changed.out + changed.err
    assert "~ artifact: " in changed.out
    assert "Plan: 0 to create, 3 to change, 0 to remove." in changed.out
    as_json = json.loads(taxiway(capsys, *plan, "--json").out)
    deployed = world.call("GET", "/v1/services/hello/revisions/1", "admin").json()["artifact"]
    assert {c["region"]: c["fields"] for c in as_json["changes"]}["us-east1"][0]["field"] == "artifact"
    assert as_json["changes"][0]["fields"][0]["old"] == deployed


# -- finding the control plane ---------------------------------------------------------------


def closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


def test_no_control_plane_configured(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TAXIWAY_URL")
    result = taxiway(capsys, "status")
    assert result.code == 1
    assert "no control plane configured" in result.err
    assert "taxiway dev up" in result.err


def test_control_plane_not_running(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = closed_port_url()
    monkeypatch.setenv("TAXIWAY_URL", url)
    result = taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--no-wait")
    assert result.code == 1
    assert f"cannot reach the control plane at {url}" in result.err
    assert "TAXIWAY_URL" in result.err
    assert world.tokens["owner"] not in result.err


def test_right_after_dev_up_nothing_else_needs_setting(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dev = tmp_path / "dev-world"
    dev.mkdir()
    document = {
        "control_plane": world.url,
        "token": world.tokens["admin"],
        "regions": {},
        "topology": str(EXAMPLES / "topology.yaml"),
        "inventory": str(EXAMPLES / "inventory.yaml"),
    }
    (dev / "dev.json").write_text(json.dumps(document))
    monkeypatch.setenv("TAXIWAY_DEV_DIR", str(dev))
    monkeypatch.delenv("TAXIWAY_URL")
    monkeypatch.delenv("TAXIWAY_TOKEN")
    deployed = taxiway(capsys, "deploy", str(HELLO), "--env", "production", "--no-wait")
    assert deployed.code == 0, deployed.err
    planned = taxiway(capsys, "plan", str(HELLO), "--env", "production", "--remote", "--detailed-exitcode")
    assert planned.code == 0, planned.out + planned.err
    current = world.store.desired("hello", "production")
    assert current is not None
    assert current.updated_by == "admin:root"


def test_glb_status_of_an_unknown_service_is_an_error(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAXIWAY_TOKEN", world.tokens["admin"])
    unknown = taxiway(capsys, "glb", "status", "nosuch")
    assert unknown.code == 1
    assert "no service named 'nosuch'" in unknown.err
    known = taxiway(capsys, "glb", "status", "hello")
    assert known.code == 0, known.err
    assert "no PoP reports hello" in known.out


# -- services: the inventory through the API --------------------------------------------------


def renamed_copy(tmp_path: Path, name: str, owner: str) -> Path:
    copy = tmp_path / name
    shutil.copytree(HELLO, copy, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = copy / ".taxiway" / "service.yaml"
    text = (
        manifest.read_text()
        .replace("name: hello", f"name: {name}")
        .replace("owner: team-hello", f"owner: {owner}")
    )
    manifest.write_text(text)
    return copy


def test_a_new_service_registered_with_the_cli_deploys_without_a_restart(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAXIWAY_TOKEN", world.tokens["admin"])
    httpbin = renamed_copy(tmp_path, "httpbin", "team-web")
    inventory = EXAMPLES / "inventory.yaml"
    checked = taxiway(
        capsys,
        "validate",
        str(httpbin),
        "--topology",
        str(EXAMPLES / "topology.yaml"),
        "--inventory",
        str(inventory),
    )
    assert checked.code == 1
    assert "service is not in the inventory" in checked.err
    assert f"add it to {inventory}" in checked.err, "the error names the file it read"
    assert (
        "`taxiway services create httpbin --owner team-web --regions us-east1,europe-west1,asia-northeast3`"
        in checked.err
    )

    refused = taxiway(capsys, "deploy", str(httpbin), "--env", "production", "--no-wait")
    assert refused.code == 1
    assert "no service named 'httpbin' in the inventory" in refused.err
    assert "`taxiway services create httpbin --owner TEAM --regions R1,R2`" in refused.err

    created = taxiway(
        capsys,
        "services",
        "create",
        "httpbin",
        "--owner",
        "team-web",
        "--regions",
        "us-east1,europe-west1,asia-northeast3",
        "--global-load-balancing",
    )
    assert created.code == 0, created.err
    assert "registered httpbin (version 1)" in created.out
    deployed = taxiway(capsys, "deploy", str(httpbin), "--env", "production", "--no-wait")
    assert deployed.code == 0, deployed.err
    assert "production now points at revision 1" in deployed.out

    updated = taxiway(capsys, "services", "update", "httpbin", "--max-instances", "50", "--json")
    assert updated.code == 0, updated.err
    assert (json.loads(updated.out)["version"], json.loads(updated.out)["quota"]) == (
        2,
        {"max_instances": 50},
    )
    listed = taxiway(capsys, "services", "list", "--json")
    assert {s["name"]: s["origin"] for s in json.loads(listed.out)} == {**EXAMPLE_SERVICES, "httpbin": "api"}
    table = taxiway(capsys, "services", "list")
    assert table.out.splitlines()[0].split()[:3] == ["NAME", "OWNERS", "REGIONS"]

    exported = taxiway(capsys, "services", "export")
    assert exported.code == 0, exported.err
    (tmp_path / "exported.yaml").write_text(exported.out)
    again = platform.load_inventory(
        tmp_path / "exported.yaml", platform.load_topology(EXAMPLES / "topology.yaml")
    )
    assert [s.name for s in again.services] == sorted([*EXAMPLE_SERVICES, "httpbin"])
    assert again.by_name["httpbin"].quota.max_instances == 50

    busy = taxiway(capsys, "services", "delete", "httpbin")
    assert busy.code == 1
    assert "`taxiway services undeploy httpbin --env production`" in busy.err
    removed = taxiway(capsys, "services", "undeploy", "httpbin", "--env", "production")
    assert removed.code == 0, removed.err
    assert "removed httpbin from production in asia-northeast3, europe-west1, us-east1" in removed.out
    assert taxiway(capsys, "services", "delete", "httpbin").code == 0
    assert [s.name for s in world.store.services()] == sorted(EXAMPLE_SERVICES)

    monkeypatch.setenv("TAXIWAY_TOKEN", world.tokens["owner"])
    denied = taxiway(capsys, "services", "list")
    assert denied.code == 1
    assert "admin token" in denied.err

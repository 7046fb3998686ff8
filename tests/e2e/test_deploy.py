"""Deploying to three regions, and refusing bad deploys without touching what runs."""

from __future__ import annotations

import os
import re
import shutil
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from taxiway.runtime import tenancy
from tests.conftest import EXAMPLES
from tests.e2e.world import HELLO_INSTANCES, REGIONS, World, answers_from

pytestmark = [pytest.mark.slow]


def by_region(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["region"]: row for row in rows}


def proc_environ(pid: int) -> list[bytes]:
    return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")


@pytest.mark.timeout(150)
def test_deploy_makes_every_region_ready_and_status_matches_what_runs(shared_world: World) -> None:
    world = shared_world
    result = world.deploy()
    assert result.returncode == 0, result.stdout + result.stderr

    rows = by_region(world.wait_ready())
    assert set(rows) == set(REGIONS)
    revision = rows["us-east1"]["revision"]
    running = world.instance_pids()
    for region, count in HELLO_INSTANCES.items():
        row = rows[region]
        assert (row["revision"], row["desired_instances"], row["ready_instances"]) == (revision, count, count)
        reported = [i for i in row["instances"] if i["revision"] == revision]
        assert len(reported) == count
        assert all(i.get("pid") for i in reported), (
            f"`taxiway status --json` names no pid per instance: {reported[0]}"
        )
        pids = {i["pid"] for i in reported}
        # What status reports is what runs: these processes, no more, no fewer.
        assert pids == running[region]
        for pid in pids:
            environ = dict(item.decode().partition("=")[::2] for item in proc_environ(pid) if item)
            assert environ["TAXIWAY_REGION"] == region
            assert b"app.py" in Path(f"/proc/{pid}/cmdline").read_bytes()
            # docs/runtime-local.md: a home of its own, and never Taxiway's virtualenv on PATH
            # (scripts/test and scripts/demo put it first on the satellites' PATH).
            home = Path(environ["HOME"])
            assert stat.S_IMODE(home.stat().st_mode) == 0o700
            if os.geteuid() == 0:  # isolated: its service's own user, its home in the tenant dir
                uid = int(Path(f"/proc/{pid}/status").read_text().split("\nUid:")[1].split()[0])
                assert tenancy.FIRST_ID <= uid <= tenancy.LAST_ID
                assert home.parent == world.tenant_dir(region) / "homes"
                assert home.stat().st_uid == uid
            else:
                assert home.name == "home"
                assert home.parent.parent.name == "instances"
            assert os.path.join(sys.prefix, "bin") not in environ["PATH"].split(os.pathsep)
            assert environ["PORT"] == instance_port(reported, pid)
        for instance in reported:
            assert instance["ready"] is True
            assert answers_from(instance["endpoint"], region), f"{instance['endpoint']} in {region}"

    # logs: every line stamped and named REGION/INSTANCE; probe requests only with --all.
    logs = world.taxiway("logs", "hello", "--region", "us-east1", "--since", "10m")
    assert logs.returncode == 0, logs.stderr
    lines = logs.stdout.splitlines()
    assert lines
    stamped = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z us-east1/hello-production-r\d+-\d+ \| ")
    assert all(stamped.match(line) for line in lines), lines
    assert not any("GET /health " in line for line in lines)
    everything = world.taxiway("logs", "hello", "--region", "us-east1", "--since", "10m", "--all")
    assert any("GET /health " in line for line in everything.stdout.splitlines())


def instance_port(reported: list[dict[str, Any]], pid: int) -> str:
    (endpoint,) = [i["endpoint"] for i in reported if i["pid"] == pid]
    return str(endpoint).rsplit(":", 1)[1]


def broken_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    copy = tmp_path / name
    shutil.copytree(EXAMPLES / "hello", copy)
    manifest = copy / ".taxiway" / "service.yaml"
    text = manifest.read_text()
    assert old in text
    manifest.write_text(text.replace(old, new, 1))
    return copy


@pytest.mark.timeout(150)
def test_bad_manifest_or_unknown_region_is_refused_and_changes_nothing(
    shared_world: World, tmp_path: Path
) -> None:
    world = shared_world
    assert world.deploy().returncode == 0
    world.wait_ready()
    revisions_before = world.revisions()
    pids_before = world.instance_pids()

    bad_field = broken_copy(tmp_path, "bad-field", "  scalability:\n", "  scalabilty:\n")
    result = world.deploy(bad_field)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{bad_field / '.taxiway' / 'service.yaml'}:" in result.stderr or "service.yaml:" in result.stderr
    assert "scalabilty" in result.stderr

    mars = broken_copy(
        tmp_path,
        "unknown-region",
        "regions: [us-east1, europe-west1, asia-northeast3]",
        "regions: [us-east1, mars-north1, asia-northeast3]",
    )
    result = world.deploy(mars)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "service.yaml:" in result.stderr
    assert "mars-north1" in result.stderr

    assert world.revisions() == revisions_before, "no revision was stored"
    assert world.instance_pids() == pids_before, "no instance was touched"
    rows = by_region(world.status())
    assert all(row["phase"] == "ready" for row in rows.values())

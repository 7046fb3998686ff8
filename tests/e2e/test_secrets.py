"""A platform secret end to end: ``secrets set`` → every region's instances run with it.

A world of real processes (control plane, three satellites, the local runtime): the value
is set through the CLI on stdin, a deploy naming it is refused until it is set, each
instance process has it in its environment (``/proc/<pid>/environ``), a new value rolls
every region to new processes, and the value bytes are in no file under the world's
directory (every file, binary ones included), no API answer and no CLI output.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.e2e.world import HELLO_INSTANCES, REGIONS, ROOT, World, wait_for

pytestmark = [pytest.mark.slow]

VALUE = "e2e-db-pass-7c1d93aa0b"
ROTATED = "e2e-db-pass-rotated-55e0f1"
NAME = "DATABASE_PASSWORD"


def cli(world: World, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it, the value (if any) on stdin."""
    return subprocess.run(
        [sys.executable, "-m", "taxiway.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=world.env(TAXIWAY_URL=world.url, TAXIWAY_TOKEN=world.admin_token),
        cwd=ROOT,
    )


def hello_naming_the_secret(directory: Path) -> Path:
    copy = directory / "hello"
    shutil.copytree(EXAMPLES / "hello", copy, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = copy / ".taxiway" / "service.yaml"
    manifest.write_text(manifest.read_text().replace("  probes:\n", f"  secrets: [{NAME}]\n  probes:\n", 1))
    return copy


def environ(pid: int) -> list[bytes]:
    return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")


def every_instance_has(world: World, value: str) -> dict[str, set[int]] | None:
    wanted = f"{NAME}={value}".encode()
    found: dict[str, set[int]] = {}
    for region in REGIONS:
        instances = world.instances(region)
        if len(instances) != HELLO_INSTANCES[region]:
            return None
        if not all(wanted in environ(i.pid) for i in instances):
            return None
        found[region] = {i.pid for i in instances}
    return found


def files_holding(root: Path, needles: list[bytes]) -> list[str]:
    hits: list[str] = []
    for path in root.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except OSError:  # a socket or a file gone meanwhile
            continue
        hits.extend(f"{path}: {needle!r}" for needle in needles if needle in data)
    return hits


@pytest.mark.timeout(300)
def test_secrets_set_reaches_every_instance_rolls_on_change_and_is_nowhere_on_disk(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outputs: list[str] = []
    answers: list[str] = []
    service = hello_naming_the_secret(tmp_path_factory.mktemp("service"))

    refused = world.deploy(service)
    outputs.append(refused.stdout + refused.stderr)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr
    assert f"secret {NAME} has no value in production" in refused.stderr
    assert f"taxiway secrets set hello {NAME} --env production" in refused.stderr
    assert world.status() == [], "nothing was deployed"
    assert world.revisions() == [], "not even a revision was stored"

    done = cli(world, "secrets", "set", "hello", NAME, "--env", "production", stdin=VALUE + "\n")
    outputs.append(done.stdout + done.stderr)
    assert done.returncode == 0, done.stderr
    deployed = world.deploy(service)
    outputs.append(deployed.stdout + deployed.stderr)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    world.wait_ready()
    first = wait_for(lambda: every_instance_has(world, VALUE), within=60, what="instances with the value")

    rotated = cli(world, "secrets", "set", "hello", NAME, "--env", "production", stdin=ROTATED)
    outputs.append(rotated.stdout + rotated.stderr)
    assert rotated.returncode == 0, rotated.stderr
    assert "its instances roll in 3 regions" in rotated.stdout
    second = wait_for(
        lambda: every_instance_has(world, ROTATED), within=90, what="instances with the new value"
    )
    for region in REGIONS:
        assert not first[region] & second[region], f"{region}: new processes run the new value"
    rows = world.wait_ready()
    assert all(row["revision"] == 1 for row in rows), "a new value is not a new revision"

    for args in (
        ("secrets", "list", "hello"),
        ("secrets", "list", "hello", "--json"),
        ("status", "hello"),
        ("status", "hello", "--json"),
        ("revisions", "hello", "--json"),
        ("regions", "--json"),
    ):
        result = cli(world, *args)
        assert result.returncode == 0, (args, result.stderr)
        outputs.append(result.stdout + result.stderr)
    listed = json.loads(cli(world, "secrets", "list", "hello", "--json").stdout)
    assert [(s["name"], s["version"]) for s in listed] == [(NAME, 2)]

    for path in (
        "/v1/services/hello/secrets",
        "/v1/services/hello/revisions/1",
        "/v1/status?service=hello",
        "/v1/audit",
        *(f"/v1/regions/{region}/definitions" for region in REGIONS),
    ):
        answers.append(json.dumps(world.api("GET", path)))

    needles = [v.encode() for v in (VALUE, ROTATED)]
    needles += [base64.b64encode(v.encode()) for v in (VALUE, ROTATED)]
    for text in outputs + answers:
        assert not any(needle.decode() in text for needle in needles), text[:2000]
    for pid in world.processes():
        cmdline = Path(f"/proc/{pid.pid}/cmdline").read_bytes()
        assert not any(needle in cmdline for needle in needles), cmdline
    assert files_holding(world.root, needles) == []
    assert files_holding(service, needles) == []

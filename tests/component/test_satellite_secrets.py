"""A platform secret from ``secrets set`` to a satellite's instance, and what stays private.

A real control plane (in-thread, SQLite) and a real satellite (in-thread, the recording
in-memory driver): the value reaches the instance's environment, a new value rolls the
instances as a surge (new ids beside the old, never the old ones restarted in place), and
the value is in no file under the test's directory. The satellite's and the control
plane's state is readable by no other user.
"""

from __future__ import annotations

import base64
import stat
from pathlib import Path
from typing import Any

from taxiway.client import artifact
from tests.conftest import EXAMPLES
from tests.fixtures import satellite_world as satellite_fixtures
from tests.fixtures.api_server import hello_files
from tests.fixtures.satellite_world import ControlPlane, Satellites, driver_of
from tests.fixtures.waiting import wait_for

# The fixtures: a control plane in-thread on SQLite, satellites in-thread with the recording driver.
control_plane = satellite_fixtures.control_plane
satellites = satellite_fixtures.satellites

VALUE = "pa55-9f3e1c7b-secret"
PATH = "/v1/services/hello/environments/production/secrets/DB_PASSWORD"


def deploy_naming_the_secret(plane: ControlPlane) -> int:
    files = hello_files()
    named = "  secrets: [DB_PASSWORD]\n  probes:\n"
    files["service.yaml"] = files["service.yaml"].replace("  probes:\n", named, 1)
    return plane.deploy(files, artifact=artifact.build(EXAMPLES / "hello").data)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def files_holding(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and needle in p.read_bytes()]


def test_a_secret_reaches_the_instance_rolls_on_change_and_stays_out_of_every_file(
    control_plane: ControlPlane, satellites: Satellites, tmp_path: Path
) -> None:
    answers: list[str] = []
    answer = control_plane.call("PUT", PATH, "owner", json={"value": VALUE})
    assert answer.status_code == 200, answer.text
    answers.append(answer.text)
    us = satellites.start("us-east1", control_plane.url, control_plane.tokens["us-east1"])
    deploy_naming_the_secret(control_plane)
    fake = driver_of(us)

    def running_with(value: str) -> set[str] | None:
        running = fake.running()
        if len(running) == 2 and all(fake.specs[i].env.get("DB_PASSWORD") == value for i in running):
            return set(running)
        return None

    wait_for(lambda: running_with(VALUE), within=15, what="instances with the secret")
    first = running_with(VALUE)
    assert first is not None
    assert all(i.startswith("hello-production-r1s") for i in first), first
    report: dict[str, Any] | None = control_plane.report("us-east1")
    assert report is not None

    # A new value is a new generation of the same revision: new ids start beside the old,
    # which are removed once the new are ready; none of the old is restarted in place.
    answer = control_plane.call("PUT", PATH, "owner", json={"value": VALUE + "-rotated"})
    answers.append(answer.text)
    assert answer.json()["regions"] == ["asia-northeast3", "europe-west1", "us-east1"]
    wait_for(lambda: running_with(VALUE + "-rotated"), within=15, what="instances with the new value")
    second = running_with(VALUE + "-rotated")
    assert second is not None
    assert not first & second
    assert all(fake.specs[i].env["DB_PASSWORD"] == VALUE for i in first), "old ids never got the new value"

    # Unset: the instances roll again, without it.
    answers.append(control_plane.call("DELETE", PATH, "owner").text)

    def running_without() -> bool:
        running = fake.running()
        return len(running) == 2 and all("DB_PASSWORD" not in fake.specs[i].env for i in running)

    wait_for(running_without, within=15, what="instances without the secret")

    answers.append(control_plane.call("GET", "/v1/services/hello/secrets", "owner").text)
    answers.append(control_plane.call("GET", "/v1/status?service=hello", "owner").text)
    answers.append(control_plane.call("GET", "/v1/regions/us-east1/definitions", "admin").text)
    answers.append(control_plane.call("GET", "/v1/audit", "admin").text)
    for text in answers:
        assert VALUE not in text

    # Private at rest: directories 0700, stores, keys and artifact files for this user only.
    state = us.settings.state_dir
    assert mode(state) == 0o700
    assert mode(us.settings.artifacts_dir) == 0o700
    (extracted,) = [p for p in us.settings.artifacts_dir.iterdir() if not p.name.startswith(".")]
    for path in [extracted, *extracted.rglob("*")]:
        assert mode(path) & 0o077 == 0, f"{path} is {oct(mode(path))}"
    assert not (extracted / ".taxiway").exists(), "manifests are not part of the artifact"
    for path in [*state.glob("satellite.db*"), us.settings.key_file]:
        assert mode(path) == 0o600, f"{path} is {oct(mode(path))}"
    for path in tmp_path.glob("control-plane.db*"):
        assert mode(path) == 0o600, f"{path} is {oct(mode(path))}"

    us.stop()
    satellites.started.remove(us)
    control_plane.stop()
    for needle in (VALUE.encode(), base64.b64encode(VALUE.encode())):
        assert files_holding(tmp_path, needle) == []

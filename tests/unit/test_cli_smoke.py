"""The CLI's contract on the shipped example: exit codes and the render → plan round trip."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES

PLATFORM = ["--topology", str(EXAMPLES / "topology.yaml"), "--inventory", str(EXAMPLES / "inventory.yaml")]


def taxiway(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taxiway.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_validate_accepts_the_example() -> None:
    result = taxiway("validate", str(EXAMPLES / "hello"), *PLATFORM)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_validate_rejects_a_typo_with_a_suggestion() -> None:
    result = taxiway("validate", str(EXAMPLES / "bad/schema/unknown-field"), *PLATFORM)
    assert result.returncode == 1
    assert "service.yaml:12:3: spec.scalabilty: unknown field" in result.stderr
    assert "did you mean 'scalability'?" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_plan_against_its_own_render_is_empty(tmp_path: Path, environment: str) -> None:
    rendered = taxiway("render", str(EXAMPLES / "hello"), "--env", environment, "--format", "json", *PLATFORM)
    assert rendered.returncode == 0, rendered.stderr
    state = tmp_path / "state.json"
    state.write_text(rendered.stdout)
    same = taxiway(
        "plan",
        str(EXAMPLES / "hello"),
        "--env",
        environment,
        "--state",
        str(state),
        "--detailed-exitcode",
        *PLATFORM,
    )
    assert same.returncode == 0, same.stdout + same.stderr
    fresh = taxiway(
        "plan", str(EXAMPLES / "hello"), "--env", environment, "--json", "--detailed-exitcode", *PLATFORM
    )
    assert fresh.returncode == 2
    assert json.loads(fresh.stdout)["summary"] == {"create": 3, "change": 0, "remove": 0}


def test_secret_values_never_printed() -> None:
    rendered = taxiway(
        "render", str(EXAMPLES / "hello"), "--env", "production", "--format", "json", *PLATFORM
    )
    assert "not-a-real-token" not in rendered.stdout
    planned = taxiway("plan", str(EXAMPLES / "hello"), "--env", "production", "--json", *PLATFORM)
    assert "not-a-real-token" not in planned.stdout


def test_usage_errors_exit_2_as_clicks_own_do_but_1_where_2_means_changes() -> None:
    result = taxiway("plan", str(EXAMPLES / "hello"), "--env", "prod", *PLATFORM)
    assert result.returncode == 2
    result = taxiway("plan", str(EXAMPLES / "hello"), "--env", "prod", "--detailed-exitcode", *PLATFORM)
    assert result.returncode == 1


def test_render_shows_the_effective_probes(tmp_path: Path) -> None:
    service = tmp_path / "svc"
    shutil.copytree(EXAMPLES / "hello", service)
    manifest = service / ".taxiway" / "service.yaml"
    text = manifest.read_text().replace("readiness: {path: /health,", "readiness: {path: /-/ready,")
    manifest.write_text(text)
    result = taxiway("render", str(service), "--env", "production", "--format", "json", *PLATFORM)
    assert result.returncode == 0, result.stderr
    probes = json.loads(result.stdout)["definitions"][0]["spec"]["probes"]
    assert {name: probe["path"] for name, probe in probes.items()} == dict.fromkeys(
        ("startup", "readiness", "liveness"), "/-/ready"
    )
    mutually_exclusive = taxiway(
        "plan", str(EXAMPLES / "hello"), "--env", "production", "--remote", "--state", "x"
    )
    assert mutually_exclusive.returncode == 2
    assert "mutually exclusive" in mutually_exclusive.stderr


@pytest.mark.parametrize("command", [["deploy", str(EXAMPLES / "hello")], ["rollback", "hello"]])
def test_env_is_required_where_it_says_so(command: list[str]) -> None:
    result = taxiway(*command, "--url", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert "Missing option '--env'" in result.stderr
    assert "None" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_no_color_drops_every_style_bold_included() -> None:
    def plan(**env: str) -> str:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "taxiway.cli.main",
                "plan",
                str(EXAMPLES / "hello"),
                "--env",
                "production",
                *PLATFORM,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**{k: v for k, v in os.environ.items() if k != "NO_COLOR"}, "FORCE_COLOR": "1", **env},
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "\x1b[1m" in plan(), "a terminal gets bold"
    assert "\x1b[" not in plan(NO_COLOR="1")

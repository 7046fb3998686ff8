"""``taxiway secrets set|list|unset`` and a deploy that needs a secret, against a real control plane.

No output, stdout or stderr, may ever hold the value; a value on the command line is refused
without being echoed.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from tests.fixtures import cli_world
from tests.fixtures.cli_world import HELLO, World, taxiway

world = cli_world.world  # the fixture: a control plane on a loopback socket, the owner's token

VALUE = "correct-horse-battery-staple-61"


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def naming(tmp_path: Path, *names: str) -> Path:
    copy = tmp_path / "hello-with-secrets"
    shutil.copytree(HELLO, copy, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = copy / ".taxiway" / "service.yaml"
    text = manifest.read_text()
    manifest.write_text(text.replace("  probes:\n", f"  secrets: [{', '.join(names)}]\n  probes:\n", 1))
    return copy


def test_set_list_unset_and_a_deploy_that_needs_them(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outputs = []
    service = naming(tmp_path, "DB_PASSWORD", "API_KEY")

    stdin(monkeypatch, VALUE + "\n")
    done = taxiway(capsys, "secrets", "set", "hello", "DB_PASSWORD", "--env", "production")
    outputs.append(done)
    assert done.code == 0, done.err
    assert "✓ DB_PASSWORD set for hello in production (version 1, hmac-sha256:" in done.out

    refused = taxiway(capsys, "deploy", str(service), "--env", "production", "--no-wait")
    outputs.append(refused)
    assert refused.code == 1
    assert "secret API_KEY has no value in production" in refused.err
    assert "taxiway secrets set hello API_KEY --env production" in refused.err
    assert "DB_PASSWORD has no value" not in refused.err
    assert world.store.desired("hello", "production") is None, "nothing changed"
    assert world.store.revisions("hello") == [], "not even a revision was stored"
    assert str(service / ".taxiway" / "service.yaml") in refused.err, "the problem names the local file"

    value_file = tmp_path / "api-key"
    value_file.write_text(VALUE + "-api\n")
    done = taxiway(
        capsys, "secrets", "set", "hello", "API_KEY", "--env", "production", "--from-file", str(value_file)
    )
    outputs.append(done)
    assert done.code == 0, done.err
    deployed = taxiway(capsys, "deploy", str(service), "--env", "production", "--no-wait")
    outputs.append(deployed)
    assert deployed.code == 0, deployed.err

    feed = world.call("GET", "/v1/regions/us-east1/definitions", "us-east1").json()
    env = feed["items"][0]["definition"]["spec"]["env"]
    assert env["DB_PASSWORD"]["value"] == VALUE, "one trailing newline is dropped, nothing else"
    assert env["API_KEY"]["value"] == VALUE + "-api"

    stdin(monkeypatch, VALUE + "-2")
    rotated = taxiway(capsys, "secrets", "set", "hello", "DB_PASSWORD", "--env", "production", "--json")
    outputs.append(rotated)
    assert rotated.code == 0, rotated.err
    answer = json.loads(rotated.out)
    assert (answer["version"], answer["regions"]) == (2, ["asia-northeast3", "europe-west1", "us-east1"])

    table = taxiway(capsys, "secrets", "list", "hello")
    outputs.append(table)
    assert table.code == 0, table.err
    lines = table.out.splitlines()
    assert lines[0].split() == ["NAME", "ENVIRONMENT", "VERSION", "DIGEST", "SET", "BY", "SET"]
    assert lines[1].split()[:3] == ["API_KEY", "production", "1"]
    assert lines[2].split()[:3] == ["DB_PASSWORD", "production", "2"]
    assert "owner:hello-ci" in lines[2]
    listed = taxiway(capsys, "secrets", "list", "hello", "--env", "production", "--json")
    outputs.append(listed)
    assert [(s["name"], s["version"]) for s in json.loads(listed.out)] == [("API_KEY", 1), ("DB_PASSWORD", 2)]

    gone = taxiway(capsys, "secrets", "unset", "hello", "API_KEY", "--env", "production")
    outputs.append(gone)
    assert gone.code == 0, gone.err
    assert "✓ API_KEY unset for hello in production (version 2)" in gone.out
    assert "its instances roll in 3 regions" in gone.out
    again = taxiway(capsys, "secrets", "unset", "hello", "API_KEY", "--env", "production")
    assert again.code == 1
    assert "hello has no secret API_KEY in production" in again.err

    for result in outputs:
        assert VALUE not in result.out + result.err


def test_a_value_never_comes_from_argv_and_an_empty_one_is_refused(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stdin(monkeypatch, "")
    on_argv = taxiway(capsys, "secrets", "set", "hello", "DB_PASSWORD", VALUE, "--env", "production")
    assert on_argv.code != 0
    assert "never taken from the command line" in on_argv.err
    assert VALUE not in on_argv.out + on_argv.err

    empty = taxiway(capsys, "secrets", "set", "hello", "DB_PASSWORD", "--env", "production")
    assert empty.code == 1
    assert "no value for DB_PASSWORD on stdin" in empty.err
    assert "--from-file" in empty.err

    (tmp_path / "empty").write_text("\n")
    from_file = taxiway(
        capsys,
        "secrets",
        "set",
        "hello",
        "DB_PASSWORD",
        "--env",
        "production",
        "--from-file",
        str(tmp_path / "empty"),
    )
    assert from_file.code == 1
    assert "the file is empty" in from_file.err

    lower = taxiway(capsys, "secrets", "set", "hello", "db_password", "--env", "production")
    assert lower.code != 0
    assert "expected upper case letters" in lower.err
    assert world.store.secrets("hello") == []

    stranger = world.tokens["stranger"]
    monkeypatch.setenv("TAXIWAY_TOKEN", stranger)
    stdin(monkeypatch, VALUE)
    denied = taxiway(capsys, "secrets", "set", "hello", "DB_PASSWORD", "--env", "production")
    assert denied.code == 1
    assert "not allowed" in denied.err
    assert world.store.secrets("hello") == []

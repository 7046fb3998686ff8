"""Who owns a service: ``metadata.owner`` is optional and comes from the inventory.

A minimal manifest names the service, what to run and where; the inventory's owners
answer for it. A manifest naming an owner the inventory does not list is an error that
names both files; with no owner anywhere, ``validate`` warns.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taxiway.cli import main as cli
from taxiway.errors import ValidationFailed
from taxiway.plan import derive, secret_digest
from taxiway.spec import platform, service_files
from taxiway.spec.inventory import Inventory
from tests.conftest import EXAMPLES

KEYER = secret_digest.Keyer(b"test key")
TOPOLOGY = EXAMPLES / "topology.yaml"

MINIMAL = """\
apiVersion: taxiway/v1
kind: Service
metadata:
  name: hello
spec:
  run:
    command: [python3, app.py]
  regions: [us-east1]
"""

INVENTORY = """\
apiVersion: taxiway/v1
kind: Inventory
services:
  - name: hello
    owners: [team-hello, team-platform]
    regions: [us-east1]
"""


def manifest_file(tmp_path: Path, text: str = MINIMAL) -> Path:
    path = tmp_path / "service.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def listed(tmp_path: Path) -> Inventory:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY, encoding="utf-8")
    return platform.load_inventory(path, platform.load_topology(TOPOLOGY))


def derived_owner(tmp_path: Path, text: str) -> str | None:
    loaded = service_files.load(service_files.find(manifest_file(tmp_path, text)), "production")
    definitions = derive.derive(
        loaded.manifest,
        "production",
        platform.load_topology(TOPOLOGY),
        listed(tmp_path),
        source=loaded.document,
        secret_digest=KEYER,
    )
    return definitions["us-east1"].metadata.owner


def test_a_minimal_manifest_is_valid_and_takes_the_inventorys_first_owner(tmp_path: Path) -> None:
    assert derived_owner(tmp_path, MINIMAL) == "team-hello"


def test_an_owner_the_inventory_lists_is_kept(tmp_path: Path) -> None:
    text = MINIMAL.replace("  name: hello\n", "  name: hello\n  owner: team-platform\n")
    assert derived_owner(tmp_path, text) == "team-platform"


def test_an_owner_the_inventory_does_not_list_names_both_files_and_lines(tmp_path: Path) -> None:
    text = MINIMAL.replace("  name: hello\n", "  name: hello\n  owner: team-elsewhere\n")
    with pytest.raises(ValidationFailed) as caught:
        derived_owner(tmp_path, text)
    (problem,) = caught.value.problems
    assert (problem.location.file, problem.location.line) == (str(tmp_path / "service.yaml"), 5)
    assert problem.field_path == "metadata.owner"
    assert problem.found == "team-elsewhere"
    # The inventory's owners are on line 5 of its file, column 13.
    assert f"{tmp_path / 'inventory.yaml'}:5:13" in (problem.expected or "")
    assert "leave metadata.owner out to take team-hello" in (problem.hint or "")


@pytest.fixture
def no_platform_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No inventory or topology from the environment, a config file or a dev world."""
    for name in ("TAXIWAY_INVENTORY", "TAXIWAY_TOPOLOGY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TAXIWAY_CONFIG", str(tmp_path / "no-config.yaml"))
    monkeypatch.setenv("TAXIWAY_DEV_DIR", str(tmp_path / "no-dev-world"))


def validate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        cli.main(["validate", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return int(exited.value.code or 0), captured.out, captured.err


@pytest.mark.usefixtures("no_platform_config")
def test_validate_warns_when_nobody_owns_the_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = manifest_file(tmp_path)
    code, out, err = validate(capsys, str(path))
    assert code == 0, err
    assert "valid" in out
    assert f"warning: {path}:4:3: metadata.owner: no owner" in err
    assert "add `owner: <team>` under metadata" in err
    assert "`taxiway deploy` refuses a service nobody owns" in err

    code, out, _ = validate(capsys, str(path), "--json")
    verdict = json.loads(out)
    assert (code, verdict["valid"]) == (0, True)
    assert [(w["field"], w["line"], w["message"]) for w in verdict["warnings"]] == [
        ("metadata.owner", 4, "no owner")
    ]


@pytest.mark.usefixtures("no_platform_config")
def test_validate_does_not_warn_when_the_inventory_names_the_owner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed(tmp_path)
    args = ["--topology", str(TOPOLOGY), "--inventory", str(tmp_path / "inventory.yaml")]
    code, out, err = validate(capsys, str(manifest_file(tmp_path)), *args)
    assert code == 0, err
    assert "valid" in out
    assert "warning" not in err

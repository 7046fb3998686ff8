"""An upload derived on the control plane: from the request's text, problems located in
``.taxiway/<file>`` with line and column, nothing written to disk."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from taxiway.errors import ValidationFailed
from taxiway.sealing.keys import Sealer
from taxiway.server import uploads
from taxiway.spec import platform, service_files
from tests.conftest import EXAMPLES

HELLO = EXAMPLES / "hello" / ".taxiway"


def hello_files() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(HELLO.iterdir())}


def derive(files: dict[str, str]) -> uploads.Derived:
    topology = platform.load_topology(EXAMPLES / "topology.yaml")
    inventory = platform.load_inventory(EXAMPLES / "inventory.yaml", topology)
    return uploads.derive_upload(files, "hello", topology, inventory, Sealer.generate().keyer())


def problems_of(files: dict[str, str]) -> list[tuple[str, int | None, int | None, str]]:
    with pytest.raises(ValidationFailed) as caught:
        derive(files)
    return [(p.location.file, p.location.line, p.location.column, p.message) for p in caught.value.problems]


def test_an_upload_is_derived_without_a_temporary_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A control plane whose temporary directory is gone (or full, or read-only) still takes
    # deploys: the upload never touches the file system.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    derived = derive(hello_files())
    assert set(derived.definitions) == {"staging", "production"}
    assert not (tmp_path / "gone").exists()


def test_upload_problems_name_the_file_line_and_column_as_on_disk(tmp_path: Path) -> None:
    files = hello_files()
    files["service-staging.yaml"] = "spec:\n  scalability:\n    min_instances: many\n"
    on_disk = tmp_path / ".taxiway"
    on_disk.mkdir()
    for name, text in files.items():
        (on_disk / name).write_text(text, encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        service_files.load_all(service_files.find(on_disk / "service.yaml"))
    expected = [
        (f".taxiway/{Path(p.location.file).name}", p.location.line, p.location.column, p.message)
        for p in caught.value.problems
    ]
    found = problems_of(files)
    assert found == expected
    assert found[0][:3] == (".taxiway/service-staging.yaml", 3, 20)


def test_an_upload_with_crlf_line_ends_is_located_as_the_same_file_on_disk() -> None:
    files = hello_files()
    files["service-staging.yaml"] = "spec:\r\n  scalability:\r\n    min_instances: many\r\n"
    assert problems_of(files)[0][:3] == (".taxiway/service-staging.yaml", 3, 20)


def test_a_file_for_an_unknown_environment_is_named_in_the_upload() -> None:
    files = {**hello_files(), "env-qa.yaml": "A: b\n"}
    assert problems_of(files) == [(".taxiway/env-qa.yaml", 0, 0, "unknown environment in file name: 'qa'")]


def test_a_manifest_for_another_service_is_refused_naming_service_yaml() -> None:
    files = hello_files()
    files["service.yaml"] = files["service.yaml"].replace("name: hello", "name: other", 1)
    found = problems_of(files)
    assert (".taxiway/service.yaml", 0, 0, "the manifest is for another service") in found

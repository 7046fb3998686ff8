"""The artifact: the same directory always gives the same bytes, without caches, under the cap."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from taxiway.client import artifact
from tests.conftest import EXAMPLES


def service(root: Path) -> Path:
    (root / ".taxiway").mkdir(parents=True)
    (root / ".taxiway" / "service.yaml").write_text("apiVersion: taxiway/v1\n")
    (root / "app.py").write_text("print('hello')\n")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o700)
    (root / "lib").mkdir()
    (root / "lib" / "z.txt").write_text("z")
    (root / "lib" / "a.txt").write_text("a")
    for skipped in (".git", "__pycache__", ".venv", "node_modules", "lib/__pycache__"):
        (root / skipped).mkdir(parents=True, exist_ok=True)
        (root / skipped / "junk").write_text("x")
    (root / "link").symlink_to("app.py")
    return root


def members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        return archive.getmembers()


def test_same_directory_same_bytes_wherever_and_whenever(tmp_path: Path) -> None:
    first = artifact.build(service(tmp_path / "one"))
    copy = tmp_path / "elsewhere" / "two"
    shutil.copytree(tmp_path / "one", copy, symlinks=True)
    for path in copy.rglob("*"):
        if not path.is_symlink():
            os.utime(path, (1_000_000, 1_000_000))
    second = artifact.build(copy)
    assert first.data == second.data
    assert first.digest == second.digest
    assert first.digest.startswith("sha256:")
    assert len(first.digest) == 7 + 64


def test_a_changed_file_changes_the_digest(tmp_path: Path) -> None:
    root = service(tmp_path / "svc")
    before = artifact.build(root)
    (root / "app.py").write_text("print('changed')\n")
    assert artifact.build(root).digest != before.digest


def test_contents_sorted_owned_by_nobody_at_time_zero(tmp_path: Path) -> None:
    built = artifact.build(service(tmp_path / "svc"))
    found = members(built.data)
    names = [m.name for m in found]
    assert names == [
        ".taxiway",
        ".taxiway/service.yaml",
        "app.py",
        "lib",
        "lib/a.txt",
        "lib/z.txt",
        "link",
        "run.sh",
    ]
    assert built.files == 5
    for member in found:
        assert (member.mtime, member.uid, member.gid, member.uname, member.gname) == (0, 0, 0, "", "")
    by_name = {m.name: m for m in found}
    assert by_name["run.sh"].mode == 0o755
    assert by_name["app.py"].mode == 0o644
    assert by_name["link"].issym()
    assert by_name["link"].linkname == "app.py"
    header = gzip.GzipFile(fileobj=io.BytesIO(built.data))
    header.read(1)
    assert header.mtime == 0


def test_over_the_cap_is_a_clear_error(tmp_path: Path) -> None:
    root = service(tmp_path / "svc")
    (root / "big.bin").write_bytes(os.urandom(64 * 1024))
    with pytest.raises(artifact.ArtifactTooLarge) as caught:
        artifact.build(root, limit=16 * 1024)
    message = str(caught.value)
    assert str(root) in message
    assert "too large" in message
    assert "node_modules" in message


def test_the_example_service_fits_and_keeps_its_manifest() -> None:
    built = artifact.build(EXAMPLES / "hello")
    names = {m.name for m in members(built.data)}
    assert {"app.py", ".taxiway/service.yaml"} <= names
    assert len(built.data) < artifact.MAX_BYTES

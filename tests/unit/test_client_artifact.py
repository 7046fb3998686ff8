"""The artifact: the same directory always gives the same bytes, without caches, under the cap."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from taxiway.client import artifact, upload
from taxiway.spec import service_files
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
        "app.py",
        "lib",
        "lib/a.txt",
        "lib/z.txt",
        "link",
        "run.sh",
    ]
    assert built.files == 4
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


def test_the_example_service_fits_without_its_manifests_or_their_secret_values() -> None:
    """The manifests travel beside the artifact; the artifact sits on every region's disk and
    owners may download it, so a ``secret: true`` value must never be inside it."""
    found = upload.service_upload(service_files.find(EXAMPLES / "hello"))
    built = found.artifact
    names = {m.name for m in members(built.data)}
    assert "app.py" in names
    assert not [n for n in names if n == ".taxiway" or n.startswith(".taxiway/")], names
    secret = b"not-a-real-token"  # examples/hello's `secret: true` API_TOKEN
    assert secret in (EXAMPLES / "hello" / ".taxiway" / "service.yaml").read_bytes()
    with tarfile.open(fileobj=io.BytesIO(built.data), mode="r:gz") as archive:
        contents = b"".join(
            handle.read()
            for member in archive.getmembers()
            if member.isfile() and (handle := archive.extractfile(member)) is not None
        )
    assert secret not in contents
    assert len(built.data) < artifact.MAX_BYTES


def test_a_manifest_file_outside_taxiway_is_left_out_too(tmp_path: Path) -> None:
    root = tmp_path / "svc"
    root.mkdir()
    (root / "app.py").write_text("print('hello')\n")
    (root / "svc.yaml").write_text("secret: in-here\n")
    (root / "config").mkdir()
    (root / "config" / "svc.yaml").write_text("kept: a file of the app with the same name\n")
    built = artifact.build(root, manifests=[root / "svc.yaml", tmp_path / "elsewhere.yaml"])
    assert [m.name for m in members(built.data)] == ["app.py", "config", "config/svc.yaml"]

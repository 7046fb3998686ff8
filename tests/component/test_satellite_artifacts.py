"""Artifacts on disk: verified by digest, extracted atomically, hostile archives refused."""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from taxiway.satellite import artifacts


def archive(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def file(name: str, data: bytes, mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    return info, data


def special(name: str, kind: bytes, target: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_an_artifact_is_extracted_once_under_its_digest(tmp_path: Path) -> None:
    data = archive(
        file("app.py", b"print('hi')\n"), file("lib/util.py", b"X = 1\n"), file("run.sh", b"", 0o4755)
    )
    cache = artifacts.ArtifactCache(tmp_path / "artifacts")
    downloads: list[str] = []

    def download(digest: str) -> bytes:
        downloads.append(digest)
        return data

    directory = cache.fetch(digest_of(data), download)
    assert directory == tmp_path / "artifacts" / digest_of(data).removeprefix("sha256:")
    assert (directory / "app.py").read_text() == "print('hi')\n"
    assert (directory / "lib" / "util.py").exists()
    assert not (directory / "run.sh").stat().st_mode & 0o4000, "set-uid bits are dropped"
    assert cache.fetch(digest_of(data), download) == directory
    assert len(downloads) == 1
    assert [p.name for p in (tmp_path / "artifacts").iterdir()] == [directory.name]


def test_bytes_that_do_not_match_their_digest_are_refused(tmp_path: Path) -> None:
    cache = artifacts.ArtifactCache(tmp_path)
    data = archive(file("app.py", b"x"))
    wanted = "sha256:" + "0" * 64
    with pytest.raises(artifacts.ArtifactRejected, match="hash to"):
        cache.fetch(wanted, lambda _digest: data)
    assert not cache.present(wanted)
    assert cache.rejection(wanted) is not None


HOSTILE: dict[str, Callable[[], bytes]] = {
    "absolute path": lambda: archive(file("/etc/evil", b"x")),
    "parent directory": lambda: archive(file("../evil", b"x")),
    "nested parent": lambda: archive(file("lib/../../evil", b"x")),
    "symlink": lambda: archive(special("link", tarfile.SYMTYPE, "/etc/passwd")),
    "hard link": lambda: archive(file("a", b"x"), special("b", tarfile.LNKTYPE, "a")),
    "device": lambda: archive(special("dev", tarfile.CHRTYPE)),
    "fifo": lambda: archive(special("pipe", tarfile.FIFOTYPE)),
    "not a tar.gz": lambda: b"\x1f\x8b not really gzip",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_archives_are_refused_and_leave_nothing_behind(tmp_path: Path, kind: str) -> None:
    data = HOSTILE[kind]()
    cache = artifacts.ArtifactCache(tmp_path / "artifacts")
    with pytest.raises(artifacts.ArtifactRejected):
        cache.fetch(digest_of(data), lambda _digest: data)
    assert not cache.present(digest_of(data))
    assert list((tmp_path / "artifacts").iterdir()) == []
    assert not (tmp_path / "evil").exists()


def test_size_and_count_caps(tmp_path: Path) -> None:
    big = archive(file("a", b"x" * 600), file("b", b"y" * 600))
    small = artifacts.ArtifactCache(tmp_path / "a", artifacts.Limits(max_bytes=1000))
    with pytest.raises(artifacts.ArtifactRejected, match="more than 1000 bytes"):
        small.fetch(digest_of(big), lambda _digest: big)
    few = artifacts.ArtifactCache(tmp_path / "b", artifacts.Limits(max_members=1))
    with pytest.raises(artifacts.ArtifactRejected, match="more than 1 files"):
        few.fetch(digest_of(big), lambda _digest: big)

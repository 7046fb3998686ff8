"""The one atomic file write, and the JSON files written with it: content, mode, a crash mid-write."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TextIO

import pytest

from taxiway.system import atomic_file, json_file


def test_the_new_content_replaces_the_old(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old\n")
    atomic_file.write_text(target, "new\n")
    assert target.read_text() == "new\n"
    assert os.listdir(tmp_path) == ["state.json"]  # no temporary file left behind


def test_both_the_file_and_its_directory_are_synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append("directory" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    atomic_file.write_text(tmp_path / "config.cfg", "global\n")
    # The file before its rename, the directory after: else a power loss may lose either.
    assert synced == ["file", "directory"]


def test_a_private_file_is_never_wider_than_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "token"
    seen: list[int] = []

    def fill(file: TextIO) -> None:
        seen.append(stat.S_IMODE(os.fstat(file.fileno()).st_mode))  # before any byte is in it
        file.write("secret\n")

    # A temporary file left (0644) by a crashed earlier write of this process's pid.
    leftover = tmp_path / f".token.{os.getpid()}.tmp"
    leftover.write_text("")
    leftover.chmod(0o644)
    atomic_file.write(target, fill, mode=0o600)
    assert seen == [0o600]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text() == "secret\n"


def test_without_a_mode_the_umask_decides(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        atomic_file.write_text(tmp_path / "ports.json", "{}\n")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "ports.json").stat().st_mode) == 0o644


def test_a_crash_mid_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "pop-config.json"
    target.write_text('{"version": 1}\n')

    def crash(file: TextIO) -> None:
        file.write('{"vers')
        raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError, match="the disk is full"):
        atomic_file.write(target, crash)
    assert target.read_text() == '{"version": 1}\n'
    assert os.listdir(tmp_path) == ["pop-config.json"]


def test_a_missing_directory_is_an_os_error_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_file.write_text(tmp_path / "absent" / "file", "x")
    assert os.listdir(tmp_path) == []


def test_a_json_file_reads_back_or_reads_as_absent(tmp_path: Path) -> None:
    target = tmp_path / "ports.json"
    json_file.write(target, {"listen": "127.0.0.1:8080"}, mode=0o600)
    assert json_file.read(target) == {"listen": "127.0.0.1:8080"}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json_file.read(tmp_path / "missing.json") is None
    for torn in (b'{"listen": "127.', b"\xff\xfe", b"[1, 2]"):
        target.write_bytes(torn)
        assert json_file.read(target) is None
    assert json_file.read(tmp_path) is None  # a directory: unreadable, so absent

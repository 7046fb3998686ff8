"""A pid file held under ``flock``: at most one supervisor per dev directory.

The lock, not the pid written in the file, is what counts: the kernel drops it when its
holder dies however it dies (``kill -9`` included), so a stale file never blocks a new
supervisor, and a running one is never mistaken for a dead one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from taxiway.errors import TaxiwayError


class AlreadyRunning(TaxiwayError):
    """Another process holds the lock."""

    code = "already-running"

    def __init__(self, path: Path, pid: int | None) -> None:
        self.pid = pid
        super().__init__(f"{path} is held by process {pid if pid is not None else '(unknown)'}")


@contextlib.contextmanager
def hold(path: Path) -> Iterator[None]:
    """Take the lock and write our pid, for as long as the block runs; or raise AlreadyRunning."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(path, read_pid(path)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def is_held(path: Path) -> bool:
    """Whether some process holds the lock now."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Wait for and hold a plain lock file (serialises ``dev up`` and ``dev down``)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def read_pid(path: Path) -> int | None:
    """The pid written in the file (meaningful only while :func:`is_held`)."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None

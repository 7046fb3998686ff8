"""Per-instance log files with size-based rotation, and reading their tail back.

The writer runs inside each instance's shim process (:mod:`taxiway.runtime.shim`), the one
process that holds the read end of the instance's output pipe; the reader is used by the
``local`` driver's ``logs``. Files are ``instance.log`` (newest), then ``instance.log.1`` …
``instance.log.<keep>`` (oldest). No file ever grows past ``max_bytes``: output is split
at the last newline that fits, or hard-split when a single line is longer than the bound.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Rotation:
    max_bytes: int = 10 * 1024 * 1024
    keep: int = 3
    """Rotated files kept besides the current one; at most ``(keep + 1) * max_bytes`` on disk."""


class RotatingLog:
    """Appends bytes to ``path``, rotating before a write would pass ``max_bytes``."""

    def __init__(self, path: Path, rotation: Rotation) -> None:
        self._path = path
        self._rotation = rotation
        self._fd = self._open()
        self._size = os.fstat(self._fd).st_size

    def _open(self) -> int:
        return os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)

    def _rotate(self) -> None:
        os.close(self._fd)
        keep = self._rotation.keep
        if keep == 0:
            self._path.unlink(missing_ok=True)
        else:
            for index in range(keep - 1, 0, -1):
                older = self._path.with_name(f"{self._path.name}.{index}")
                if older.exists():
                    os.replace(older, self._path.with_name(f"{self._path.name}.{index + 1}"))
            if self._path.exists():
                os.replace(self._path, self._path.with_name(f"{self._path.name}.1"))
        self._fd = self._open()
        self._size = 0

    def write(self, data: bytes) -> None:
        limit = self._rotation.max_bytes
        while data:
            room = limit - self._size
            if len(data) <= room:
                chunk, data = data, b""
            else:
                cut = data.rfind(b"\n", 0, room) + 1
                if cut == 0 and self._size > 0:
                    self._rotate()  # the line fits better at the start of a fresh file
                    continue
                cut = cut or room
                chunk, data = data[:cut], data[cut:]
            while chunk:
                written = os.write(self._fd, chunk)
                self._size += written
                chunk = chunk[written:]
            if data:
                self._rotate()

    def close(self) -> None:
        os.close(self._fd)


def files(path: Path, keep: int) -> list[Path]:
    """The log files that exist, oldest first."""
    candidates = [path.with_name(f"{path.name}.{index}") for index in range(keep, 0, -1)] + [path]
    return [candidate for candidate in candidates if candidate.exists()]


def tail(path: Path, keep: int, lines: int) -> list[str]:
    """The last ``lines`` lines across the current and rotated files."""
    if lines <= 0:
        return []
    collected: list[str] = []
    for candidate in reversed(files(path, keep)):
        try:
            text = candidate.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:  # rotated away while we read
            continue
        collected = text.splitlines() + collected
        if len(collected) >= lines:
            break
    return collected[-lines:]

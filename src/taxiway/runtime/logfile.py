"""Per-instance log files with size-based rotation, and reading their tail back.

The writer runs inside each instance's shim process (:mod:`taxiway.runtime.shim`), the one
process that holds the read end of the instance's output pipe; the reader is used by the
``local`` driver's ``logs``. Files are ``instance.log`` (newest), then ``instance.log.1`` …
``instance.log.<keep>`` (oldest). No file ever grows past ``max_bytes``: output is split
at the last newline that fits, or hard-split when a single line is longer than the bound.

Every line starts with the time the shim read it, RFC 3339 in UTC with milliseconds and
one space (``2026-12-01T09:10:11.123Z GET / HTTP/1.1 200``, as ``kubectl logs
--timestamps`` prints): :class:`Stamper` adds it, :func:`split_stamp` takes it apart. The
fixed width makes the stamps of one file sort as text, which ``--since`` relies on.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass
from pathlib import Path

MAX_TAIL = 10_000
"""The most lines one read of an instance's log returns (the satellite API's bound)."""
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) ")


def stamp(epoch_seconds: float) -> str:
    """``2026-12-01T09:10:11.123Z``: the stamp of a line read at ``epoch_seconds``."""
    moment = datetime.datetime.fromtimestamp(epoch_seconds, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def split_stamp(line: str) -> tuple[str | None, str]:
    """(stamp, text) of a log line; ``None`` for a line written without one."""
    found = _STAMP.match(line)
    if found is None:
        return None, line
    return found.group(1), line[found.end() :]


def unstamped(line: str) -> str:
    return split_stamp(line)[1]


class Stamper:
    """Puts a stamp at the start of every line of a byte stream that arrives in chunks."""

    def __init__(self) -> None:
        self._at_line_start = True

    def apply(self, data: bytes, epoch_seconds: float) -> bytes:
        if not data:
            return data
        prefix = (stamp(epoch_seconds) + " ").encode()
        pieces = data.split(b"\n")
        last = len(pieces) - 1
        # Piece 0 continues a line from the chunk before unless that one ended with a
        # newline; the last piece is empty when this chunk ends one (no line begun yet).
        body = b"\n".join(
            prefix + piece
            if (index > 0 or self._at_line_start) and not (index == last and not piece)
            else piece
            for index, piece in enumerate(pieces)
        )
        self._at_line_start = data.endswith(b"\n")
        return body


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


def since(lines: list[str], moment: str) -> list[str]:
    """The lines stamped at or after ``moment`` (a stamp, as :func:`stamp` writes them).

    Lines without a stamp (written before stamping began) have no time, so none is shown.
    """
    kept = []
    for line in lines:
        written, _ = split_stamp(line)
        if written is not None and written >= moment:
            kept.append(line)
    return kept

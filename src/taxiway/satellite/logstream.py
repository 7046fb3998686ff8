"""Following an instance's log as it grows, for ``GET /v1/logs/...?follow=true``.

Two ways, chosen by what the runtime offers (:class:`~taxiway.satellite.runtimes.Runtime`):

- :class:`FileFollower` reads the instance's current log file (``local``: written by its
  shim, rotated by size). It keeps the open file and notices a rotation when the path
  names another inode: it reads what is left of the old file, then continues from the
  start of the new one, so no line is lost or repeated across a rotation. A file that
  shrank (truncated) is read again from its start.
- :class:`DriverFollower` polls the driver's ``logs`` and passes on the lines past those
  already seen (``fake``, whose logs only ever grow).

Both are polled by the API's request thread; neither blocks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, Protocol

from taxiway.runtime import driver

DRIVER_WINDOW = 10_000


class Follower(Protocol):
    def read(self) -> list[str]:
        """Complete lines written since the last call."""
        ...

    def close(self) -> None: ...


class FileFollower:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: BinaryIO | None = None
        self._inode: int | None = None
        self._partial = b""
        self._open(at_end=True)

    def _open(self, *, at_end: bool) -> None:
        try:
            handle = open(self._path, "rb")  # noqa: SIM115 - held open across calls on purpose
        except FileNotFoundError:
            self._file, self._inode = None, None
            return
        if at_end:
            handle.seek(0, os.SEEK_END)
        self._file, self._inode = handle, os.fstat(handle.fileno()).st_ino

    def _drain(self) -> list[str]:
        if self._file is None:
            return []
        data = self._partial + self._file.read()
        *lines, self._partial = data.split(b"\n")
        return [line.decode("utf-8", errors="replace") for line in lines]

    def read(self) -> list[str]:
        try:
            current = os.stat(self._path)
        except FileNotFoundError:
            current = None
        if self._file is None:
            if current is None:
                return []
            self._open(at_end=False)  # created since we looked: read it from its start
            return self._drain()
        if current is not None and current.st_ino != self._inode:
            lines = self._drain()  # the rest of the rotated file, then the new one
            self._file.close()
            self._open(at_end=False)
            return lines + self._drain()
        if current is not None and current.st_size < self._file.tell():
            self._file.seek(0)
            self._partial = b""
        return self._drain()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class DriverFollower:
    def __init__(self, runtime: driver.RuntimeDriver, instance_id: str) -> None:
        self._runtime = runtime
        self._instance_id = instance_id
        self._seen = len(self._lines())

    def _lines(self) -> list[str]:
        try:
            return list(self._runtime.logs(self._instance_id, tail=DRIVER_WINDOW))
        except driver.RuntimeFailure:
            return []

    def read(self) -> list[str]:
        lines = self._lines()
        if len(lines) < self._seen:  # the instance was forgotten and started anew
            self._seen = 0
        new, self._seen = lines[self._seen :], len(lines)
        return new

    def close(self) -> None:
        pass

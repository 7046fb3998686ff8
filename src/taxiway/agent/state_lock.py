"""One agent per state directory: an exclusive ``flock`` on a lock file inside it.

Taken by :meth:`taxiway.satellite.app.Satellite.start` and :meth:`taxiway.edge.app.Edge.start`
before they touch anything in their state directory, released by their ``stop``. A second
agent started with the same directory gets a clear error instead of two processes
writing one store. The kernel drops the lock when the process dies, so a ``kill -9``
leaves nothing to clean up.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from taxiway.errors import ConfigurationError


class StateLock:
    def __init__(self, lock_file: Path, who: str) -> None:
        """``who`` runs with the directory (``"satellite"``), for the error message."""
        self._lock_file = lock_file
        self._who = who
        self._fd: int | None = None

    def take(self, state_dir: Path, *, mode: int = 0o777) -> None:
        """Create ``state_dir`` (with ``mode`` when new) and lock it, or raise
        :class:`ConfigurationError` when another agent holds it."""
        state_dir.mkdir(mode=mode, parents=True, exist_ok=True)
        fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ConfigurationError(
                f"{state_dir}: another {self._who} runs with this state directory"
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

"""A SQLite database file only its owner may read: the control plane's store and a satellite's.

Both hold sealed secrets (and the control plane token hashes), so the file is created 0600
before SQLite opens it, in a directory created 0700. SQLite gives the ``-wal`` and ``-shm``
files it creates the database file's mode; ones left by an older version are narrowed too.
"""

from __future__ import annotations

import os
from pathlib import Path

from taxiway.errors import ConfigurationError


def make_private(path: Path, what: str) -> None:
    """Create ``path`` (and its directory) private, or narrow what exists; ``what`` names
    the store in the error."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
        for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
            if (path.parent / name).exists():
                os.chmod(path.parent / name, 0o600)
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot create {what} ({exc.strerror})") from exc

"""A file replaced atomically and durably: the one way Taxiway writes a file it reads back.

Called for the ``local`` driver's state files, HAProxy's config and server state, the
ingress's and the edge's kept ports and maps, the edge's cached PoP config, and the dev
world's private files (tokens, ``dev.json``). It lives in :mod:`taxiway.system`, below
every adapter, because the runtime and HAProxy adapters need it and may not import each
other.

A crash at any point leaves the old file or the new one, never half of one, and once
:func:`write` returns the new one survives a power loss: the content goes to a temporary
file in the same directory, which is flushed and ``fsync``-ed, renamed over the target,
and then the directory is ``fsync``-ed so the rename itself is on disk. With ``mode``, the
temporary file has that mode before a byte is written into it, so a file only its owner
may read (``0o600``) never exists with a wider mode, not even for a moment. If filling the
file fails, the temporary file is removed and the target is untouched.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TextIO


def write(path: Path, fill: Callable[[TextIO], object], *, mode: int | None = None) -> None:
    """Replace ``path`` with what ``fill`` writes into the (text, UTF-8) file it is given.

    ``mode``: the new file's permission bits (e.g. ``0o600``); ``None`` leaves them to the
    umask, as :func:`open` does.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
    fd = os.open(temporary, flags, 0o666 if mode is None else mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            if mode is not None:
                os.fchmod(file.fileno(), mode)  # O_CREAT keeps a leftover file's wider mode
            fill(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    _sync_directory(path.parent)


def write_text(path: Path, text: str, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``text``; see :func:`write`."""
    write(path, lambda file: file.write(text), mode=mode)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

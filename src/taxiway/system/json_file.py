"""A JSON object kept in a file: replaced atomically, and read back as absent when it is
missing or unreadable.

The one reader and writer of Taxiway's small JSON files: the ``local`` driver's state
files (:mod:`taxiway.runtime.statefile`), the dev world's private files
(:mod:`taxiway.dev.private_file`), the ingress's kept ports and shape, the edge's kept
addresses. A file that is missing, not readable, not UTF-8, not JSON, or not a JSON object
reads as ``None``: its owner starts afresh, as when it was never written (the write went to
a temporary file, so a torn file is never what a crash leaves).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from taxiway.system import atomic_file


def write(
    path: Path, document: dict[str, Any], *, indent: int | None = None, mode: int | None = None
) -> None:
    """Replace ``path`` with ``document`` (keys sorted); ``mode`` as for
    :func:`taxiway.system.atomic_file.write`."""
    atomic_file.write_text(path, json.dumps(document, indent=indent, sort_keys=True) + "\n", mode=mode)


def read(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``; ``None`` when it is missing, unreadable or not an object."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # ValueError: not UTF-8 or not JSON
        return None
    return document if isinstance(document, dict) else None

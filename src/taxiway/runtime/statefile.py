"""Small JSON state files, written atomically, for the ``local`` driver and its shims.

A crash at any point leaves either the old or the new file, never half of one
(:func:`taxiway.system.atomic_file.write`). Readers treat a missing or unreadable file as
absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from taxiway.system import atomic_file


def write(path: Path, document: dict[str, Any]) -> None:
    atomic_file.write(path, lambda file: json.dump(document, file, sort_keys=True))


def read(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None

"""Small JSON state files, written atomically, for the ``local`` driver and its shims.

A crash at any point leaves either the old or the new file, never half of one: each write
goes to a temporary file in the same directory, is flushed to disk, then renamed over the
target. Readers treat a missing or unreadable file as absent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write(path: Path, document: dict[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump(document, file, sort_keys=True)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def read(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None

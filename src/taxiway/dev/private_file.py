"""Files only their owner may read (mode 0600), written atomically: tokens and dev.json.

A reader sees the old file or the new one, never half of one, and never a moment where
the file exists with a wider mode (:func:`taxiway.system.atomic_file.write` with ``mode``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from taxiway.system import atomic_file, json_file


def write_text(path: Path, text: str) -> None:
    atomic_file.write_text(path, text, mode=0o600)


def write_json(path: Path, document: dict[str, Any]) -> None:
    json_file.write(path, document, indent=2, mode=0o600)


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``; ``None`` when it is missing, unreadable or not a JSON object."""
    return json_file.read(path)

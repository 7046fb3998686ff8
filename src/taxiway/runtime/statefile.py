"""Small JSON state files, written atomically, for the ``local`` driver and its shims.

Compact, written and read by :mod:`taxiway.system.json_file`: a crash at any point leaves
either the old or the new file, never half of one; readers treat a missing or unreadable
file as absent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from taxiway.system import json_file


def write(path: Path, document: dict[str, Any]) -> None:
    json_file.write(path, document)


def read(path: Path) -> dict[str, Any] | None:
    return json_file.read(path)

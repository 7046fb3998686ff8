"""Unused artifacts leave the satellite's disk; what runs, what is wanted and a spare stay.

Real directories under tmp_path, with their install times set through ``os.utime``.
"""

from __future__ import annotations

import os
from pathlib import Path

from taxiway.satellite import artifacts

NOW = 1_800_000_000.0


def installed(cache: artifacts.ArtifactCache, name: str, age: float) -> Path:
    path = cache.root / name
    (path / "app").mkdir(parents=True)
    (path / "app" / "main.py").write_text("print('hi')\n")
    os.utime(path, (NOW - age, NOW - age))
    return path


def test_what_nothing_needs_is_deleted_but_the_newest_spares(tmp_path: Path) -> None:
    cache = artifacts.ArtifactCache(tmp_path / "artifacts")
    for index in range(6):  # a01 is the newest, a06 the oldest
        installed(cache, f"a{index + 1:02d}", age=3600.0 * (index + 1))
    wanted = installed(cache, "current", age=86_400.0)
    deleted = cache.collect({"current"}, NOW)
    assert sorted(deleted) == ["a03", "a04", "a05", "a06"]
    assert sorted(p.name for p in cache.root.iterdir()) == ["a01", "a02", "current"]
    assert (wanted / "app" / "main.py").is_file()


def test_a_fresh_install_and_a_killed_extraction(tmp_path: Path) -> None:
    cache = artifacts.ArtifactCache(tmp_path / "artifacts")
    for index in range(3):
        installed(cache, f"old{index}", age=7200.0 + index)
    installed(cache, "fresh", age=10.0)  # fetched for a definition the reconciler has not read yet
    installed(cache, ".incoming-abc-1", age=2 * artifacts.INCOMING_SECONDS)
    installed(cache, ".incoming-def-2", age=5.0)  # an extraction under way
    cache.collect(set(), NOW)
    names = sorted(p.name for p in cache.root.iterdir())
    assert names == [".incoming-def-2", "fresh", "old0", "old1"]


def test_a_missing_root_collects_nothing(tmp_path: Path) -> None:
    assert artifacts.ArtifactCache(tmp_path / "nowhere").collect(set(), NOW) == []

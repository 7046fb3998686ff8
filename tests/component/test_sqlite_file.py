"""Store files are private: the control plane's SQLite and a satellite's, new or left by an older version."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from taxiway.satellite.localstore import LocalStore
from taxiway.sealing.keys import Sealer
from taxiway.store.sql import SqlStore


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_control_plane_database_is_0600_in_a_0700_directory(tmp_path: Path) -> None:
    path = tmp_path / "data" / "taxiway.db"
    store = SqlStore.open(f"sqlite:///{path}")
    store.sync_services({"hello": {}}, actor="test")
    assert mode(path.parent) == 0o700
    files = sorted(path.parent.iterdir())
    assert files, "the database was created"
    assert all(mode(p) == 0o600 for p in files), [(p.name, oct(mode(p))) for p in files]
    store.close()


def test_an_existing_wide_store_is_narrowed(tmp_path: Path) -> None:
    path = tmp_path / "satellite.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (x)")
    for p in tmp_path.iterdir():
        p.chmod(0o644)
    store = LocalStore(path, Sealer.generate())
    assert all(mode(p) == 0o600 for p in tmp_path.glob("satellite.db*"))
    store.close()

"""The satellite's local store on a real SQLite file: durability rules, sealing, resync."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taxiway.satellite import localstore
from taxiway.sealing.keys import Sealer
from taxiway.wire import feed

KEY = ("hello", "production")


def definition(revision: int, secret: str = "s3cr3t-value") -> dict[str, Any]:
    return {
        "service": "hello",
        "environment": "production",
        "region": "us-east1",
        "revision": revision,
        "spec": {"env": {"API_TOKEN": {"secret": True, "digest": "sha256:" + "0" * 64, "value": secret}}},
    }


def item(seq: int, revision: int, *, removed: bool = False, service: str = "hello") -> feed.Item:
    return feed.Item(
        service=service,
        environment="production",
        revision=revision,
        seq=seq,
        artifact=None,
        definition=None if removed else definition(revision),
    )


def batch(cursor: int, *items: feed.Item, failed: frozenset[tuple[str, str]] | None = None) -> feed.Batch:
    return feed.Batch(cursor=cursor, items=tuple(items), failed_nodes=failed)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[localstore.LocalStore]:
    opened = localstore.LocalStore(tmp_path / "satellite.db", Sealer.from_file(tmp_path / "key", create=True))
    yield opened
    opened.close()


def revisions(store: localstore.LocalStore) -> dict[tuple[str, str], int | None]:
    return {e.key: (None if e.definition is None else e.revision) for e in store.entries()}


def test_secrets_are_sealed_on_disk_and_unsealed_for_the_reconciler(tmp_path: Path) -> None:
    store = localstore.LocalStore(tmp_path / "satellite.db", Sealer.from_file(tmp_path / "key", create=True))
    store.apply(batch(5, item(5, 1)))
    (entry,) = store.entries()
    assert entry.definition is not None
    assert entry.definition["spec"]["env"]["API_TOKEN"]["value"] == "s3cr3t-value"
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("satellite.db*"))
    assert b"s3cr3t-value" not in raw
    assert b"sealed" in raw

    other_key = localstore.LocalStore(tmp_path / "satellite.db", Sealer.generate())
    (locked,) = other_key.entries()
    assert locked.problem is not None
    assert "cannot be opened" in locked.problem
    assert locked.definition is not None  # still a definition, not a tombstone
    other_key.close()


def test_a_batch_survives_a_restart_with_its_cursor_and_failed_nodes(tmp_path: Path) -> None:
    sealer = Sealer.from_file(tmp_path / "key", create=True)
    store = localstore.LocalStore(tmp_path / "satellite.db", sealer)
    store.apply(batch(9, item(8, 2), failed=frozenset({("us-east1-b", "node-1")})))
    store.close()
    again = localstore.LocalStore(tmp_path / "satellite.db", sealer)
    assert again.cursor == 9
    assert again.failed_nodes == {("us-east1-b", "node-1")}
    assert revisions(again) == {KEY: 2}
    again.close()


def test_empty_batches_change_nothing_but_the_cursor(store: localstore.LocalStore) -> None:
    store.apply(batch(5, item(5, 1), failed=frozenset({("us-east1-b", "node-1")})))
    applied = store.apply(batch(7))
    assert not applied.anything
    assert store.cursor == 7
    assert revisions(store) == {KEY: 1}
    unknown_nodes = store.apply(batch(8, failed=None))  # an answer that does not say
    assert not unknown_nodes.failed_nodes_changed
    assert store.failed_nodes == {("us-east1-b", "node-1")}


def test_only_a_newer_change_applies_and_a_newer_tombstone_removes(store: localstore.LocalStore) -> None:
    store.apply(batch(10, item(10, 2)))
    assert store.apply(batch(11, item(9, 1))).changed == ()  # an older change arriving late
    assert revisions(store) == {KEY: 2}
    applied = store.apply(batch(12, item(12, 2, removed=True)))
    assert applied.changed == (KEY,)
    assert revisions(store) == {KEY: None}


def test_after_a_control_plane_reset_absence_and_old_tombstones_remove_nothing(
    store: localstore.LocalStore,
) -> None:
    store.apply(batch(40, item(30, 5), item(40, 7, service="other"), item(35, 2, service="third")))
    store.begin_resync(control_plane_cursor=12)  # the control plane restarted from a backup
    assert store.cursor == 0
    # Read again from 0: "other" was removed in the backup's past, "third" is not mentioned.
    applied = store.apply(batch(12, item(3, 4), item(11, 6, removed=True, service="other")))
    assert applied.changed == (KEY,)
    assert applied.ignored == (("other", "production"),)
    assert revisions(store) == {KEY: 4, ("other", "production"): 7, ("third", "production"): 2}
    # A removal made after the reset is a new, explicit change: it applies.
    store.apply(batch(13, item(13, 7, removed=True, service="other")))
    assert revisions(store)[("other", "production")] is None
    assert store.cursor == 13


def test_the_store_file_uses_wal(tmp_path: Path, store: localstore.LocalStore) -> None:
    with sqlite3.connect(tmp_path / "satellite.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

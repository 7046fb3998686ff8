"""The satellite's own store: the last desired state it was given, durable before it acts.

A SQLite file (WAL, ``synchronous=FULL``) beside the satellite. The puller writes each
feed answer in **one transaction** (definitions, cursor and failed nodes together) and only
then wakes the reconciler, so a satellite that restarts, or whose control plane is gone,
runs exactly what it last acknowledged. Secret env values arrive in plain text and are
sealed with the satellite's own key before they are written; :meth:`LocalStore.entries`
unseals them for the reconciler.

Which change wins (DESIGN principle 2: only an explicit, newer change removes anything):

- Every row carries the ``seq`` the control plane gave it and the *epoch* it was written
  in. Within an epoch a change applies only if its ``seq`` is newer than the row's.
- When the control plane's cursor goes backwards (it was restored or reset), the puller
  calls :meth:`LocalStore.begin_resync`: a new epoch starts and the feed is read again
  from 0. The control plane's definitions then replace ours (it is the authority on what
  runs), but a tombstone that predates the reset (``seq`` at or below the cursor the
  control plane had when the reset was noticed) cannot remove a row of an older epoch:
  it may be a deletion the restored control plane forgot was undone. Rows the control
  plane does not mention are kept; absence is never removal.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taxiway.errors import ConfigurationError, TaxiwayError
from taxiway.sealing.definitions import seal_values, strip_values, unseal_values
from taxiway.sealing.keys import Sealer
from taxiway.store import sqlite_file
from taxiway.wire import feed

SCHEMA = """
CREATE TABLE IF NOT EXISTS definitions (
    service     TEXT    NOT NULL,
    environment TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    epoch       INTEGER NOT NULL,
    artifact    TEXT,
    definition  TEXT,                -- JSON with secrets sealed; NULL is a tombstone
    PRIMARY KEY (service, environment)
);
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class StoreClosed(TaxiwayError):
    """The satellite is stopping and its store is closed; nothing was written."""

    code = "store-closed"


@dataclass(frozen=True)
class Entry:
    """One (service, environment) as last acknowledged; ``definition`` unsealed."""

    service: str
    environment: str
    revision: int
    seq: int
    artifact: str | None
    definition: dict[str, Any] | None
    """``None``: a tombstone (the service was removed from the region)."""
    problem: str | None = None
    """Set when the stored definition cannot be opened (its secrets were sealed with another key)."""

    @property
    def key(self) -> feed.Key:
        return (self.service, self.environment)


@dataclass(frozen=True)
class Applied:
    changed: tuple[feed.Key, ...] = ()
    ignored: tuple[feed.Key, ...] = ()
    """Tombstones older than a control-plane reset, kept out (see the module docstring)."""
    failed_nodes_changed: bool = False
    cursor: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.changed) or self.failed_nodes_changed


@dataclass
class _Meta:
    cursor: int = 0
    epoch: int = 0
    reset_cursor: int = 0
    failed_nodes: frozenset[feed.NodeRef] = field(default_factory=frozenset)


class LocalStore:
    """The local store at ``path``; thread-safe (one connection behind a lock)."""

    def __init__(self, path: Path, sealer: Sealer) -> None:
        sqlite_file.make_private(path, "the satellite's store")
        self._sealer = sealer
        self._lock = threading.Lock()
        self._closed = False
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise ConfigurationError(f"{path}: cannot open the satellite's store ({exc})") from exc
        self._meta = self._read_meta()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._db.close()

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise StoreClosed("the satellite's store is closed")
            yield self._db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connection():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read_meta(self) -> _Meta:
        with self._connection() as db:
            rows = dict(db.execute("SELECT name, value FROM meta").fetchall())
        nodes = json.loads(rows.get("failed_nodes", "[]"))
        return _Meta(
            cursor=int(rows.get("cursor", 0)),
            epoch=int(rows.get("epoch", 0)),
            reset_cursor=int(rows.get("reset_cursor", 0)),
            failed_nodes=frozenset((d, n) for d, n in nodes),
        )

    @staticmethod
    def _write_meta(db: sqlite3.Connection, meta: _Meta) -> None:
        values = {
            "cursor": str(meta.cursor),
            "epoch": str(meta.epoch),
            "reset_cursor": str(meta.reset_cursor),
            "failed_nodes": json.dumps(sorted(meta.failed_nodes)),
        }
        db.executemany("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", values.items())

    # -- reading ------------------------------------------------------------------------

    @property
    def cursor(self) -> int:
        return self._meta.cursor

    @property
    def failed_nodes(self) -> frozenset[feed.NodeRef]:
        return self._meta.failed_nodes

    def entries(self, keys: Iterable[feed.Key] | None = None) -> list[Entry]:
        """Every stored (service, environment), or those of ``keys``; tombstones included,
        secrets unsealed."""
        columns = "SELECT service, environment, revision, seq, artifact, definition FROM definitions"
        with self._connection() as db:
            if keys is None:
                rows = db.execute(f"{columns} ORDER BY service, environment").fetchall()
            else:
                rows = []
                for key in sorted(set(keys)):
                    rows.extend(
                        db.execute(f"{columns} WHERE service = ? AND environment = ?", key).fetchall()
                    )
        entries = []
        for service, environment, revision, seq, artifact, text in rows:
            definition, problem = None, None
            if text is not None:
                sealed = json.loads(text)
                try:
                    definition = unseal_values(sealed, self._sealer)
                except ConfigurationError as exc:
                    problem = f"the stored definition cannot be opened: {exc}"
                    definition = strip_values(sealed)
            entries.append(Entry(service, environment, revision, seq, artifact, definition, problem))
        return entries

    def artifacts(self) -> set[str]:
        """Artifacts the stored definitions (not tombstones) need."""
        with self._connection() as db:
            rows = db.execute(
                "SELECT DISTINCT artifact FROM definitions "
                "WHERE artifact IS NOT NULL AND definition IS NOT NULL"
            ).fetchall()
        return {row[0] for row in rows}

    # -- writing ------------------------------------------------------------------------

    def begin_resync(self, control_plane_cursor: int) -> None:
        """The control plane's cursor went backwards: start a new epoch and read from 0."""
        meta = _Meta(
            cursor=0,
            epoch=self._meta.epoch + 1,
            reset_cursor=control_plane_cursor,
            failed_nodes=self._meta.failed_nodes,
        )
        with self._transaction() as db:
            self._write_meta(db, meta)
        self._meta = meta

    def apply(self, batch: feed.Batch) -> Applied:
        """Write one feed answer in one transaction; see the module docstring for who wins."""
        meta = self._meta
        changed: list[feed.Key] = []
        ignored: list[feed.Key] = []
        with self._transaction() as db:
            for item in batch.items:
                row = db.execute(
                    "SELECT seq, epoch FROM definitions WHERE service = ? AND environment = ?", item.key
                ).fetchone()
                if row is not None:
                    seq, epoch = row
                    if epoch == meta.epoch and item.seq <= seq:
                        continue  # already have this or a newer change
                    if epoch < meta.epoch and item.definition is None and item.seq <= meta.reset_cursor:
                        ignored.append(item.key)
                        continue
                text = None
                if item.definition is not None:
                    text = json.dumps(seal_values(item.definition, self._sealer), sort_keys=True)
                db.execute(
                    "INSERT OR REPLACE INTO definitions "
                    "(service, environment, revision, seq, epoch, artifact, definition) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        item.service,
                        item.environment,
                        item.revision,
                        item.seq,
                        meta.epoch,
                        item.artifact,
                        text,
                    ),
                )
                changed.append(item.key)
            nodes = meta.failed_nodes if batch.failed_nodes is None else batch.failed_nodes
            updated = _Meta(max(meta.cursor, batch.cursor), meta.epoch, meta.reset_cursor, nodes)
            if updated != meta or changed:
                self._write_meta(db, updated)
        self._meta = updated
        return Applied(tuple(changed), tuple(ignored), nodes != meta.failed_nodes, updated.cursor)

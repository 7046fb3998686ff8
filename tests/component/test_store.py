"""The SQL store against real SQLite and a real PostgreSQL: durability, concurrency, cursors."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from taxiway.errors import Conflict, NotFound
from taxiway.store import migrate, records
from taxiway.store.sql import SqlStore


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    opened = SqlStore.open(store_url)
    opened.sync_services({"hello": {"owners": ["team-hello"]}}, actor="admin")
    yield opened
    opened.close()


def _definitions(*regions: str, tag: str = "v1") -> dict[str, dict[str, Any]]:
    return {region: {"region": region, "tag": tag} for region in regions}


def _revision(store: SqlStore, tag: str, *regions: str) -> records.Revision:
    return store.create_revision(
        "hello", {"production": _definitions(*regions, tag=tag)}, digest=f"sha256:{tag}", actor="alice"
    )


def test_migrations_are_idempotent(store_url: str) -> None:
    first = SqlStore.open(store_url)
    second = SqlStore.open(store_url)
    assert migrate.current(second.engine) == "0004"
    first.close()
    second.close()


def test_revisions_are_numbered_and_deduplicated(store: SqlStore) -> None:
    one = _revision(store, "a", "us-east1")
    two = _revision(store, "b", "us-east1")
    again = _revision(store, "a", "us-east1")
    assert (one.number, two.number, again.number) == (1, 2, 1)
    assert [r.number for r in store.revisions("hello")] == [1, 2]
    with pytest.raises(NotFound):
        store.revision("hello", 9)


def test_stale_write_conflicts_and_changes_nothing(store: SqlStore) -> None:
    first = _revision(store, "a", "us-east1")
    second = _revision(store, "b", "us-east1")
    current = store.set_desired("hello", "production", first.number, expected_version=0, actor="alice")
    assert current.version == 1
    cursor, audit_before = store.cursor(), len(store.audit_log())
    with pytest.raises(Conflict):
        store.set_desired("hello", "production", second.number, expected_version=0, actor="bob")
    with pytest.raises(Conflict):
        store.set_desired("hello", "production", second.number, expected_version=7, actor="bob")
    after = store.desired("hello", "production")
    assert after is not None
    assert (after.revision, after.version) == (first.number, 1)
    assert store.cursor() == cursor
    assert len(store.audit_log()) == audit_before


def test_concurrent_deploys_one_wins(store: SqlStore) -> None:
    base = _revision(store, "a", "us-east1")
    store.set_desired("hello", "production", base.number, expected_version=0, actor="alice")
    contenders = [_revision(store, tag, "us-east1") for tag in ("b", "c", "d", "e")]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(contenders))

    def deploy(number: int) -> None:
        barrier.wait(timeout=10)
        try:
            store.set_desired("hello", "production", number, expected_version=1, actor=f"user{number}")
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=deploy, args=(r.number,)) for r in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict"] * 3 + ["won"]
    final = store.desired("hello", "production")
    assert final is not None
    assert final.version == 2


def test_satellites_read_changes_after_a_cursor_with_tombstones(store: SqlStore) -> None:
    one = _revision(store, "a", "us-east1", "europe-west1")
    store.set_desired("hello", "production", one.number, expected_version=0, actor="alice")
    everything = store.definitions_since("europe-west1", 0)
    assert [(p.service, p.revision, p.definition) for p in everything.items] == [
        ("hello", 1, {"region": "europe-west1", "tag": "a"})
    ]
    assert store.definitions_since("europe-west1", everything.cursor).items == []
    two = _revision(store, "b", "us-east1")
    store.set_desired("hello", "production", two.number, expected_version=1, actor="alice")
    later = store.definitions_since("europe-west1", everything.cursor)
    assert [(p.revision, p.definition) for p in later.items] == [(2, None)]
    assert later.cursor > everything.cursor
    assert store.definitions_since("us-east1", everything.cursor).items[0].definition == {
        "region": "us-east1",
        "tag": "b",
    }


def test_status_reports_and_audit(store: SqlStore) -> None:
    store.report_status(
        "us-east1", [records.Status("hello", "production", {"ready": 2, "desired": 2})], cursor=3
    )
    store.report_status(
        "us-east1", [records.Status("hello", "production", {"ready": 1, "desired": 2})], cursor=4
    )
    (status,) = store.statuses("hello")
    assert (status.region, status.report) == ("us-east1", {"ready": 1, "desired": 2})
    actions = [entry.action for entry in store.audit_log()]
    assert actions[-1] == "services.sync"


def test_tokens_are_hashed_scoped_and_revocable(store: SqlStore) -> None:
    bearer = store.create_token("ci", "owner", actor="admin", services=["hello"])
    token = store.authenticate(bearer)
    assert token is not None
    assert (token.scope, token.services) == ("owner", ("hello",))
    assert store.authenticate(bearer[:-1] + ("A" if bearer[-1] != "A" else "B")) is None
    assert store.authenticate("not-a-token") is None
    secret = bearer.split("_", 2)[2]
    with store.engine.connect() as c:
        dumped = repr(c.execute(sa.text("SELECT * FROM tokens")).all())
    assert secret not in dumped
    store.revoke_token(token.id, actor="admin")
    assert store.authenticate(bearer) is None
    with pytest.raises(NotFound):
        store.revoke_token(token.id, actor="admin")


def test_a_region_removed_from_a_service_is_sql_null_and_leaves_the_published_set(store: SqlStore) -> None:
    one = _revision(store, "a", "us-east1", "europe-west1")
    store.set_desired("hello", "production", one.number, expected_version=0, actor="alice")
    two = _revision(store, "b", "us-east1")
    store.set_desired("hello", "production", two.number, expected_version=1, actor="alice")
    assert [(p.region, p.definition["tag"]) for p in store.published("production")] == [("us-east1", "b")]
    with store.engine.connect() as c:
        raw = c.execute(
            sa.text("SELECT definition IS NULL FROM definitions WHERE region = 'europe-west1'")
        ).scalar_one()
    assert raw in (True, 1), "a tombstone is SQL NULL, not the JSON text 'null'"


def test_concurrent_writers_never_see_database_is_locked(store_url: str) -> None:
    """What satellites, edges and the CLI do at once: status reports, PoP reports, deploys,
    each through its own engine (its own connections, as separate processes have). Each
    writer reads before it writes; on SQLite that must wait its turn, not fail."""
    opened = [SqlStore.open(store_url) for _ in range(3)]
    opened[0].sync_services({"hello": {"owners": ["team-hello"]}}, actor="admin")
    store = opened[0]
    revision = _revision(store, "a", "us-east1")
    store.set_desired("hello", "production", revision.number, expected_version=0, actor="alice")
    errors: list[BaseException] = []
    rounds = 40

    def statuses(region: str) -> None:
        for n in range(rounds):
            opened[1].report_status(region, [records.Status("hello", "production", {"n": n})], cursor=n)

    def pops(pop: str) -> None:
        for n in range(rounds):
            opened[2].report_pop(pop, {"n": n})

    def deploys() -> None:
        for _ in range(rounds // 4):
            current = opened[0].desired("hello", "production")
            assert current is not None
            with contextlib.suppress(Conflict):  # another deploy won: a clean, retryable answer
                opened[0].set_desired("hello", "production", revision.number, current.version, actor="bob")

    def guarded(target: Any, *args: Any) -> None:
        try:
            target(*args)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=guarded, args=(statuses, r)) for r in ("us-east1", "europe-west1")]
    workers += [threading.Thread(target=guarded, args=(pops, p)) for p in ("iad", "fra", "icn")]
    workers += [threading.Thread(target=guarded, args=(deploys,)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers)
    assert errors == [], errors[:3]
    assert {p.pop for p in store.pop_statuses()} == {"iad", "fra", "icn"}
    for each in opened:
        each.close()

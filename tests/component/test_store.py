"""The SQL store against real SQLite and a real PostgreSQL: durability, concurrency, cursors."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from taxiway.errors import Conflict, NotFound
from taxiway.store import migrate, records
from taxiway.store.sql import SqlStore, engine_for


def _definitions(*regions: str, tag: str = "v1") -> dict[str, dict[str, Any]]:
    return {region: {"region": region, "tag": tag} for region in regions}


def _revision(store: SqlStore, tag: str, *regions: str) -> records.Revision:
    return store.create_revision(
        "hello", {"production": _definitions(*regions, tag=tag)}, digest=f"sha256:{tag}", actor="alice"
    )


def test_migrations_are_idempotent(store_url: str) -> None:
    first = SqlStore.open(store_url)
    second = SqlStore.open(store_url)
    assert migrate.current(second.engine) == "0007"
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
    revoked = store.revoke_token(token.id, actor="admin")
    assert store.authenticate(bearer) is None
    assert revoked.revoked_at is not None
    again = store.revoke_token(token.id, actor="admin")
    assert again.revoked_at == revoked.revoked_at, "revoking twice answers the first revocation"
    assert [e.action for e in store.audit_log()].count("token.revoke") == 1
    with pytest.raises(NotFound):
        store.revoke_token("0123456789abcdef", actor="admin")


def test_tokens_are_listed_without_their_secrets(store: SqlStore) -> None:
    root, root_bearer = store.issue_token("root", "admin", "init")
    issued, bearer = store.issue_token("ci", "owner", "admin:root", ["hello"])
    satellite, _ = store.issue_token("sat", "satellite", "admin:root", bound="us-east1")
    listed = store.tokens()
    assert [t.id for t in listed] == [root.id, issued.id, satellite.id]
    assert listed[1] == issued
    assert (listed[1].services, listed[1].created_by, listed[1].revoked) == (("hello",), "admin:root", False)
    assert listed[2].bound == "us-east1"
    secret = bearer.split("_", 2)[2]
    assert secret not in repr(listed)
    assert hashlib.sha256(secret.encode()).hexdigest() not in repr(listed)
    assert root_bearer.split("_", 2)[2] not in repr(listed)


def test_the_last_admin_token_cannot_be_revoked(store: SqlStore) -> None:
    first, _ = store.issue_token("root", "admin", "init")
    owner, _ = store.issue_token("ci", "owner", "admin:root", ["hello"])
    with pytest.raises(Conflict, match="last admin token"):
        store.revoke_token(first.id, "admin:root")
    store.revoke_token(owner.id, "admin:root")  # other scopes: always
    second, bearer = store.issue_token("root-2", "admin", "admin:root")
    store.revoke_token(first.id, "admin:root-2")
    assert [t.id for t in store.tokens() if not t.revoked] == [second.id]
    with pytest.raises(Conflict):
        store.revoke_token(second.id, "admin:root-2")
    assert store.authenticate(bearer) is not None


def test_known_services_are_those_of_the_inventory(store: SqlStore) -> None:
    store.register_service("httpbin", {"owners": ["team-web"], "regions": ["us-east1"]}, "admin")
    assert store.known_services(["hello", "httpbin", "nope", "hello"]) == {"hello", "httpbin"}
    store.delete_service("httpbin", "admin")
    assert store.known_services(["httpbin"]) == set()
    assert store.known_services([]) == set()


def test_a_region_removed_from_a_service_is_sql_null_and_leaves_the_published_set(store: SqlStore) -> None:
    one = _revision(store, "a", "us-east1", "europe-west1")
    store.set_desired("hello", "production", one.number, expected_version=0, actor="alice")
    two = _revision(store, "b", "us-east1")
    store.set_desired("hello", "production", two.number, expected_version=1, actor="alice")
    assert [(p.region, (p.definition or {})["tag"]) for p in store.published("production")] == [
        ("us-east1", "b")
    ]
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


def test_the_upgrade_names_who_created_each_token(store_url: str) -> None:
    engine = engine_for(store_url)
    with engine.begin() as connection:
        command.upgrade(migrate._config(connection), "0004")
    now = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)
    with engine.begin() as connection:
        meta = sa.MetaData()
        old_tokens = sa.Table("tokens", meta, autoload_with=connection)
        old_audit = sa.Table("audit", meta, autoload_with=connection)
        for token_id in ("a1", "b2"):
            connection.execute(
                old_tokens.insert().values(
                    id=token_id,
                    name=token_id,
                    secret_hash="0" * 64,
                    scope="admin",
                    services=[],
                    region=None,
                    created_at=now,
                )
            )
        connection.execute(
            old_audit.insert().values(
                at=now, actor="admin:root", action="token.create", target="token:a1", detail={}
            )
        )
    engine.dispose()
    upgraded = SqlStore.open(store_url)
    try:
        assert {t.id: t.created_by for t in upgraded.tokens()} == {"a1": "admin:root", "b2": None}
    finally:
        upgraded.close()

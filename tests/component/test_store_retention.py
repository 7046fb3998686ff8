"""A service's retention in the store, on real SQLite and PostgreSQL: what is pruned, what
stays, that a refused revision changes nothing, and that shared artifacts outlive one owner."""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command

from taxiway.errors import NotFound, QuotaExceeded
from taxiway.plan import retention
from taxiway.store import migrate, records
from taxiway.store.sql import SqlStore, engine_for
from taxiway.store.tables import artifacts, revisions

REGIONS = ("europe-west1", "us-east1")
HELLO = {"owners": ["team-hello"], "regions": list(REGIONS)}
KIB = 1024


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    opened = SqlStore.open(store_url)
    opened.sync_services({"hello": HELLO, "other": HELLO}, actor="test")
    yield opened
    opened.close()


def blob(seed: int, size: int = 40 * KIB) -> bytes:
    return random.Random(seed).randbytes(size)


def upload(store: SqlStore, tag: str, data: bytes, policy: retention.Policy, service: str = "hello") -> int:
    definitions = {"production": {r: {"region": r, "tag": tag} for r in REGIONS}}
    made = store.create_revision(
        service, definitions, f"sha256:{tag}", "ci", artifact_data=data, policy=policy
    )
    return made.number


def deploy(store: SqlStore, number: int, service: str = "hello") -> None:
    now = store.desired(service, "production")
    store.set_desired(service, "production", number, now.version if now else 0, "ci")
    for region in REGIONS:
        body = {"revision": number, "phase": "ready", "message": "ready"}
        store.report_status(region, [records.Status(service, "production", body)], cursor=0)


def stored_artifacts(store: SqlStore) -> set[str]:
    with store.engine.connect() as c:
        return {r.digest for r in c.execute(sa.select(artifacts.c.digest))}


def pruned(store: SqlStore, service: str = "hello") -> list[int]:
    return [r.number for r in store.revisions(service) if r.pruned_at is not None]


def test_older_revisions_are_pruned_and_what_runs_or_rolls_back_stays(store: SqlStore) -> None:
    policy = retention.Policy(keep_newest=2, quota_bytes=10 * 1024 * KIB)
    one = upload(store, "a", blob(1), policy)
    deploy(store, one)
    two = upload(store, "b", blob(2), policy)
    deploy(store, two)  # production runs 2; 1 is its rollback target
    for n in range(3, 8):
        upload(store, f"n{n}", blob(n), policy)  # uploaded, never deployed
    assert pruned(store) == [3, 4, 5]
    kept = {r.number: r for r in store.revisions("hello") if r.pruned_at is None}
    assert sorted(kept) == [1, 2, 6, 7]
    assert stored_artifacts(store) == {kept[n].artifact for n in kept}, "pruned revisions' artifacts are gone"
    (three,) = [r for r in store.revisions("hello") if r.number == 3]
    assert three.definitions == {}, "a pruned revision keeps its number, not its definitions"
    assert three.artifact is not None
    why = store.storage("hello", policy).kept
    assert why[2] == "production runs it"
    assert why[1] == "production's rollback target"
    current = store.desired("hello", "production")
    assert current is not None
    with pytest.raises(NotFound, match=r"revision 3 of 'hello' was pruned on .*deploy its files again"):
        store.set_desired("hello", "production", 3, current.version, "ci")
    again = upload(store, "n3", blob(3), policy)
    assert again == 8, "the same files after pruning are a new revision"


def test_a_revision_over_the_quota_stores_and_prunes_nothing(store: SqlStore) -> None:
    policy = retention.Policy(keep_newest=20, quota_bytes=100 * KIB)
    one = upload(store, "a", blob(1), policy)
    deploy(store, one)
    two = upload(store, "b", blob(2), policy)
    deploy(store, two)  # 1 and 2 must stay: 80 KiB of 100
    before = (store.revisions("hello"), stored_artifacts(store))
    with pytest.raises(QuotaExceeded, match=r"over the service's quota of 100 KiB.*Nothing was stored"):
        upload(store, "c", blob(3), policy)
    assert (store.revisions("hello"), stored_artifacts(store)) == before
    with store.engine.connect() as c:
        count = c.execute(sa.select(sa.func.count()).select_from(revisions)).scalar_one()
    assert count == 2


def test_an_artifact_another_service_still_keeps_is_not_deleted(store: SqlStore) -> None:
    policy = retention.Policy(keep_newest=1, quota_bytes=10 * 1024 * KIB)
    shared = blob(42)
    upload(store, "shared", shared, policy)
    upload(store, "shared", shared, policy, service="other")
    upload(store, "new", blob(43), policy)  # prunes hello's revision 1
    assert pruned(store) == [1]
    (others,) = store.revisions("other")
    assert others.artifact in stored_artifacts(store)
    assert store.artifact(str(others.artifact)) == shared


def test_the_upgrade_keeps_every_stored_revision(store_url: str) -> None:
    engine = engine_for(store_url)
    with engine.begin() as connection:
        command.upgrade(migrate._config(connection), "0005")
    now = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)
    with engine.begin() as connection:
        meta = sa.MetaData()
        old_services = sa.Table("services", meta, autoload_with=connection)
        old_revisions = sa.Table("revisions", meta, autoload_with=connection)
        connection.execute(old_services.insert().values(name="hello", entry=HELLO, version=1))
        for number in (1, 2):
            connection.execute(
                old_revisions.insert().values(
                    service="hello",
                    number=number,
                    digest=f"sha256:{number}",
                    definitions={"production": {}},
                    created_by="ci",
                    created_at=now,
                )
            )
    engine.dispose()
    upgraded = SqlStore.open(store_url)
    try:
        assert [(r.number, r.pruned_at) for r in upgraded.revisions("hello")] == [(1, None), (2, None)]
    finally:
        upgraded.close()

"""Revision outcomes and the API's inventory in the store, on real SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from taxiway.errors import Conflict, NotFound, UnknownService
from taxiway.store import migrate, records
from taxiway.store.sql import SqlStore, engine_for

REGIONS = ("europe-west1", "us-east1")
HELLO = {"owners": ["team-hello"], "regions": list(REGIONS)}


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    opened = SqlStore.open(store_url)
    opened.sync_services({"hello": HELLO}, actor="test")
    yield opened
    opened.close()


def deploy(store: SqlStore, tag: str, regions: tuple[str, ...] = REGIONS) -> int:
    revision = store.create_revision(
        "hello", {"production": {r: {"region": r, "tag": tag} for r in regions}}, f"sha256:{tag}", "ci"
    )
    now = store.desired("hello", "production")
    store.set_desired("hello", "production", revision.number, now.version if now else 0, "ci")
    return revision.number


def report(store: SqlStore, region: str, revision: int, phase: str, message: str = "") -> None:
    body = {"revision": revision, "phase": phase, "message": message or f"{phase} in {region}"}
    store.report_status(region, [records.Status("hello", "production", body)], cursor=0)


def states(store: SqlStore) -> dict[int, str]:
    return {o.revision: o.state for o in store.outcomes("hello") if o.environment == "production"}


def test_outcomes_follow_the_reports_and_survive_a_restart(store: SqlStore, store_url: str) -> None:
    one = deploy(store, "a")
    assert states(store) == {one: "in_progress"}
    for region in REGIONS:
        report(store, region, one, "ready")
    assert states(store) == {one: "ready"}
    two = deploy(store, "b")
    report(store, "us-east1", one, "ready")  # a satellite that has not pulled 2 yet says nothing of 2
    report(store, "us-east1", two, "failed", "hello-production-r2-0: startup probe failed: HTTP 404")
    report(store, "europe-west1", two, "progressing")
    assert states(store) == {one: "ready", two: "failed"}

    reopened = SqlStore.open(store_url)
    try:
        (failed,) = [o for o in reopened.outcomes("hello") if o.revision == two]
        assert (
            failed.describe() == "failed in us-east1: hello-production-r2-0: startup probe failed: HTTP 404"
        )
        assert not failed.became_ready
        (good,) = [o for o in reopened.outcomes("hello") if o.revision == one]
        assert good.became_ready
        assert good.deployment.left_for == two
    finally:
        reopened.close()

    store.set_desired("hello", "production", one, 2, "ci")  # back to 1: someone rolled back from 2
    assert states(store) == {one: "in_progress", two: "rolled_back"}
    for region in REGIONS:
        report(store, region, one, "ready")
    assert states(store) == {one: "ready", two: "rolled_back"}


def test_regions_reporting_at_once_lose_nothing(store: SqlStore) -> None:
    regions = tuple(f"region-{i}" for i in range(6))
    number = deploy(store, "a", regions)
    barrier = threading.Barrier(len(regions))

    def ready(region: str) -> None:
        barrier.wait(timeout=10)
        report(store, region, number, "ready")

    threads = [threading.Thread(target=ready, args=(r,)) for r in regions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    (outcome,) = store.outcomes("hello")
    assert outcome.state == "ready"
    assert {v.region for v in outcome.verdicts} == set(regions)


def test_services_registered_through_the_api_win_over_the_file(store: SqlStore) -> None:
    created = store.register_service("httpbin", {"owners": ["team-web"], "regions": ["us-east1"]}, "admin")
    assert (created.origin, created.version) == ("api", 1)
    with pytest.raises(Conflict, match="in the inventory already"):
        store.register_service("httpbin", {"owners": ["x"], "regions": ["us-east1"]}, "admin")
    changed = store.update_service("hello", {**HELLO, "owners": ["team-new"]}, "admin", expected_version=1)
    assert (changed.origin, changed.version) == ("api", 2)
    with pytest.raises(Conflict, match="changed since version 1"):
        store.update_service("hello", HELLO, "admin", expected_version=1)
    # The file says otherwise on the next load: the API's entry stays, and the caller is told.
    assert store.sync_services({"hello": HELLO, "new": HELLO}, actor="reload") == ["hello"]
    assert store.service("hello").entry["owners"] == ["team-new"]
    assert {s.name: s.origin for s in store.services()} == {"hello": "api", "httpbin": "api", "new": "file"}


def test_a_service_is_deleted_only_once_its_definitions_are_removed(store: SqlStore) -> None:
    number = deploy(store, "a")
    with pytest.raises(Conflict, match=r"taxiway services undeploy hello --env production"):
        store.delete_service("hello", "admin")
    cursor = store.cursor()
    assert store.undeploy("hello", "production", "admin") == list(REGIONS)
    removed = store.definitions_since("us-east1", cursor).items
    assert [(p.service, p.definition) for p in removed] == [("hello", None)], "satellites see a tombstone"
    assert store.desired("hello", "production") is None
    with pytest.raises(NotFound, match="not deployed to production"):
        store.undeploy("hello", "production", "admin")
    store.delete_service("hello", "admin")
    with pytest.raises(UnknownService):
        store.service("hello")
    assert [s.name for s in store.services()] == []
    store.register_service("hello", HELLO, "admin")
    assert [r.number for r in store.revisions("hello")] == [number], "its revisions were kept"


def test_the_upgrade_carries_over_what_was_ready(store_url: str) -> None:
    engine = engine_for(store_url)
    now = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)
    # A fresh, empty database brought to 0002, with one deployment and its regions' last reports.
    with engine.begin() as connection:
        command.upgrade(migrate._config(connection), "0002")
    rows: dict[str, list[dict[str, Any]]] = {
        "services": [{"name": "hello", "entry": HELLO, "version": 1}],
        "revisions": [
            {
                "service": "hello",
                "number": 1,
                "digest": "sha256:a",
                "definitions": {"production": {r: {} for r in REGIONS}},
                "created_by": "ci",
                "created_at": now,
            }
        ],
        "desired": [
            {
                "service": "hello",
                "environment": "production",
                "revision": 1,
                "version": 1,
                "updated_by": "ci",
                "updated_at": now,
            }
        ],
        "statuses": [
            {
                "region": r,
                "service": "hello",
                "environment": "production",
                "report": {"revision": 1, "phase": "ready", "message": "2/2 instances ready"},
                "reported_at": now,
            }
            for r in REGIONS
        ],
    }
    with engine.begin() as connection:
        meta = sa.MetaData()
        for name, values in rows.items():
            connection.execute(sa.Table(name, meta, autoload_with=connection).insert(), values)
    engine.dispose()
    upgraded = SqlStore.open(store_url)
    try:
        assert migrate.current(upgraded.engine) == "0007"
        (outcome,) = upgraded.outcomes("hello")
        assert (outcome.state, outcome.became_ready) == ("ready", True)
        assert upgraded.service("hello").origin == "file"
    finally:
        upgraded.close()


def test_published_definitions_leave_out_tombstones(store: SqlStore) -> None:
    deploy(store, "a")
    deploy(store, "b", ("us-east1",))  # europe-west1 gets a tombstone (stored as JSON null)
    assert [(p.region, p.definition) for p in store.published("production")] == [
        ("us-east1", {"region": "us-east1", "tag": "b"})
    ]

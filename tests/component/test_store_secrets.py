"""Platform secrets in the store, on SQLite and PostgreSQL: versions, refusal, republishing."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from taxiway.errors import NotFound, ValidationFailed
from taxiway.store.sql import SqlStore
from taxiway.store.tables import secrets


def definition(region: str, *names: str) -> dict[str, Any]:
    return {"region": region, "spec": {"env": {"GREETING": "hi"}, "secrets": list(names)}}


def deploy(store: SqlStore, tag: str, by_region: dict[str, dict[str, Any]], version: int = 0) -> int:
    revision = store.create_revision(
        "hello", {"production": by_region}, digest=f"sha256:{tag}", actor="alice"
    )
    store.set_desired("hello", "production", revision.number, expected_version=version, actor="alice")
    return revision.number


def test_versions_go_up_on_every_set_and_unset_and_never_repeat(store: SqlStore) -> None:
    first, _ = store.set_secret("hello", "production", "DB_PASSWORD", "sealed-1", "hmac-sha256:1", "alice")
    second, _ = store.set_secret("hello", "production", "DB_PASSWORD", "sealed-2", "hmac-sha256:2", "bob")
    assert (first.version, second.version, second.set_by) == (1, 2, "bob")
    assert [(s.name, s.version, s.digest) for s in store.secrets("hello")] == [
        ("DB_PASSWORD", 2, "hmac-sha256:2")
    ]
    gone, _ = store.unset_secret("hello", "production", "DB_PASSWORD", "carol")
    assert (gone.version, gone.digest, gone.sealed) == (3, None, None)
    assert store.secrets("hello", "production") == []
    with pytest.raises(NotFound):
        store.unset_secret("hello", "production", "DB_PASSWORD", "carol")
    again, _ = store.set_secret("hello", "production", "DB_PASSWORD", "sealed-4", "hmac-sha256:4", "dave")
    assert again.version == 4
    assert store.secrets("hello", "staging") == []
    with pytest.raises(NotFound):
        store.set_secret("nosuch", "production", "DB_PASSWORD", "s", "hmac-sha256:5", "eve")
    actions = [(e.action, e.target) for e in store.audit_log()[:4]]
    assert actions[0] == ("secret.set", "hello/production/DB_PASSWORD")
    assert all("sealed" not in str(e.detail) for e in store.audit_log())


def test_pointing_at_a_revision_whose_secret_has_no_value_is_refused_and_changes_nothing(
    store: SqlStore,
) -> None:
    revision = store.create_revision(
        "hello",
        {"production": {"us-east1": definition("us-east1", "DB_PASSWORD", "API_KEY")}},
        digest="sha256:a",
        actor="alice",
    )
    store.set_secret("hello", "staging", "DB_PASSWORD", "sealed", "hmac-sha256:1", "alice")  # not production
    cursor, audit = store.cursor(), len(store.audit_log())
    with pytest.raises(ValidationFailed) as caught:
        store.set_desired("hello", "production", revision.number, expected_version=0, actor="alice")
    rendered = [p.render() for p in caught.value.problems]
    assert len(rendered) == 2
    assert "secret DB_PASSWORD has no value in production" in rendered[0]
    assert "`taxiway secrets set hello DB_PASSWORD --env production`" in rendered[0]
    assert "secret API_KEY has no value in production" in rendered[1]
    assert store.desired("hello", "production") is None
    assert (store.cursor(), len(store.audit_log())) == (cursor, audit)
    assert store.definitions_since("us-east1", 0).items == []


def test_a_set_or_unset_republishes_only_what_names_it_with_the_sealed_value(store: SqlStore) -> None:
    store.set_secret("hello", "production", "DB_PASSWORD", "sealed-1", "hmac-sha256:1", "alice")
    deploy(
        store,
        "a",
        {"us-east1": definition("us-east1", "DB_PASSWORD"), "europe-west1": definition("europe-west1")},
    )
    (published,) = store.definitions_since("us-east1", 0).items
    assert published.definition is not None
    assert published.definition["spec"]["env"]["DB_PASSWORD"] == {
        "secret": True,
        "digest": "hmac-sha256:1",
        "sealed": "sealed-1",
    }
    revision = store.revision("hello", 1)
    assert "DB_PASSWORD" not in revision.definitions["production"]["us-east1"]["spec"]["env"]

    cursor = store.cursor()
    _, regions = store.set_secret("hello", "production", "DB_PASSWORD", "sealed-2", "hmac-sha256:2", "bob")
    assert regions == ["us-east1"]
    (changed,) = store.definitions_since("us-east1", cursor).items
    assert changed.definition is not None
    assert changed.definition["spec"]["env"]["DB_PASSWORD"]["digest"] == "hmac-sha256:2"
    assert changed.revision == 1
    assert store.definitions_since("europe-west1", cursor).items == []

    # A secret no definition names changes no definition; an unset takes the value out.
    _, regions = store.set_secret("hello", "production", "OTHER", "sealed-3", "hmac-sha256:3", "bob")
    assert regions == []
    cursor = store.cursor()
    _, regions = store.unset_secret("hello", "production", "DB_PASSWORD", "bob")
    assert regions == ["us-east1"]
    (removed,) = store.definitions_since("us-east1", cursor).items
    assert removed.definition is not None
    assert "DB_PASSWORD" not in removed.definition["spec"]["env"]


def test_values_are_stored_only_as_given_sealed(store: SqlStore) -> None:
    store.set_secret("hello", "production", "DB_PASSWORD", "gAAAA-sealed", "hmac-sha256:1", "alice")
    with store.engine.connect() as c:
        (row,) = c.execute(sa.select(secrets)).all()
    assert (row.service, row.environment, row.name, row.version) == ("hello", "production", "DB_PASSWORD", 1)
    assert (row.sealed, row.digest, row.set_by) == ("gAAAA-sealed", "hmac-sha256:1", "alice")

"""The alerts' rows on SQLite and PostgreSQL: idempotent per fingerprint and start, resolved
in place, never brought back by a late firing, audited when they change state."""

from __future__ import annotations

import dataclasses
import datetime

from taxiway.store import records
from taxiway.store.sql import SqlStore

START = datetime.datetime(2026, 12, 1, 17, 0, 0, 123456, tzinfo=datetime.UTC)


def _alert(status: str = "firing", **changes: object) -> records.DeliveredAlert:
    alert = records.DeliveredAlert(
        fingerprint="1a30ba71cca2921f",
        starts_at=START,
        status="firing",
        service="hello",
        labels={
            "alertname": "HighErrorRate",
            "service": "hello",
            "region": "us-east1",
            "owner": "team-hello",
        },
        annotations={"summary": "errors"},
        ends_at=None,
        generator_url="http://127.0.0.1:9090/graph",
        owner="team-hello",
    )
    return dataclasses.replace(alert, status=status, **changes)  # type: ignore[arg-type]


def test_an_alert_is_recorded_once_and_resolved_in_place(store: SqlStore) -> None:
    assert store.record_alerts([_alert()], "alerts:am") == 1
    assert store.record_alerts([_alert()], "alerts:am") == 0  # a repeat notification
    (firing,) = store.alerts("hello", "firing")
    assert (firing.status, firing.starts_at, firing.ends_at) == ("firing", START, None)
    assert firing.owner == "team-hello"
    assert firing.labels["region"] == "us-east1"

    ended = START + datetime.timedelta(minutes=5)
    assert store.record_alerts([_alert("resolved", ends_at=ended)], "alerts:am") == 1
    assert store.alerts("hello", "firing") == []
    (resolved,) = store.alerts("hello")
    assert (resolved.status, resolved.ends_at) == ("resolved", ended)

    # A late retry of the firing notification does not bring it back.
    assert store.record_alerts([_alert()], "alerts:am") == 0
    assert [a.status for a in store.alerts("hello")] == ["resolved"]
    actions = [(e.action, e.target) for e in store.audit_log() if e.action.startswith("alert.")]
    assert actions == [("alert.resolved", "service:hello"), ("alert.firing", "service:hello")]


def test_the_same_alert_firing_again_is_another_row(store: SqlStore) -> None:
    store.record_alerts([_alert("resolved", ends_at=START + datetime.timedelta(minutes=1))], "alerts:am")
    again = START + datetime.timedelta(hours=1)
    store.record_alerts([_alert(starts_at=again)], "alerts:am")
    listed = [(a.status, a.starts_at) for a in store.alerts("hello")]
    assert listed == [("firing", again), ("resolved", START)]


def test_a_start_in_another_zone_is_the_same_alert(store: SqlStore) -> None:
    store.record_alerts([_alert()], "alerts:am")
    elsewhere = START.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    assert store.record_alerts([_alert(starts_at=elsewhere)], "alerts:am") == 0
    assert len(store.alerts("hello")) == 1


def test_alerts_under_no_service_are_listed_only_with_everything(store: SqlStore) -> None:
    store.record_alerts([_alert(service=None, fingerprint="ffff")], "alerts:am")
    store.record_alerts([_alert()], "alerts:am")
    assert [a.fingerprint for a in store.alerts("hello")] == ["1a30ba71cca2921f"]
    assert {a.fingerprint for a in store.alerts(None)} == {"ffff", "1a30ba71cca2921f"}
    assert [e.target for e in store.audit_log() if e.action == "alert.firing"][-1] == "alert:ffff"

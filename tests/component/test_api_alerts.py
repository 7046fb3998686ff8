"""``POST /v1/alerts`` (Alertmanager's webhook) and the services' alerts, over a real socket,
on SQLite and PostgreSQL: only an ``alerts`` token posts, owners read their own services'."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.fixtures.api_server import Api

FIRING: dict[str, Any] = {
    "version": "4",
    "groupKey": '{}:{alertname="HighErrorRate", region="us-east1", service="hello"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "taxiway-control-plane",
    "groupLabels": {"alertname": "HighErrorRate", "service": "hello"},
    "commonLabels": {"alertname": "HighErrorRate", "service": "hello"},
    "commonAnnotations": {},
    "externalURL": "http://127.0.0.1:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "HighErrorRate",
                "service": "hello",
                "environment": "production",
                "region": "us-east1",
                "severity": "page",
                "owner": "team-hello",
            },
            "annotations": {"summary": "hello burns its error budget in us-east1"},
            "startsAt": "2026-12-01T17:00:00.739266876+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up",
            "fingerprint": "1a30ba71cca2921f",
        }
    ],
}


def _resolved() -> dict[str, Any]:
    payload = copy.deepcopy(FIRING)
    payload["status"] = "resolved"
    payload["alerts"][0]["status"] = "resolved"
    payload["alerts"][0]["endsAt"] = "2026-12-01T15:10:00Z"
    return payload


@pytest.fixture
def alerts_api(api: Api) -> Api:
    api.tokens["alerts"] = api.store.create_token("alertmanager", "alerts", "test")
    return api


def test_alertmanager_posts_and_the_owner_reads_firing_then_resolved(alerts_api: Api) -> None:
    api = alerts_api
    posted = api.call("POST", "/v1/alerts", "alerts", json=FIRING)
    assert posted.status_code == 200, posted.text
    assert posted.json() == {"recorded": 1, "changed": 1, "unknown_services": []}
    assert api.call("POST", "/v1/alerts", "alerts", json=FIRING).json()["changed"] == 0  # idempotent

    (alert,) = api.call("GET", "/v1/services/hello/alerts?state=firing", "owner").json()
    assert alert["fingerprint"] == "1a30ba71cca2921f"
    assert (alert["status"], alert["service"], alert["owner"]) == ("firing", "hello", "team-hello")
    assert (alert["alertname"], alert["region"], alert["environment"], alert["severity"]) == (
        "HighErrorRate",
        "us-east1",
        "production",
        "page",
    )
    assert alert["starts_at"].startswith("2026-12-01T15:00:00.739266")
    assert alert["ends_at"] is None

    assert api.call("POST", "/v1/alerts", "alerts", json=_resolved()).json()["changed"] == 1
    assert api.call("GET", "/v1/services/hello/alerts?state=firing", "owner").json() == []
    (resolved,) = api.call("GET", "/v1/services/hello/alerts", "owner").json()
    assert resolved["status"] == "resolved"
    assert resolved["ends_at"].startswith("2026-12-01T15:10:00")

    audit = api.call("GET", "/v1/audit", "admin").json()
    assert [(e["action"], e["actor"]) for e in audit if e["action"].startswith("alert.")] == [
        ("alert.resolved", "alerts:alertmanager"),
        ("alert.firing", "alerts:alertmanager"),
    ]


def test_only_an_alerts_token_posts_and_it_reads_nothing(alerts_api: Api) -> None:
    api = alerts_api
    for who in ("owner", "stranger", "us", "eu", "iad"):
        refused = api.call("POST", "/v1/alerts", who, json=FIRING)
        assert refused.status_code == 403, (who, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    assert api.store.alerts(None) == []
    api.call("POST", "/v1/alerts", "alerts", json=FIRING)
    for path in ("/v1/services/hello/alerts", "/v1/alerts", "/v1/audit", "/v1/tokens"):
        assert api.call("GET", path, "alerts").status_code == 403, path


def test_an_owner_of_another_service_cannot_read(alerts_api: Api) -> None:
    api = alerts_api
    api.call("POST", "/v1/alerts", "alerts", json=FIRING)
    refused = api.call("GET", "/v1/services/hello/alerts", "stranger")
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert api.call("GET", "/v1/alerts", "stranger").json() == []
    assert [a["service"] for a in api.call("GET", "/v1/alerts", "owner").json()] == ["hello"]


def test_an_alert_for_an_unknown_service_is_kept_under_no_service(alerts_api: Api) -> None:
    api = alerts_api
    payload = copy.deepcopy(FIRING)
    payload["alerts"][0]["labels"]["service"] = "ghost"
    second = copy.deepcopy(FIRING["alerts"][0])
    second["labels"] = {"alertname": "SatelliteDown", "region": "us-east1"}
    second["fingerprint"] = "2b"
    payload["alerts"].append(second)
    posted = api.call("POST", "/v1/alerts", "alerts", json=payload)
    assert posted.status_code == 200, posted.text  # never a 4xx: Alertmanager would drop the group
    assert posted.json()["unknown_services"] == ["", "ghost"]
    assert api.call("GET", "/v1/services/hello/alerts", "owner").json() == []
    everything = api.call("GET", "/v1/alerts", "admin").json()
    assert {(a["service"], a["labels"].get("service")) for a in everything} == {(None, "ghost"), (None, None)}
    assert api.call("GET", "/v1/services/ghost/alerts", "admin").status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.update(version="3"), "body.version"),
        (lambda p: p.pop("alerts"), "body.alerts"),
        (lambda p: p["alerts"][0].pop("fingerprint"), "body.alerts.0.fingerprint"),
        (lambda p: p["alerts"][0].update(status="pending"), "body.alerts.0.status"),
        (lambda p: p["alerts"][0].update(startsAt="2026-12-01T17:00:00"), "body.alerts.0.startsAt"),
        (lambda p: p["alerts"][0].update(startsAt="yesterday"), "body.alerts.0.startsAt"),
        (lambda p: p["alerts"][0]["labels"].update(region="us\x00east"), "body.alerts.0.labels.region"),
        (lambda p: p["alerts"][0].update(labels={"bad-name": "x"}), "body.alerts.0.labels.bad-name"),
    ],
)
def test_a_bad_payload_is_a_422_naming_the_field_and_records_nothing(
    alerts_api: Api, change: Any, field: str
) -> None:
    payload = copy.deepcopy(FIRING)
    change(payload)
    refused = alerts_api.call("POST", "/v1/alerts", "alerts", json=payload)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    fields = [p["field"] for p in refused.json()["problems"]]
    assert any(f.startswith(field) for f in fields), fields
    assert alerts_api.store.alerts(None) == []


def test_an_admin_issues_an_alerts_token_that_names_nothing(alerts_api: Api) -> None:
    api = alerts_api
    created = api.call("POST", "/v1/tokens", "admin", json={"name": "am", "scope": "alerts"})
    assert created.status_code == 201, created.text
    assert (created.json()["scope"], created.json()["services"]) == ("alerts", [])
    token = created.json()["token"]
    api.tokens["fresh"] = token
    assert api.call("POST", "/v1/alerts", "fresh", json=FIRING).status_code == 200
    asked = {"name": "am2", "scope": "alerts", "services": ["hello"]}
    stray = api.call("POST", "/v1/tokens", "admin", json=asked)
    assert stray.status_code == 422
    assert [p["field"] for p in stray.json()["problems"]] == ["services"]

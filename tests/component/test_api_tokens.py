"""Tokens and status writes through the API over a real socket, on SQLite and PostgreSQL.

A token names only what the platform has; listing shows no secret; a revoked token is
refused on the very next request. A status write stores rows only for the topology's
regions and PoPs, the model's environments and the inventory's services.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import pytest
import sqlalchemy as sa

from taxiway.store.tables import heartbeats, pop_statuses, statuses
from tests.fixtures.api_server import Api

REFUSED = [
    ({"name": "ci", "scope": "owner"}, "services", "at least one service of the inventory"),
    ({"name": "ci", "scope": "owner", "services": []}, "services", "at least one service"),
    (
        {"name": "ci", "scope": "owner", "services": ["hello", "nope"]},
        "services[1]",
        "a service of the inventory",
    ),
    ({"name": "ci", "scope": "owner", "services": ["hello"], "region": "us-east1"}, "region", "satellite"),
    ({"name": "ci", "scope": "owner", "services": ["hello"], "pop": "iad"}, "pop", "edge"),
    ({"name": "s", "scope": "satellite"}, "region", "a region of the topology"),
    ({"name": "s", "scope": "satellite", "region": "mars-north1"}, "region", "us-east1"),
    ({"name": "s", "scope": "satellite", "region": "us-east1", "pop": "iad"}, "pop", "edge"),
    ({"name": "s", "scope": "satellite", "region": "us-east1", "services": ["hello"]}, "services", "owner"),
    ({"name": "e", "scope": "edge"}, "pop", "a PoP of the topology"),
    ({"name": "e", "scope": "edge", "pop": "xyz"}, "pop", "iad"),
    ({"name": "e", "scope": "edge", "pop": "iad", "region": "us-east1"}, "region", "satellite"),
    ({"name": "a", "scope": "admin", "services": ["hello"]}, "services", "owner"),
    ({"name": "a", "scope": "admin", "region": "us-east1"}, "region", "satellite"),
]


def _count(api: Api) -> int:
    return len(api.call("GET", "/v1/tokens", "admin").json())


@pytest.mark.parametrize(("body", "field", "expected"), REFUSED)
def test_a_token_names_only_what_the_platform_has(
    shared_api: Api, body: dict[str, Any], field: str, expected: str
) -> None:
    api = shared_api  # refused: nothing changes
    before = _count(api)
    response = api.call("POST", "/v1/tokens", "admin", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation-failed"
    [found] = [p for p in problem["problems"] if p["field"] == field]
    assert expected in found["expected"], found
    assert _count(api) == before, "a refused request creates no token"


@pytest.mark.parametrize("name", ["", "two words", "line\nbreak", "x" * 129])
def test_a_token_name_is_one_short_word(shared_api: Api, name: str) -> None:
    api = shared_api  # refused: nothing changes
    response = api.call("POST", "/v1/tokens", "admin", json={"name": name, "scope": "admin"})
    assert response.status_code == 422, response.text


def test_a_token_is_listed_without_its_secret_and_revoked_at_once(api: Api) -> None:
    created = api.call(
        "POST", "/v1/tokens", "admin", json={"name": "hello-deploy", "scope": "owner", "services": ["hello"]}
    )
    assert created.status_code == 201, created.text
    answer = created.json()
    bearer = answer["token"]
    assert bearer.startswith(f"twy_{answer['id']}_")
    assert (answer["scope"], answer["services"], answer["created_by"]) == ("owner", ["hello"], "admin:root")
    api.tokens["new"] = bearer
    assert api.call("GET", "/v1/services/hello", "new").status_code == 200

    listed = api.call("GET", "/v1/tokens", "admin")
    assert listed.status_code == 200
    [mine] = [t for t in listed.json() if t["id"] == answer["id"]]
    assert mine == {k: v for k, v in answer.items() if k != "token"}
    assert set(mine) == {
        "id",
        "name",
        "scope",
        "services",
        "region",
        "pop",
        "created_at",
        "created_by",
        "revoked_at",
    }
    secret = bearer.split("_", 2)[2]
    for text in (secret, hashlib.sha256(secret.encode()).hexdigest()):
        assert text not in listed.text
    by_name = {t["name"]: t for t in listed.json()}
    assert (by_name["sat-us"]["region"], by_name["sat-us"]["pop"]) == ("us-east1", None)
    assert (by_name["edge-iad"]["region"], by_name["edge-iad"]["pop"]) == (None, "iad")

    revoked = api.call("DELETE", f"/v1/tokens/{answer['id']}", "admin")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    refused = api.call("GET", "/v1/services/hello", "new")
    assert refused.status_code == 401, "the very next request with a revoked token is refused"
    assert refused.json()["code"] == "unauthorized"
    again = api.call("DELETE", f"/v1/tokens/{answer['id']}", "admin")
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    audit = api.call("GET", "/v1/audit", "admin").json()
    revocations = [e for e in audit if e["action"] == "token.revoke"]
    assert [(e["actor"], e["target"]) for e in revocations] == [("admin:root", f"token:{answer['id']}")]


def test_a_revoked_satellite_token_writes_no_more_status(api: Api) -> None:
    body = {"cursor": 0, "reports": []}
    assert api.call("PUT", "/v1/regions/us-east1/status", "us", json=body).status_code == 204
    [sat] = [t for t in api.call("GET", "/v1/tokens", "admin").json() if t["name"] == "sat-us"]
    assert api.call("DELETE", f"/v1/tokens/{sat['id']}", "admin").status_code == 200
    assert api.call("PUT", "/v1/regions/us-east1/status", "us", json=body).status_code == 401
    assert api.call("GET", "/v1/regions/us-east1/definitions", "us").status_code == 401


def test_revoking_an_unknown_token_or_the_last_admin_is_refused(api: Api) -> None:
    unknown = api.call("DELETE", "/v1/tokens/0123456789abcdef", "admin")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert "taxiway tokens list" in unknown.json()["detail"]
    assert api.call("DELETE", "/v1/tokens/" + "x" * 33, "admin").status_code == 422
    [root] = [t for t in api.call("GET", "/v1/tokens", "admin").json() if t["scope"] == "admin"]
    last = api.call("DELETE", f"/v1/tokens/{root['id']}", "admin")
    assert last.status_code == 409
    assert "last admin token" in last.json()["detail"]
    assert api.call("GET", "/v1/tokens", "admin").status_code == 200, "nothing was revoked"


def _stored(api: Api) -> dict[str, list[tuple[str, ...]]]:
    with api.store.engine.connect() as c:
        return {
            "statuses": sorted((r.region, r.service, r.environment) for r in c.execute(sa.select(statuses))),
            "heartbeats": sorted((r.region,) for r in c.execute(sa.select(heartbeats))),
        }


REPORT = {"revision": 1, "phase": "ready", "message": "1/1 instances ready"}


def _batch(*reports: tuple[str, str]) -> dict[str, Any]:
    return {
        "cursor": 1,
        "reports": [{"service": s, "environment": e, "report": REPORT} for s, e in reports],
    }


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/regions/mars-north1/status", _batch(("hello", "production")), 404),
        ("/v1/regions/" + "r" * 300 + "/status", _batch(("hello", "production")), 404),
        ("/v1/regions/us-east1/status", _batch(("hello", "production"), ("hello", "qa")), 422),
        ("/v1/regions/us-east1/status", _batch(("hello", "e" * 40)), 422),
        ("/v1/regions/us-east1/status", _batch(("s" * 64, "production")), 422),
        ("/v1/regions/us-east1/status", _batch(("", "production")), 422),
    ],
)
def test_a_junk_region_or_environment_in_a_status_write_stores_no_row(
    shared_api: Api, path: str, body: dict[str, Any], status: int
) -> None:
    api = shared_api  # refused: nothing changes
    response = api.call("PUT", path, "admin", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert _stored(api) == {"statuses": [], "heartbeats": []}


def test_reports_on_services_outside_the_inventory_are_dropped_and_the_rest_stored(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    entry = {"name": "httpbin", "owners": ["team-web"], "regions": ["us-east1"]}
    assert api.call("POST", "/v1/inventory/services", "admin", json=entry).status_code == 201
    both = _batch(("hello", "production"), ("httpbin", "production"))
    assert api.call("PUT", "/v1/regions/us-east1/status", "us", json=both).status_code == 204
    assert _stored(api)["statuses"] == [
        ("us-east1", "hello", "production"),
        ("us-east1", "httpbin", "production"),
    ]

    # An admin takes httpbin out of the inventory while the satellite still reports on it:
    # the region's status and heartbeat still land, the stray entry and a junk one do not.
    assert api.call("DELETE", "/v1/inventory/services/httpbin", "admin").status_code == 200
    with api.store.engine.begin() as c:
        c.execute(statuses.delete())
    junk = _batch(("hello", "staging"), ("httpbin", "production"), ("nope-" + "x" * 40, "production"))
    with caplog.at_level(logging.WARNING, logger="taxiway.server.app"):
        assert api.call("PUT", "/v1/regions/us-east1/status", "us", json=junk).status_code == 204
        assert api.call("PUT", "/v1/regions/us-east1/status", "us", json=junk).status_code == 204
    assert _stored(api) == {"statuses": [("us-east1", "hello", "staging")], "heartbeats": [("us-east1",)]}
    warnings = [r.getMessage() for r in caplog.records if "not in the inventory" in r.getMessage()]
    assert len(warnings) == 1, "one warning while the same services are dropped, not one per report"
    assert "'httpbin'" in warnings[0]
    assert "region us-east1" in warnings[0]


def test_a_pop_report_keeps_only_services_of_the_inventory(api: Api) -> None:
    report = {
        "services": [{"service": "hello", "pools": []}, {"service": "nope", "pools": []}],
        "haproxy": {"pid": 42},
    }
    assert api.call("PUT", "/v1/pops/iad/status", "iad", json=report).status_code == 204
    with api.store.engine.connect() as c:
        [row] = c.execute(sa.select(pop_statuses)).all()
    assert [s["service"] for s in row.report["services"]] == ["hello"]
    assert row.report["haproxy"] == {"pid": 42}
    nameless: dict[str, Any] = {"services": [{"pools": []}]}
    assert api.call("PUT", "/v1/pops/iad/status", "iad", json=nameless).status_code == 422
    assert api.call("PUT", "/v1/pops/mars/status", "admin", json=report).status_code == 404
    with api.store.engine.connect() as c:
        assert [r.pop for r in c.execute(sa.select(pop_statuses))] == ["iad"]

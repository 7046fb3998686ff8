"""The control plane's ``GET /metrics`` over a real socket, on SQLite and PostgreSQL.

Only a ``metrics`` token (or an admin one) reads it, and a ``metrics`` token reads nothing
else; promtool finds the exposition clean; a request moves its route's histogram (by
template, never raw path), a deploy its outcome, a satellite's report its last-seen time.
"""

from __future__ import annotations

import httpx

from tests.fixtures.api_server import Api
from tests.fixtures.exposition import check_metrics, sample


def _metrics_token(api: Api) -> str:
    created = api.call("POST", "/v1/tokens", "admin", json={"name": "prometheus", "scope": "metrics"})
    assert created.status_code == 201, created.text
    token: str = created.json()["token"]
    return token


def _scrape(api: Api, token: str) -> httpx.Response:
    return httpx.get(api.url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _value(text: str, name: str, **labels: str) -> float:
    """A sample's value; 0 when absent (a counter not moved yet)."""
    return sample(text, name, **labels) or 0.0


def test_metrics_are_read_with_a_metrics_token_and_are_promtool_clean(api: Api) -> None:
    token = _metrics_token(api)
    response = _scrape(api, token)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    check_metrics(response.content)
    assert "taxiway_server_request_duration_seconds_bucket" in response.text


def test_a_request_moves_the_histogram_of_its_route_template(api: Api) -> None:
    token = _metrics_token(api)
    name = "taxiway_server_request_duration_seconds_count"
    route = {"method": "GET", "route": "/v1/services/{service}", "code": "200"}
    before = _value(_scrape(api, token).text, name, **route)
    assert api.call("GET", "/v1/services/hello", "owner").status_code == 200
    after = _scrape(api, token).text
    assert _value(after, name, **route) == before + 1
    assert "/v1/services/hello" not in after, "the raw path never becomes a label"
    refused = api.call("GET", "/v1/services/hello", "stranger")
    assert refused.status_code == 403
    forbidden = {**route, "code": "403"}
    assert _value(_scrape(api, token).text, name, **forbidden) == 1
    api.call("GET", "/no/such/path", "owner")
    assert _value(_scrape(api, token).text, name, method="GET", route="unmatched", code="404") == 1


def test_only_a_metrics_or_admin_token_reads_metrics_and_a_metrics_token_nothing_else(api: Api) -> None:
    token = _metrics_token(api)
    for who in ("owner", "us", "iad"):
        response = api.call("GET", "/metrics", who)
        assert response.status_code == 403, (who, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "forbidden"
        assert "metrics" in response.json()["detail"]
    missing = httpx.get(api.url + "/metrics", timeout=10)
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert api.call("GET", "/metrics", "admin").status_code == 200
    headers = {"Authorization": f"Bearer {token}"}
    for method, path in (
        ("GET", "/v1/inventory"),
        ("GET", "/v1/services/hello"),
        ("GET", "/v1/audit"),
        ("GET", "/v1/tokens"),
        ("GET", "/v1/regions/us-east1/definitions"),
        ("GET", "/v1/pops/iad/config"),
    ):
        response = httpx.request(method, api.url + path, headers=headers, timeout=10)
        assert response.status_code == 403, (path, response.text)
    listed = httpx.get(api.url + "/v1/services", headers=headers, timeout=10)
    assert listed.json() == [], "a metrics token reads no service"


def test_deploys_and_last_reports_show(api: Api) -> None:
    token = _metrics_token(api)
    deploys = "taxiway_server_deploys_total"
    conflict = api.call(
        "PUT",
        "/v1/services/hello/environments/production",
        "owner",
        json={"revision": 1, "expected_version": 99},
    )
    assert conflict.status_code in (404, 409, 422), conflict.text
    text = _scrape(api, token).text
    assert sum(_value(text, deploys, outcome=o) for o in ("conflict", "refused")) == 1
    beat = api.call("PUT", "/v1/regions/us-east1/status", "us", json={"cursor": 0, "reports": []})
    assert beat.status_code == 204, beat.text
    text = _scrape(api, token).text
    seen = _value(text, "taxiway_server_satellite_last_seen_timestamp_seconds", region="us-east1")
    assert seen > 1.7e9
    assert _value(text, "taxiway_server_satellite_last_seen_timestamp_seconds", region="europe-west1") == 0


def test_an_edge_reports_where_its_metrics_are_and_the_glb_answers_it_back(api: Api) -> None:
    url = "http://127.0.0.1:41236/metrics"
    body = {"services": [], "haproxy": {"pid": 1}, "edge_metrics": url}
    reported = api.call("PUT", "/v1/pops/iad/status", "iad", json=body)
    assert reported.status_code == 204, reported.text
    [entry] = [e for e in api.call("GET", "/v1/glb", "admin").json() if e["pop"] == "iad"]
    assert entry["edge_metrics"] == url
    token = _metrics_token(api)
    seen = _value(_scrape(api, token).text, "taxiway_server_edge_last_seen_timestamp_seconds", pop="iad")
    assert seen > 1.7e9

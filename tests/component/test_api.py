"""The control plane's API over a real socket: auth on every route, problem+json, deploys."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from typing import Any

import httpx
import pytest

from tests.conftest import EXAMPLE_SERVICES
from tests.fixtures.api_server import Api, hello_files, tarball


class ParkedPoll:
    """A long poll sent from a thread; ``started`` returns once the server parks it."""

    def __init__(self, api: Api, path: str, who: str) -> None:
        self.body: dict[str, Any] = {}
        self.answered_at = 0.0

        def run() -> None:
            self.body = api.call("GET", path, who).json()
            self.answered_at = time.monotonic()

        self._thread = threading.Thread(target=run)
        self._thread.start()
        deadline = time.monotonic() + 10
        while api.app.state.changes.waiting == 0:  # the poll is parked, waiting for a change
            assert time.monotonic() < deadline, "the long poll never started waiting"
            time.sleep(0.005)

    def answer(self) -> dict[str, Any]:
        self._thread.join(timeout=15)
        return self.body


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/v1/whoami", None),
    ("GET", "/v1/regions", None),
    ("PUT", "/v1/regions/us-east1/nodes/us-east1-b/node-1", {"state": "ready"}),
    ("GET", "/v1/services/hello", None),
    ("GET", "/v1/artifacts/sha256:00", None),
    ("GET", "/v1/services", None),
    ("GET", "/v1/services/hello/revisions", None),
    ("POST", "/v1/services/hello/revisions", {"files": {}}),
    ("GET", "/v1/services/hello/revisions/1", None),
    ("GET", "/v1/services/hello/environments/production", None),
    ("PUT", "/v1/services/hello/environments/production", {"revision": 1, "expected_version": 0}),
    ("GET", "/v1/regions/us-east1/definitions", None),
    ("PUT", "/v1/regions/us-east1/status", {"cursor": 0, "reports": []}),
    ("GET", "/v1/status", None),
    ("GET", "/v1/pops/iad/config", None),
    ("PUT", "/v1/pops/iad/status", {"services": []}),
    ("GET", "/v1/glb", None),
    ("GET", "/v1/audit", None),
    ("POST", "/v1/tokens", {"name": "x", "scope": "owner", "services": ["hello"]}),
    ("GET", "/v1/tokens", None),
    ("DELETE", "/v1/tokens/0123456789abcdef", None),
    ("GET", "/v1/services/hello/outcomes", None),
    ("GET", "/v1/services/hello/environments/production/rollback-target", None),
    ("GET", "/v1/inventory", None),
    ("POST", "/v1/inventory/services", {"name": "httpbin", "owners": ["team-web"], "regions": ["us-east1"]}),
    ("PUT", "/v1/inventory/services/hello", {"entry": {"owners": ["team-hello"], "regions": ["us-east1"]}}),
    ("DELETE", "/v1/inventory/services/hello", None),
    ("DELETE", "/v1/services/hello/environments/production", None),
    ("POST", "/v1/platform/reload", None),
    ("POST", "/v1/alerts", {"version": "4", "status": "firing", "alerts": []}),
    ("GET", "/v1/alerts", None),
    ("GET", "/v1/services/hello/alerts", None),
]
# Who may pass authorisation on each route (others get 403); everyone authenticated may
# list regions, services and status (filtered to what they may see).
EVERYONE = {"admin", "owner", "stranger", "us", "eu", "iad"}
ALLOWED = {
    "/v1/whoami": EVERYONE,
    "/v1/regions": EVERYONE,
    "/v1/glb": EVERYONE,
    "/v1/pops/iad/config": {"admin", "iad"},
    "/v1/pops/iad/status": {"admin", "iad"},
    "/v1/regions/us-east1/nodes/us-east1-b/node-1": {"admin"},
    "/v1/artifacts/sha256:00": {"admin"},
    "/v1/services": EVERYONE,
    "/v1/status": EVERYONE,
    "/v1/regions/us-east1/definitions": {"admin", "us"},
    "/v1/regions/us-east1/status": {"admin", "us"},
    "/v1/audit": {"admin"},
    "/v1/tokens": {"admin"},
    "/v1/tokens/0123456789abcdef": {"admin"},
    "/v1/inventory": {"admin"},
    "/v1/inventory/services": {"admin"},
    "/v1/inventory/services/hello": {"admin"},
    "/v1/platform/reload": {"admin"},
    "/v1/alerts": {"admin", "owner", "stranger"},
}
ALLOWED_BY_METHOD = {
    ("DELETE", "/v1/services/hello/environments/production"): {"admin"},
    ("POST", "/v1/alerts"): {"admin"},  # and an alerts token, which the fixture has not
}


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_every_route_needs_a_token(shared_api: Api, method: str, path: str, body: Any) -> None:
    api = shared_api  # refused before any route runs: nothing changes
    response = api.call(method, path, None, json=body)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")
    bogus = httpx.request(method, api.url + path, headers={"Authorization": "Bearer twy_x_y"}, json=body)
    assert bogus.status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_every_route_is_scoped(api: Api, method: str, path: str, body: Any) -> None:
    allowed = ALLOWED_BY_METHOD.get((method, path)) or ALLOWED.get(path, {"admin", "owner"})
    for who in api.tokens:
        response = api.call(method, path, who, json=body)
        if who in allowed:
            assert response.status_code not in (401, 403), (who, response.text)
        else:
            assert response.status_code == 403, (who, response.status_code, response.text)
            assert response.json()["code"] == "forbidden"


def test_deploy_publishes_to_satellites_and_stale_writes_conflict(api: Api) -> None:
    created = api.call("POST", "/v1/services/hello/revisions", "owner", json={"files": hello_files()})
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    first = api.call("GET", "/v1/regions/us-east1/definitions", "us")
    cursor = first.json()["cursor"]
    assert first.json()["items"] == []

    poll = ParkedPoll(api, f"/v1/regions/us-east1/definitions?after={cursor}&wait=10", "us")
    published = time.monotonic()
    deployed = api.call(
        "PUT",
        "/v1/services/hello/environments/production",
        "owner",
        json={"revision": number, "expected_version": 0},
    )
    assert deployed.status_code == 200, deployed.text
    assert deployed.json()["version"] == 1
    body = poll.answer()
    assert [(i["service"], i["environment"], i["revision"]) for i in body["items"]] == [
        ("hello", "production", number)
    ]
    assert body["items"][0]["definition"]["spec"]["env"]["TAXIWAY_REGION"] == "us-east1"
    assert poll.answered_at - published < 1.0, "a change must reach a waiting satellite in well under 1 s"

    stale = api.call(
        "PUT",
        "/v1/services/hello/environments/production",
        "owner",
        json={"revision": number, "expected_version": 0},
    )
    assert stale.status_code == 409
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["code"] == "conflict"


def test_bad_manifest_is_rejected_with_locations_and_nothing_stored(api: Api) -> None:
    files = hello_files()
    files["service.yaml"] = files["service.yaml"].replace("asia-northeast3]", "mars-north1]")
    response = api.call("POST", "/v1/services/hello/revisions", "owner", json={"files": files})
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation-failed"
    assert any(
        p["file"] == ".taxiway/service.yaml"
        and p["field"].startswith("spec.regions")
        and p["found"] == "mars-north1"
        for p in problem["problems"]
    ), problem
    audit_before = len(api.store.audit_log())
    assert api.call("GET", "/v1/services/hello/revisions", "owner").json() == []
    assert len(api.store.audit_log()) == audit_before


def test_uploads_cannot_name_paths(api: Api) -> None:
    files = {"service.yaml": hello_files()["service.yaml"], "../../etc/passwd.yaml": "x: 1"}
    response = api.call("POST", "/v1/services/hello/revisions", "owner", json={"files": files})
    assert response.status_code == 422
    assert "unexpected file name" in response.text


def _deploy(api: Api, body: dict[str, Any]) -> int:
    created = api.call("POST", "/v1/services/hello/revisions", "owner", json=body)
    assert created.status_code == 201, created.text
    number: int = created.json()["number"]
    done = api.call(
        "PUT",
        "/v1/services/hello/environments/production",
        "owner",
        json={"revision": number, "expected_version": 0},
    )
    assert done.status_code == 200, done.text
    return number


def test_secrets_are_sealed_at_rest_and_revealed_only_to_the_region(api: Api) -> None:
    _deploy(api, {"files": hello_files()})
    stored = json.dumps(api.store.revisions("hello")[0].definitions)
    assert "not-a-real-token" not in stored, "a secret value reached the store in plain text"
    assert '"sealed"' in stored

    def token_env(who: str) -> dict[str, Any]:
        body = api.call("GET", "/v1/regions/us-east1/definitions", who).json()
        env: dict[str, Any] = body["items"][0]["definition"]["spec"]["env"]["API_TOKEN"]
        return env

    assert token_env("us")["value"] == "not-a-real-token"
    assert "value" not in token_env("admin")
    assert "sealed" not in token_env("admin")
    revision = api.call("GET", "/v1/services/hello/revisions/1", "owner").text
    assert "not-a-real-token" not in revision
    assert "sealed" not in revision


def test_artifacts_are_stored_once_and_read_only_by_who_may(api: Api) -> None:
    data = tarball({"app.py": b"print('hi')\n"})
    artifact = {"format": "tar.gz", "data": base64.b64encode(data).decode()}
    number = _deploy(api, {"files": hello_files(), "artifact": artifact})
    again = api.call(
        "POST", "/v1/services/hello/revisions", "owner", json={"files": hello_files(), "artifact": artifact}
    )
    assert again.json()["number"] == number, "the same files and artifact are the same revision"
    digest = again.json()["artifact"]
    assert digest == "sha256:" + hashlib.sha256(data).hexdigest()
    feed = api.call("GET", "/v1/regions/us-east1/definitions", "us").json()
    assert feed["items"][0]["artifact"] == digest
    for who, status in (("us", 200), ("owner", 200), ("admin", 200), ("stranger", 403)):
        response = api.call("GET", f"/v1/artifacts/{digest}", who)
        assert response.status_code == status, (who, response.text)
        if status == 200:
            assert response.content == data
    broken = {"format": "tar.gz", "data": base64.b64encode(b"not gzip").decode()}
    refused = api.call(
        "POST", "/v1/services/hello/revisions", "owner", json={"files": hello_files(), "artifact": broken}
    )
    assert refused.status_code == 400
    assert "gzip" in refused.json()["detail"]


def test_node_state_reaches_the_region_feed_and_wakes_its_long_poll(api: Api) -> None:
    cursor = api.call("GET", "/v1/regions/us-east1/definitions", "us").json()["cursor"]
    poll = ParkedPoll(api, f"/v1/regions/us-east1/definitions?after={cursor}&wait=10", "us")
    changed = time.monotonic()
    done = api.call("PUT", "/v1/regions/us-east1/nodes/us-east1-b/node-1", "admin", json={"state": "failed"})
    assert done.status_code == 200, done.text
    assert poll.answer()["failed_nodes"] == [["us-east1-b", "node-1"]]
    assert poll.answered_at - changed < 1.0
    eu = api.call("GET", "/v1/regions/europe-west1/definitions", "eu").json()
    assert eu["failed_nodes"] == []
    unknown = api.call(
        "PUT", "/v1/regions/us-east1/nodes/us-east1-b/node-9", "admin", json={"state": "failed"}
    )
    assert unknown.status_code == 404
    assert "us-east1-b/node-1" in unknown.json()["detail"]
    api.call("PUT", "/v1/regions/us-east1/nodes/us-east1-b/node-1", "admin", json={"state": "ready"})
    regions = {r["name"]: r for r in api.call("GET", "/v1/regions", "owner").json()}
    assert regions["us-east1"]["failed_nodes"] == []


def test_heartbeats_carry_the_satellite_api(api: Api) -> None:
    body = {"cursor": 3, "api": "http://127.0.0.1:4242", "reports": []}
    assert api.call("PUT", "/v1/regions/us-east1/status", "us", json=body).status_code == 204
    regions = {r["name"]: r for r in api.call("GET", "/v1/regions", "owner").json()}
    assert regions["us-east1"]["api"] == "http://127.0.0.1:4242"
    assert regions["us-east1"]["cursor"] == 3
    assert regions["us-east1"]["last_seen"] is not None
    assert regions["europe-west1"]["last_seen"] is None
    service = api.call("GET", "/v1/services/hello", "owner").json()
    assert service["environments"] == {"staging": None, "production": None}


def test_each_pop_gets_the_global_load_balancing_config_and_its_changes(api: Api) -> None:
    assert api.call("GET", "/v1/pops/iad/config", "iad").json()["services"] == []
    _deploy(api, {"files": hello_files()})
    for region, port in (("us-east1", 8101), ("europe-west1", 8102)):
        body = {"cursor": 1, "ingress": f"http://127.0.0.1:{port}", "reports": []}
        who = {"us-east1": "us", "europe-west1": "eu"}[region]
        assert api.call("PUT", f"/v1/regions/{region}/status", who, json=body).status_code == 204
    config = api.call("GET", "/v1/pops/iad/config", "iad").json()
    [hello] = config["services"]
    assert hello["steering"] == "dynamic_latency"
    assert hello["fallback_region"] == "us-east1"
    assert hello["block_health_endpoint"] is True
    assert hello["monitor"] == {
        "protocol": "http",
        "path": "/health",
        "interval": 2.0,
        "timeout": 1.0,
        "consecutive_up": 2,
        "consecutive_down": 2,
        "expected_codes": "2xx",
    }
    assert hello["pools"] == [
        {"region": "us-east1", "ingress": "http://127.0.0.1:8101"},
        {"region": "europe-west1", "ingress": "http://127.0.0.1:8102"},
        {"region": "asia-northeast3", "ingress": None},
    ]
    assert api.call("GET", "/v1/pops/fra/config", "iad").status_code == 403

    poll = ParkedPoll(api, f"/v1/pops/iad/config?after={config['version']}&wait=10", "iad")
    reported = time.monotonic()
    body = {"cursor": 1, "ingress": "http://127.0.0.1:8103", "reports": []}
    api.call("PUT", "/v1/regions/asia-northeast3/status", "admin", json=body)
    changed = poll.answer()
    assert changed["version"] != config["version"]
    assert changed["services"][0]["pools"][2]["ingress"] == "http://127.0.0.1:8103"
    assert poll.answered_at - reported < 2.0


def test_pop_status_is_shown_only_to_who_may_read_the_service(api: Api) -> None:
    entry = {"name": "other", "owners": ["team-other"], "regions": ["us-east1"]}
    assert api.call("POST", "/v1/inventory/services", "admin", json=entry).status_code == 201
    report = {
        "services": [
            {
                "service": "hello",
                "pools": [{"region": "us-east1", "healthy": True, "rtt_ms": 4.2, "serving": True}],
            },
            {"service": "other", "pools": []},
        ],
        "haproxy": {"pid": 42},
    }
    assert api.call("PUT", "/v1/pops/iad/status", "iad", json=report).status_code == 204
    assert api.call("PUT", "/v1/pops/fra/status", "iad", json=report).status_code == 403
    [seen] = api.call("GET", "/v1/glb?service=hello", "owner").json()
    assert seen["pop"] == "iad"
    assert [s["service"] for s in seen["services"]] == ["hello"]
    assert seen["services"][0]["pools"][0]["rtt_ms"] == 4.2
    assert api.call("GET", "/v1/glb?service=hello", "stranger").status_code == 403
    [mine] = api.call("GET", "/v1/glb", "stranger").json()
    assert [s["service"] for s in mine["services"]] == ["other"], "an owner sees only its own services"


def test_the_api_describes_itself_without_pages_that_need_a_cdn(api: Api) -> None:
    described = httpx.get(f"{api.url}/openapi.json", timeout=10, trust_env=False)
    assert described.status_code == 200
    assert "/v1/status" in described.json()["paths"]
    for page in ("/docs", "/redoc"):
        # FastAPI's pages fetch Swagger UI and ReDoc from cdn.jsdelivr.net: blank offline
        assert httpx.get(f"{api.url}{page}", timeout=10, trust_env=False).status_code == 404


def test_the_document_declares_bearer_auth_and_every_problem_answer(api: Api) -> None:
    document = httpx.get(f"{api.url}/openapi.json", timeout=10, trust_env=False).json()
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearer"]["description"],
    }
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas, "FastAPI's 422 shape is not what the API answers"
    problem = schemas["ProblemDocument"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
    assert {"retryable", "problems"} <= set(problem["properties"])
    assert "problems" in schemas["InvalidRequest"]["required"]
    operations = [(m.upper(), p, o) for p, ops in document["paths"].items() for m, o in ops.items()]
    assert len(operations) >= len(ROUTES)
    for method, path, operation in operations:
        where = f"{method} {path}"
        assert operation["security"] == [{"bearer": []}], where
        answers = operation["responses"]
        for status in ("401", "422", "503"):
            assert list(answers[status]["content"]) == ["application/problem+json"], (where, status)
        assert answers["422"]["content"]["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/InvalidRequest"
        }
        assert "WWW-Authenticate" in answers["401"]["headers"], where
        if path != "/v1/whoami" and path != "/v1/regions" and path != "/v1/services":
            assert "403" in answers, f"{where} refuses other scopes but does not say so"
        if method in ("PUT", "POST"):
            assert {"400", "413"} <= set(answers), f"{where} reads a body"
    paths = document["paths"]
    assert paths["/v1/artifacts/{digest}"]["get"]["responses"]["200"]["content"] == {
        "application/gzip": {"schema": {"type": "string", "format": "binary"}}
    }
    assert "content" not in paths["/v1/regions/{region}/status"]["put"]["responses"]["204"]
    assert "409" in paths["/v1/services/{service}/environments/{environment}"]["put"]["responses"]


def test_the_problem_schema_is_what_the_api_answers(api: Api) -> None:
    schemas = httpx.get(f"{api.url}/openapi.json", timeout=10).json()["components"]["schemas"]
    declared = set(schemas["ProblemDocument"]["properties"])
    item = set(schemas["ProblemItem"]["properties"])
    # A located problem (an invalid manifest), a request problem, one from the guard, a 404.
    answers = [
        api.call("POST", "/v1/services/hello/revisions", "owner", json={"files": {"service.yaml": "a: ["}}),
        api.call("GET", "/v1/audit?limit=0", "admin"),
        api.call("PUT", "/v1/regions/us-east1/status", None, json={}),
        api.call("GET", "/v1/services/hello/revisions/7", "owner"),
    ]
    assert [a.status_code for a in answers] == [422, 422, 401, 404]
    for answer in answers:
        found = answer.json()
        assert set(found) <= declared, set(found) - declared
        assert all(set(p) <= item for p in found.get("problems", [])), found


def test_a_method_a_path_does_not_take_is_405_with_allow(api: Api) -> None:
    for method, path, allowed in [
        ("TRACE", "/v1/services/hello/environments/production", "DELETE, GET, PUT"),
        ("OPTIONS", "/v1/services/hello/revisions", "GET, POST"),
        ("PATCH", "/v1/whoami", "GET"),
    ]:
        answer = api.call(method, path, "admin")
        assert answer.status_code == 405, (method, path)
        assert answer.headers["allow"] == allowed, (method, path)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "method-not-allowed"


def test_a_bug_is_answered_as_a_problem_without_its_traceback(api: Api) -> None:
    def broken() -> None:
        raise RuntimeError("secret detail of a bug")

    api.app.add_api_route("/v1/broken", broken)  # a route with a bug, as any could have
    answer = api.call("GET", "/v1/broken", "admin")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "internal-error"
    assert "secret detail" not in answer.text
    assert "Traceback" not in answer.text


def test_services_registered_through_the_api_deploy_at_once(api: Api) -> None:
    files = {
        name: text.replace("name: hello", "name: httpbin").replace("owner: team-hello", "owner: team-web")
        for name, text in hello_files().items()
    }
    unknown = api.call("POST", "/v1/services/httpbin/revisions", "admin", json={"files": files})
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    detail = unknown.json()["detail"]
    assert "no service named 'httpbin' in the inventory" in detail
    assert "`taxiway services create httpbin --owner TEAM --regions R1,R2`" in detail
    assert "inventory file" in detail

    entry = {
        "name": "httpbin",
        "owners": ["team-web"],
        "regions": ["us-east1", "europe-west1", "asia-northeast3"],
        "quota": {"max_instances": 40},
        "global_load_balancing": True,
    }
    bad = api.call("POST", "/v1/inventory/services", "admin", json={**entry, "regions": ["mars-north1"]})
    assert bad.status_code == 400
    assert "unknown region mars-north1" in bad.json()["detail"]
    created = api.call("POST", "/v1/inventory/services", "admin", json=entry)
    assert created.status_code == 201, created.text
    assert (created.json()["origin"], created.json()["environments"]) == ("api", ["staging", "production"])
    again = api.call("POST", "/v1/inventory/services", "admin", json=entry)
    assert again.status_code == 409

    revision = api.call("POST", "/v1/services/httpbin/revisions", "admin", json={"files": files})
    assert revision.status_code == 201, revision.text
    listed = api.call("GET", "/v1/inventory", "admin").json()
    assert {s["name"]: s["origin"] for s in listed["services"]} == {**EXAMPLE_SERVICES, "httpbin": "api"}

    narrowed = api.call(
        "PUT",
        "/v1/inventory/services/httpbin",
        "admin",
        json={"entry": {**{k: v for k, v in entry.items() if k != "name"}, "regions": ["us-east1"]}},
    )
    assert narrowed.status_code == 200, narrowed.text
    refused = api.call("POST", "/v1/services/httpbin/revisions", "admin", json={"files": hello_files()})
    assert refused.status_code == 422, "the manifest names the wrong service"
    outside = api.call("POST", "/v1/services/httpbin/revisions", "admin", json={"files": files})
    assert outside.status_code == 422
    assert "region not allowed" in outside.text, "the narrowed entry applies at once"


def test_deleting_a_service_needs_its_definitions_removed(api: Api) -> None:
    regions = ["us-east1", "europe-west1", "asia-northeast3"]
    entry = {"name": "httpbin", "owners": ["team-hello"], "regions": regions, "global_load_balancing": True}
    assert api.call("POST", "/v1/inventory/services", "admin", json=entry).status_code == 201
    files = {n: t.replace("name: hello", "name: httpbin") for n, t in hello_files().items()}
    created = api.call("POST", "/v1/services/httpbin/revisions", "admin", json={"files": files})
    assert created.status_code == 201, created.text
    pointed = api.call(
        "PUT",
        "/v1/services/httpbin/environments/production",
        "admin",
        json={"revision": created.json()["number"], "expected_version": 0},
    )
    assert pointed.status_code == 200
    refused = api.call("DELETE", "/v1/inventory/services/httpbin", "admin")
    assert refused.status_code == 409
    assert "`taxiway services undeploy httpbin --env production`" in refused.json()["detail"]
    seeded = api.call("DELETE", "/v1/inventory/services/hello", "admin")
    assert seeded.status_code == 409
    assert "listed in the inventory file" in seeded.json()["detail"]

    cursor = api.call("GET", "/v1/regions/us-east1/definitions", "us").json()["cursor"]
    removed = api.call("DELETE", "/v1/services/httpbin/environments/production", "admin")
    assert removed.status_code == 200, removed.text
    assert removed.json()["removed_from"] == ["asia-northeast3", "europe-west1", "us-east1"]
    feed = api.call("GET", f"/v1/regions/us-east1/definitions?after={cursor}", "us").json()
    assert [(i["service"], i["definition"]) for i in feed["items"]] == [("httpbin", None)]
    assert api.call("DELETE", "/v1/inventory/services/httpbin", "admin").status_code == 200
    gone = api.call("GET", "/v1/services/httpbin", "admin")
    assert gone.status_code == 404
    assert "taxiway services create httpbin" in gone.json()["detail"]


def test_an_owner_that_differs_from_a_registered_service_names_the_command_that_changes_it(api: Api) -> None:
    entry = {
        "name": "httpbin",
        "owners": ["team-web"],
        "regions": ["us-east1"],
        "global_load_balancing": True,
    }
    assert api.call("POST", "/v1/inventory/services", "admin", json=entry).status_code == 201
    files = {
        name: text.replace("name: hello", "name: httpbin").replace("owner: team-hello", "owner: team-other")
        for name, text in hello_files().items()
    }
    refused = api.call("POST", "/v1/services/httpbin/revisions", "admin", json={"files": files})
    assert refused.status_code == 422, refused.text
    (owner,) = [p for p in refused.json()["problems"] if p["field"] == "metadata.owner"]
    assert "['team-web']" in owner["expected"]
    assert (
        "the control plane's inventory (`taxiway services update httpbin --owner TEAM` changes them)"
        in (owner["expected"])
    )
    assert "inventory.yaml" not in owner["expected"], "httpbin is not in the inventory file"

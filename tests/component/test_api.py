"""The control plane's API over a real socket: auth on every route, problem+json, deploys."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from taxiway.server import app as server_app
from taxiway.spec import platform
from taxiway.store.sql import SqlStore
from tests.conftest import EXAMPLES


@dataclass
class Api:
    url: str
    tokens: dict[str, str]
    store: SqlStore
    app: Any

    def call(self, method: str, path: str, who: str | None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.request(method, self.url + path, headers=headers, timeout=10, **kw)


def _hello_files(root: Path = EXAMPLES / "hello" / ".taxiway") -> dict[str, str]:
    return {p.name: p.read_text() for p in root.iterdir() if p.suffix == ".yaml"}


@pytest.fixture
def api(store_url: str) -> Iterator[Api]:
    topology = platform.load_topology(EXAMPLES / "topology.yaml")
    inventory = platform.load_inventory(EXAMPLES / "inventory.yaml", topology)
    store = SqlStore.open(store_url)
    server_app.sync_platform(store, topology, inventory, "test")
    tokens = {
        "admin": store.create_token("root", "admin", "test"),
        "owner": store.create_token("hello-ci", "owner", "test", services=["hello"]),
        "stranger": store.create_token("other-ci", "owner", "test", services=["other"]),
        "us": store.create_token("sat-us", "satellite", "test", region="us-east1"),
        "eu": store.create_token("sat-eu", "satellite", "test", region="europe-west1"),
    }
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = server_app.create_app(store, topology, inventory)
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "API server did not start"
        time.sleep(0.01)
    yield Api(f"http://127.0.0.1:{port}", tokens, store, app)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    store.close()


ROUTES = [
    ("GET", "/v1/regions", None),
    ("GET", "/v1/services", None),
    ("GET", "/v1/services/hello/revisions", None),
    ("POST", "/v1/services/hello/revisions", {"files": {}}),
    ("GET", "/v1/services/hello/revisions/1", None),
    ("GET", "/v1/services/hello/environments/production", None),
    ("PUT", "/v1/services/hello/environments/production", {"revision": 1, "expected_version": 0}),
    ("GET", "/v1/regions/us-east1/definitions", None),
    ("PUT", "/v1/regions/us-east1/status", {"cursor": 0, "reports": []}),
    ("GET", "/v1/status", None),
    ("GET", "/v1/audit", None),
    ("POST", "/v1/tokens", {"name": "x", "scope": "owner", "services": ["hello"]}),
]
# Who may pass authorisation on each route (others get 403); everyone authenticated may
# list regions, services and status (filtered to what they may see).
ALLOWED = {
    "/v1/regions": {"admin", "owner", "stranger", "us", "eu"},
    "/v1/services": {"admin", "owner", "stranger", "us", "eu"},
    "/v1/status": {"admin", "owner", "stranger", "us", "eu"},
    "/v1/regions/us-east1/definitions": {"admin", "us"},
    "/v1/regions/us-east1/status": {"admin", "us"},
    "/v1/audit": {"admin"},
    "/v1/tokens": {"admin"},
}


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_every_route_needs_a_token(api: Api, method: str, path: str, body: Any) -> None:
    response = api.call(method, path, None, json=body)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")
    bogus = httpx.request(method, api.url + path, headers={"Authorization": "Bearer twy_x_y"}, json=body)
    assert bogus.status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_every_route_is_scoped(api: Api, method: str, path: str, body: Any) -> None:
    allowed = ALLOWED.get(path, {"admin", "owner"})
    for who in api.tokens:
        response = api.call(method, path, who, json=body)
        if who in allowed:
            assert response.status_code not in (401, 403), (who, response.text)
        else:
            assert response.status_code == 403, (who, response.status_code, response.text)
            assert response.json()["code"] == "forbidden"


def test_deploy_publishes_to_satellites_and_stale_writes_conflict(api: Api) -> None:
    created = api.call("POST", "/v1/services/hello/revisions", "owner", json={"files": _hello_files()})
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    first = api.call("GET", "/v1/regions/us-east1/definitions", "us")
    cursor = first.json()["cursor"]
    assert first.json()["items"] == []

    answered: dict[str, Any] = {}

    def long_poll() -> None:
        response = api.call("GET", f"/v1/regions/us-east1/definitions?after={cursor}&wait=10", "us")
        answered["at"] = time.monotonic()
        answered["body"] = response.json()

    poller = threading.Thread(target=long_poll)
    poller.start()
    deadline = time.monotonic() + 10
    while api.app.state.changes.waiting == 0:  # the poll is parked, waiting for a change
        assert time.monotonic() < deadline, "the long poll never started waiting"
        time.sleep(0.005)
    published = time.monotonic()
    deployed = api.call(
        "PUT",
        "/v1/services/hello/environments/production",
        "owner",
        json={"revision": number, "expected_version": 0},
    )
    assert deployed.status_code == 200, deployed.text
    assert deployed.json()["version"] == 1
    poller.join(timeout=15)
    body = answered["body"]
    assert [(i["service"], i["environment"], i["revision"]) for i in body["items"]] == [
        ("hello", "production", number)
    ]
    assert body["items"][0]["definition"]["spec"]["env"]["TAXIWAY_REGION"] == "us-east1"
    assert answered["at"] - published < 1.0, "a change must reach a waiting satellite in well under 1 s"

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
    files = _hello_files()
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
    files = {"service.yaml": _hello_files()["service.yaml"], "../../etc/passwd.yaml": "x: 1"}
    response = api.call("POST", "/v1/services/hello/revisions", "owner", json={"files": files})
    assert response.status_code == 422
    assert "unexpected file name" in response.text

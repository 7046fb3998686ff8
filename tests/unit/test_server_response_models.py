"""The API document describes the answers: each route names the model it renders with."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from taxiway.server import app as server_app
from taxiway.spec import platform
from taxiway.store.sql import SqlStore
from tests.conftest import EXAMPLES

DECLARED = [
    ("get", "/v1/regions/{region}/definitions", "Batch", False),
    ("get", "/v1/pops/{pop}/config", "PopConfig", False),
    ("get", "/v1/status", "StatusEntry", True),
    ("get", "/v1/regions", "RegionEntry", True),
    ("get", "/v1/glb", "PopEntry", True),
    ("put", "/v1/regions/{region}/nodes/{datacenter}/{node}", "NodeState", False),
    ("get", "/v1/audit", "AuditEntry", True),
    ("get", "/v1/whoami", "Whoami", False),
    ("post", "/v1/tokens", "NewToken", False),
    ("get", "/v1/tokens", "TokenInfo", True),
    ("delete", "/v1/tokens/{token_id}", "TokenInfo", False),
    ("get", "/v1/services/{service}/secrets", "SecretInfo", True),
    ("put", "/v1/services/{service}/environments/{environment}/secrets/{name}", "SecretInfo", False),
    ("delete", "/v1/services/{service}/environments/{environment}/secrets/{name}", "SecretInfo", False),
    ("post", "/v1/services/{service}/environments/{environment}/secret-digests", "Digests", False),
    ("get", "/v1/services/{service}", "ServiceDetail", False),
    ("get", "/v1/services/{service}/revisions", "RevisionSummary", True),
    ("post", "/v1/services/{service}/revisions", "NewRevision", False),
    ("get", "/v1/services/{service}/revisions/{number}", "RevisionDetail", False),
    ("get", "/v1/services/{service}/storage", "Storage", False),
    ("get", "/v1/services/{service}/environments/{environment}", "DesiredState", False),
    ("put", "/v1/services/{service}/environments/{environment}", "DesiredState", False),
    ("delete", "/v1/services/{service}/environments/{environment}", "Undeployed", False),
    ("get", "/v1/services/{service}/outcomes", "Outcome", True),
    ("get", "/v1/services/{service}/environments/{environment}/rollback-target", "RollbackTarget", False),
]


@pytest.fixture(scope="module")
def document() -> Iterator[dict[str, Any]]:
    topology = platform.load_topology(EXAMPLES / "topology.yaml")
    inventory = platform.load_inventory(EXAMPLES / "inventory.yaml", topology)
    store = SqlStore.open("sqlite://")
    try:
        yield server_app.create_app(store, topology, inventory).openapi()
    finally:
        store.close()


@pytest.mark.parametrize(("method", "path", "model", "listed"), DECLARED)
def test_the_route_declares_the_model_it_answers_with(
    document: dict[str, Any], method: str, path: str, model: str, listed: bool
) -> None:
    answers = document["paths"][path][method]["responses"]
    success = next(code for code in answers if code.startswith("2"))
    schema = answers[success]["content"]["application/json"]["schema"]
    if listed:
        assert schema.get("type") == "array", schema
        schema = schema["items"]
    assert schema.get("$ref") == f"#/components/schemas/{model}", schema
    assert document["components"]["schemas"][model]["properties"]

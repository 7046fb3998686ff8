"""The API answers as its OpenAPI document says: schemathesis against a real control plane.

``taxiway server`` runs as its own process (SQLite, the example topology and inventory).
schemathesis reads its document (the one it serves at ``/openapi.json``: a test holds the
two equal, see :func:`_document`) and sends each operation generated requests: the
coverage phase (each parameter's bounds, wrong types, missing fields, methods the path
does not take) and the fuzzing phase (random valid and invalid requests), each case once
with an admin token and once with an owner token. Every answer must be one the document
declares: never a 5xx, a status code listed for the operation, a content type listed for
that status, a body of the listed schema, the headers it lists, and a 405 carrying the
``Allow`` its path takes. Without a token, every operation answers 401 problem+json.

Bounded so that it stays a test, not a soak: a fixed seed, deterministic generation, few
examples per operation; under a minute on two cores, under three with them loaded. The
cases it found (surrogates, undocumented statuses, a 405 without ``Allow``) each have a
focused test in test_api.py and test_api_guard.py.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis

from taxiway.server import app as server_app
from taxiway.spec import platform
from taxiway.store.sql import SqlStore
from tests.conftest import EXAMPLES
from tests.fixtures.sockets import free_port

pytestmark = pytest.mark.slow

TAXIWAY = [sys.executable, "-m", "taxiway.cli.main"]
SEED = 9
EXAMPLES_PER_OPERATION = 12
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.unsupported_method,
    schemathesis.checks.allow_header_conformance,
]


@dataclass(frozen=True)
class ControlPlane:
    url: str
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """``taxiway server`` on loopback, with an admin token and an owner token for hello."""
    home = tmp_path_factory.mktemp("control-plane")
    platform = [
        *("--database", f"sqlite:///{home / 'db.sqlite'}"),
        *("--topology", str(EXAMPLES / "topology.yaml")),
        *("--inventory", str(EXAMPLES / "inventory.yaml")),
        *("--key-file", str(home / "server.key")),
    ]
    token_file = home / "admin.token"
    init = subprocess.run(
        [*TAXIWAY, "server", "init", *platform, "--token-file", str(token_file)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert init.returncode == 0, init.stderr
    url = f"http://127.0.0.1:{free_port()}"
    log = home / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*TAXIWAY, "server", *platform, "--listen", url.removeprefix("http://")],
            stdout=subprocess.DEVNULL,
            stderr=sink,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 90  # a loaded machine starts Python slowly
        while not _answers(url):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the control plane did not come up"
            time.sleep(0.05)
        admin = token_file.read_text().strip()
        created = httpx.post(
            f"{url}/v1/tokens",
            headers={"Authorization": f"Bearer {admin}"},
            json={"name": "hello-ci", "scope": "owner", "services": ["hello"]},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        yield ControlPlane(url, {"admin": admin, "owner": created.json()["token"]})
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)
    assert "Traceback" not in log.read_text(), log.read_text()[-4000:]


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _document() -> dict[str, Any]:
    """The control plane's document, as :func:`create_app` describes the example platform.

    schemathesis makes one test per operation while pytest collects, before any fixture
    runs (and its fixture-time loader does not run on this pytest), so the document it
    reads is built here; :func:`test_the_served_document_is_the_one_tested` holds the
    process to serving exactly this one."""
    topology = platform.load_topology(EXAMPLES / "topology.yaml")
    inventory = platform.load_inventory(EXAMPLES / "inventory.yaml", topology)
    store = SqlStore.open("sqlite://")
    try:
        return server_app.create_app(store, topology, inventory).openapi()
    finally:
        store.close()


DOCUMENT = _document()


def _schema(**config: Any) -> schemathesis.BaseSchema:
    settings = {
        "seed": SEED,
        "generation": {
            "max-examples": EXAMPLES_PER_OPERATION,
            "deterministic": True,
            "database": "none",
            "with-security-parameters": False,
        },
        "phases": {"examples": {"enabled": False}, "stateful": {"enabled": False}},
        "request-timeout": 40,
        **config,
    }
    return schemathesis.openapi.from_dict(DOCUMENT, config=schemathesis.Config.from_dict(settings))


authenticated = _schema()
"""Every phase but the stateful one: coverage (bounds, wrong types, unexpected methods), fuzzing."""
anonymous = _schema(
    generation={"max-examples": 2, "deterministic": True, "database": "none", "mode": "positive"},
    phases={"examples": {"enabled": False}, "coverage": {"enabled": False}, "stateful": {"enabled": False}},
)
"""Valid requests only: without a token, even those are refused."""


def test_the_served_document_is_the_one_tested(control_plane: ControlPlane) -> None:
    assert httpx.get(f"{control_plane.url}/openapi.json", timeout=10).json() == DOCUMENT


@authenticated.parametrize()
@hypothesis.settings(deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_every_answer_is_one_the_document_declares(
    case: schemathesis.Case[Any], control_plane: ControlPlane
) -> None:
    for who in ("admin", "owner"):
        headers = {"Authorization": f"Bearer {control_plane.tokens[who]}"}
        case.call_and_validate(base_url=control_plane.url, headers=headers, checks=CHECKS)


@anonymous.parametrize()
@hypothesis.settings(deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_without_a_token_every_operation_answers_401(
    case: schemathesis.Case[Any], control_plane: ControlPlane
) -> None:
    response = case.call(base_url=control_plane.url)
    assert response.status_code == 401, (case.method, case.formatted_path, response.text[:200])
    assert response.headers["content-type"] == ["application/problem+json"]
    case.validate_response(response, checks=CHECKS)

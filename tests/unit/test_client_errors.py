"""Answers and failures of the control plane mapped onto Taxiway's errors, never leaking the token."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from taxiway.client import http, upload
from taxiway.errors import Conflict, NotFound, ProtocolError, TaxiwayError, ValidationFailed
from taxiway.spec import service_files
from tests.conftest import EXAMPLES

TOKEN = "twy_abc_very-secret"


def problem(status: int, code: str, detail: str = "detail", **extra: Any) -> httpx.Response:
    body = {"type": f"https://taxiway.dev/problems/{code}", "status": status, "code": code, "detail": detail}
    return httpx.Response(
        status, json={**body, **extra}, headers={"content-type": "application/problem+json"}
    )


def located() -> list[dict[str, Any]]:
    return [
        {
            "file": ".taxiway/service.yaml",
            "line": 12,
            "column": 23,
            "field": "spec.regions[1]",
            "message": "unknown region",
            "found": "mars-north1",
            "expected": "a region of the topology",
        }
    ]


@pytest.mark.parametrize(
    ("response", "kind", "text"),
    [
        (problem(404, "not-found", "no service 'x'"), NotFound, "no service 'x'"),
        (problem(409, "conflict", "stale"), Conflict, "stale"),
        (problem(401, "unauthorized", "the token is unknown"), http.AccessDenied, "not authenticated"),
        (problem(403, "forbidden", "this token may not act on 'x'"), http.AccessDenied, "not allowed"),
        (problem(503, "transient", "database busy"), http.Unreachable, "answered 503"),
        (httpx.Response(502, text="<html>bad gateway</html>"), http.Unreachable, "answered 502"),
        (
            problem(422, "invalid-request", problems=[{"field": "body.files", "message": "required"}]),
            ProtocolError,
            "body.files: required",
        ),
        (httpx.Response(418, text="teapot"), ProtocolError, "answered 418"),
    ],
)
def test_error_for(response: httpx.Response, kind: type[TaxiwayError], text: str) -> None:
    error = http.error_for(response, "GET /v1/x")
    assert type(error) is kind
    assert text in str(error)
    assert error.retryable is (kind is http.Unreachable)


def test_validation_problems_keep_their_location() -> None:
    error = http.error_for(problem(422, "validation-failed", problems=located()), "POST")
    assert isinstance(error, ValidationFailed)
    [found] = error.problems
    assert found.render() == (
        ".taxiway/service.yaml:12:23: spec.regions[1]: unknown region "
        "(found mars-north1; expected a region of the topology)"
    )


def client(handler: Any) -> http.ControlPlane:
    return http.ControlPlane("http://cp.test", TOKEN, transport=httpx.MockTransport(handler))


def test_bearer_sent_and_never_in_an_error() -> None:
    seen: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        raise httpx.ConnectError("connection refused", request=request)

    with client(refuse) as cp, pytest.raises(http.Unreachable) as caught:
        cp.get("/v1/regions")
    assert seen == [f"Bearer {TOKEN}"]
    assert "cannot reach the control plane at http://cp.test" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_upload_problems_point_at_local_files(tmp_path: Path) -> None:
    files = service_files.find(EXAMPLES / "bad" / "semantic" / "unknown-region")
    payload = upload.service_upload(files)
    assert set(payload.files) == {"service.yaml"}
    bodies: list[dict[str, Any]] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return problem(422, "validation-failed", problems=located())

    with client(refuse) as cp, pytest.raises(ValidationFailed) as caught:
        upload.create_revision(cp, "hello", payload)
    assert bodies[0]["artifact"]["format"] == "tar.gz"
    [found] = caught.value.problems
    assert found.location.file == str(
        EXAMPLES / "bad" / "semantic" / "unknown-region" / ".taxiway" / "service.yaml"
    )
    assert (found.location.line, found.location.column) == (12, 23)


def test_upload_names_overlays_as_the_control_plane_expects() -> None:
    payload = upload.service_upload(service_files.find(EXAMPLES / "hello"))
    assert sorted(payload.files) == ["env-production.yaml", "service-staging.yaml", "service.yaml"]
    assert payload.directory == EXAMPLES / "hello"


def test_an_artifact_the_control_plane_stored_differently_is_refused() -> None:
    payload = upload.service_upload(service_files.find(EXAMPLES / "hello"))

    def answer(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            201, json={"service": "hello", "number": 1, "digest": "d", "artifact": "sha256:0"}
        )

    with client(answer) as cp, pytest.raises(ProtocolError, match="stored artifact"):
        upload.create_revision(cp, "hello", payload)


@pytest.mark.parametrize(
    ("failure", "kind", "text"),
    [
        (httpx.ReadTimeout("timed out"), http.Unreachable, "did not answer in time"),
        (httpx.ConnectError("connection refused"), http.Unreachable, "cannot reach the control plane at"),
        (httpx.DecodingError("bad gzip"), ProtocolError, "answered something unreadable"),
        (httpx.TooManyRedirects("loop"), ProtocolError, "answered something unreadable"),
    ],
)
def test_every_httpx_error_becomes_a_taxiway_error(
    failure: httpx.HTTPError, kind: type[TaxiwayError], text: str
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure

    with (
        http.ControlPlane("http://cp.test", TOKEN, transport=httpx.MockTransport(fail)) as cp,
        pytest.raises(kind, match=text) as raised,
    ):
        cp.get("/v1/regions")
    assert raised.value.__cause__ is failure
    assert TOKEN not in str(raised.value)


def test_an_answer_that_is_not_json_is_a_protocol_error() -> None:
    def garbled(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>a proxy's login page</html>")

    with (
        http.ControlPlane("http://cp.test", TOKEN, transport=httpx.MockTransport(garbled)) as cp,
        pytest.raises(ProtocolError, match="GET /v1/regions: the answer is not JSON"),
    ):
        cp.get("/v1/regions")

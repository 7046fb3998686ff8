"""Bodies are read only from authenticated callers, and never past their bound.

Against the real API over a real socket (the ``api`` fixture of tests/fixtures/api_server.py): requests
are written by hand on a raw connection, so a test can promise a body it never sends and
see the server answer without waiting for it.
"""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import httpx

from taxiway.server import guard
from tests.conftest import EXAMPLES
from tests.fixtures.api_server import Api

HUGE = 200 * 1024 * 1024


def exchange(
    api: Api, head: str, body: bytes = b"", *, within: float = 5.0
) -> tuple[int, dict[str, str], bytes]:
    """Send ``head`` (and ``body``) on a fresh connection; the status, headers and body
    of the answer, which must come within ``within`` seconds."""
    where = urlsplit(api.url)
    assert where.hostname == "127.0.0.1"
    started = time.monotonic()
    with socket.create_connection((where.hostname, where.port or 80), timeout=within) as connection:
        connection.sendall(head.encode("latin-1") + b"\r\n" + body)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert time.monotonic() - started < within
    header_text, _, payload = answer.partition(b"\r\n\r\n")
    lines = header_text.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, payload


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


def request_head(method: str, path: str, *headers: str) -> str:
    return "\r\n".join([f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *headers, ""])


def test_an_unauthenticated_body_is_refused_before_a_byte_of_it_is_read(api: Api) -> None:
    head = request_head(
        "POST", "/v1/services/hello/revisions", "Content-Type: application/json", f"Content-Length: {HUGE}"
    )
    status, headers, payload = exchange(api, head)  # the 200 MB never comes: no need to wait for it
    assert status == 401
    assert headers["content-type"] == "application/problem+json"
    assert headers["www-authenticate"].startswith("Bearer")
    assert json.loads(payload)["code"] == "unauthorized"
    bad = request_head(
        "PUT", "/v1/regions/us-east1/status", "Authorization: Bearer nope", f"Content-Length: {HUGE}"
    )
    assert exchange(api, bad)[0] == 401


def test_a_declared_body_over_the_bound_is_refused_at_once(api: Api) -> None:
    token = f"Authorization: Bearer {api.tokens['us']}"
    head = request_head(
        "PUT", "/v1/regions/us-east1/status", token, f"Content-Length: {guard.MAX_BODY_BYTES + 1}"
    )
    status, headers, payload = exchange(api, head)
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(payload)["detail"] == f"at most {guard.MAX_BODY_BYTES} bytes are accepted"
    upload = request_head(
        "POST",
        "/v1/services/hello/revisions",
        f"Authorization: Bearer {api.tokens['owner']}",
        f"Content-Length: {HUGE}",
    )
    assert exchange(api, upload)[0] == 413, "an upload has a larger bound, but a bound"


def test_a_chunked_body_is_cut_off_at_the_bound(api: Api) -> None:
    token = f"Authorization: Bearer {api.tokens['us']}"
    head = request_head("PUT", "/v1/regions/us-east1/status", token, "Transfer-Encoding: chunked")
    piece = b"x" * 65536
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(guard.MAX_BODY_BYTES // len(piece) + 2)
    )
    status, _, payload = exchange(api, head, chunks + b"0\r\n\r\n")
    assert status == 413
    assert json.loads(payload)["code"] == "body-too-large"


def test_bodies_within_bounds_still_work(api: Api) -> None:
    reported = api.call("PUT", "/v1/regions/us-east1/status", "us", json={"cursor": 0, "reports": []})
    assert reported.status_code in (200, 204), reported.text
    assert api.call("GET", "/v1/services/hello", "owner").status_code == 200


def test_integers_past_the_bound_are_422_not_500(api: Api) -> None:
    huge = 2**64
    answers = [
        api.call("GET", f"/v1/services/hello/revisions/{huge}", "owner"),
        api.call("GET", "/v1/services/hello/revisions/99999999999999999999", "owner"),
        api.call(
            "PUT",
            "/v1/services/hello/environments/production",
            "owner",
            json={"revision": 1, "expected_version": 2**63},
        ),
        api.call(
            "PUT",
            "/v1/services/hello/environments/production",
            "owner",
            json={"revision": huge, "expected_version": 0},
        ),
        api.call("GET", f"/v1/regions/us-east1/definitions?after={huge}", "us"),
        api.call("GET", f"/v1/pops/iad/config?after={huge}", "iad"),
        api.call("PUT", "/v1/regions/us-east1/status", "us", json={"cursor": huge, "reports": []}),
    ]
    assert [a.status_code for a in answers] == [422] * len(answers), [a.text[:120] for a in answers]
    assert {a.headers["content-type"] for a in answers} == {"application/problem+json"}
    assert (
        api.call("GET", f"/v1/regions/us-east1/definitions?after={guard.MAX_INTEGER}", "us").status_code
        == 200
    )


SURROGATE = "\\ud800"
"""A lone surrogate as JSON spells it: the six characters of an escape, not the character."""


def test_a_lone_surrogate_anywhere_in_a_body_is_422_not_500(api: Api) -> None:
    def put(path: str, who: str, document: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {api.tokens[who]}", "Content-Type": "application/json"}
        return httpx.put(api.url + path, headers=headers, content=document.encode(), timeout=10)

    def post(path: str, who: str, document: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {api.tokens[who]}", "Content-Type": "application/json"}
        return httpx.post(api.url + path, headers=headers, content=document.encode(), timeout=10)

    status = '{"cursor": 0, "reports": [{"service": "hello", "environment": "production", "report": %s}]}'
    answers = {
        "status report value": put("/v1/regions/us-east1/status", "us", status % f'{{"x": "{SURROGATE}"}}'),
        "status report key": put("/v1/regions/us-east1/status", "us", status % f'{{"{SURROGATE}": 1}}'),
        "upload file": post(
            "/v1/services/hello/revisions", "owner", f'{{"files": {{"service.yaml": "{SURROGATE}"}}}}'
        ),
        "secret value": put(
            "/v1/services/hello/environments/production/secrets/API_TOKEN",
            "owner",
            f'{{"value": "{SURROGATE}"}}',
        ),
        "inventory entry": post(
            "/v1/inventory/services",
            "admin",
            f'{{"name": "web", "owners": ["{SURROGATE}"], "regions": ["us-east1"]}}',
        ),
        "PoP report": put("/v1/pops/iad/status", "iad", f'{{"services": [{{"service": "{SURROGATE}"}}]}}'),
    }
    raw = (
        b'{"cursor": 0, "reports": [{"service": "\xed\xa0\x80", "environment": "production", "report": {}}]}'
    )
    answers["raw surrogate bytes"] = httpx.put(
        api.url + "/v1/regions/us-east1/status",
        headers={"Authorization": f"Bearer {api.tokens['us']}", "Content-Type": "application/json"},
        content=raw,
        timeout=10,
    )
    assert {what: a.status_code for what, a in answers.items()} == dict.fromkeys(answers, 422)
    assert {a.headers["content-type"] for a in answers.values()} == {"application/problem+json"}
    problem = answers["status report value"].json()
    assert problem["code"] == "invalid-request"
    assert problem["problems"][0]["field"] == "body.reports.0.report.x"
    assert "surrogate" in problem["problems"][0]["message"]
    # Nothing was stored: the status everyone reads still answers.
    assert api.call("GET", "/v1/status", "admin").status_code == 200
    assert api.call("GET", "/v1/services/hello/revisions", "owner").json() == []


def test_a_lone_surrogate_in_a_manifest_is_a_located_problem(api: Api) -> None:
    files = {"service.yaml": (EXAMPLES / "hello" / ".taxiway" / "service.yaml").read_text()}
    # A YAML escape: the text of the file is fine, the value it spells is not text.
    files["service.yaml"] = files["service.yaml"].replace("GREETING: hello", 'GREETING: "\\ud800"')
    assert '"\\ud800"' in files["service.yaml"]
    answer = api.call("POST", "/v1/services/hello/revisions", "owner", json={"files": files})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    (problem,) = answer.json()["problems"]
    assert (problem["file"], problem["field"]) == (".taxiway/service.yaml", "spec.env.GREETING")
    assert "surrogate" in problem["message"]
    assert api.call("GET", "/v1/services/hello/revisions", "owner").json() == []


def test_a_url_that_is_not_utf8_is_422_not_a_guess(api: Api) -> None:
    # %ED%A0%80 is a surrogate spelled as UTF-8 bytes: not UTF-8. The server would read it
    # as replacement characters and answer about a service no one named.
    answers = [
        api.call("GET", "/v1/services/%ED%A0%80", "admin"),
        api.call("GET", "/v1/status?service=%ED%A0%80", "admin"),
        api.call("GET", "/v1/services/hello/secrets?environment=%FF", "owner"),
    ]
    assert [a.status_code for a in answers] == [422] * len(answers), [a.text for a in answers]
    assert {a.headers["content-type"] for a in answers} == {"application/problem+json"}
    assert [a.json()["problems"][0]["field"] for a in answers] == ["path", "query", "query"]
    assert api.call("GET", "/v1/services/h%C3%A9llo", "admin").status_code == 404  # UTF-8: fine


def test_a_body_nested_past_the_json_reader_is_a_problem_not_500(api: Api) -> None:
    deep = b"[" * 200_000 + b"]" * 200_000  # within the bound, past Python's recursion limit
    headers = {"Authorization": f"Bearer {api.tokens['admin']}", "Content-Type": "application/json"}
    answers = [
        httpx.post(api.url + "/v1/platform/reload", headers=headers, content=deep, timeout=10),
        httpx.put(api.url + "/v1/regions/us-east1/status", headers=headers, content=deep, timeout=10),
    ]
    assert [a.status_code for a in answers] == [200, 400], [a.text[:200] for a in answers]
    assert answers[1].headers["content-type"] == "application/problem+json"

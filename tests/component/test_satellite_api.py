"""The satellite API on real loopback sockets: a fixed thread count whatever the clients do,
a head deadline, bounded streams, and 4xx (never 500) for out-of-range input.

The API runs in-process (so its threads can be counted) with the in-memory driver; the
bearer is checked by the real :class:`~taxiway.satellite.access.AccessCheck` against a
stub control plane that knows one owner token.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from taxiway.plan.region.instance_spec import InstanceSpec
from taxiway.runtime import fake
from taxiway.satellite import access, api, bounded_server, runtimes
from tests.fixtures.sockets import read_until_closed
from tests.fixtures.waiting import wait_for

OWNER = "twy_owner_secret"
HEAD_TIMEOUT = 1.0
SLACK = 3.0
LIMITS = bounded_server.Limits(
    workers=4, queue=4, max_connections=64, head_timeout_seconds=HEAD_TIMEOUT, write_timeout_seconds=2.0
)
SPEC = InstanceSpec("hello-production-r1-0", "hello", "production", "us-east1", 1, "dc", "n", ("x",))


class _ControlPlane(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        allowed = self.headers.get("Authorization") == f"Bearer {OWNER}"
        self.send_response(200 if allowed else 401)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


@pytest.fixture(scope="module")
def control_plane() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ControlPlane)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Running:
    def __init__(self, control_plane: str, limits: bounded_server.Limits) -> None:
        self.driver = fake.FakeDriver(record_calls=False)
        self.driver.start(SPEC)
        self.stop = threading.Event()
        self.access = access.AccessCheck(control_plane)
        backend = api.Backend(
            region="us-east1",
            health=lambda: {"status": "ok", "region": "us-east1"},
            instances=self.driver.list,
            runtime=runtimes.Runtime(self.driver),
            access=self.access,
            stop=self.stop,
        )
        self.api = api.Api("127.0.0.1", 0, backend, limits)
        self.api.start()

    def close(self) -> None:
        self.stop.set()
        self.api.close()
        self.access.close()

    def logs(
        self, path: str = "/v1/logs/hello/production", token: str = OWNER, **params: Any
    ) -> httpx.Response:
        return httpx.get(
            self.api.url + path,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
            trust_env=False,
        )

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.api.port), timeout=10)


@pytest.fixture
def satellite(control_plane: str) -> Iterator[Running]:
    running = Running(control_plane, LIMITS)
    yield running
    running.close()


@pytest.mark.timeout(30)
def test_fifty_idle_and_slow_connections_add_no_thread_and_do_not_block_a_request(
    satellite: Running,
) -> None:
    threads = threading.active_count()
    idle = [satellite.connect() for _ in range(25)]
    slow = [satellite.connect() for _ in range(25)]
    try:
        for sock in slow:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        started = time.monotonic()
        answer = httpx.get(satellite.api.url + "/healthz", timeout=5, trust_env=False)
        assert answer.status_code == 200
        assert time.monotonic() - started < 2.0
        assert threading.active_count() == threads, "a connection started a thread"
        deadline = time.monotonic() + HEAD_TIMEOUT + SLACK
        answers = [read_until_closed(sock, deadline) for sock in idle + slow]
    finally:
        for sock in idle + slow:
            sock.close()
    assert all(a == b"" for a in answers[:25]), "an idle connection is closed quietly"
    assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers[25:]), answers[25]
    assert b"application/problem+json" in answers[25]


@pytest.mark.timeout(30)
def test_half_a_request_head_is_closed_within_the_head_timeout(satellite: Running) -> None:
    with satellite.connect() as sock:
        started = time.monotonic()
        sock.sendall(b"GET /healthz HT")
        received = read_until_closed(sock, started + HEAD_TIMEOUT + SLACK)
    assert received.startswith(b"HTTP/1.1 408 "), received
    assert b'"code": "request-timeout"' in received
    assert time.monotonic() - started >= HEAD_TIMEOUT * 0.9


@pytest.mark.timeout(30)
def test_a_keep_alive_connection_serves_request_after_request(satellite: Running) -> None:
    with httpx.Client(base_url=satellite.api.url, trust_env=False, timeout=5) as client:
        for _ in range(5):
            assert client.get("/healthz").json()["region"] == "us-east1"
        assert client.get("/nope").status_code == 404


@pytest.mark.timeout(30)
def test_past_the_connection_bound_a_connection_is_answered_503(satellite: Running) -> None:
    held = [satellite.connect() for _ in range(LIMITS.max_connections)]
    try:
        # the reader accepts in order: once the last held connection counts, the next is refused
        with satellite.connect() as extra:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            received = read_until_closed(extra, time.monotonic() + 5)
        assert received.startswith(b"HTTP/1.1 503 "), received
        assert b"Retry-After: 1" in received
        assert b"application/problem+json" in received
    finally:
        for sock in held:
            sock.close()
    wait_for(
        lambda: httpx.get(satellite.api.url + "/healthz", timeout=5, trust_env=False).status_code == 200,
        within=5,
        what="the API to answer again once the connections closed",
    )


@pytest.mark.timeout(30)
def test_a_log_stream_outlives_the_head_timeout_and_streams_are_bounded(satellite: Running) -> None:
    params = {"follow": "true", "tail": "0"}
    headers = {"Authorization": f"Bearer {OWNER}"}
    url = satellite.api.url + "/v1/logs/hello/production"
    max_streams = LIMITS.workers // 2
    with httpx.Client(trust_env=False, timeout=httpx.Timeout(10)) as client:
        streams = [client.stream("GET", url, params=params, headers=headers) for _ in range(max_streams)]
        opened = [stream.__enter__() for stream in streams]
        try:
            assert all(response.status_code == 200 for response in opened)
            refused = satellite.logs(**params)
            assert refused.status_code == 503
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["code"] == "unavailable"
            # the other workers still answer
            assert httpx.get(satellite.api.url + "/healthz", timeout=5, trust_env=False).status_code == 200
            # The time under test: a stream lives past the head timeout and sees new lines.
            time.sleep(HEAD_TIMEOUT * 2)
            satellite.driver.crash(SPEC.instance_id)
            satellite.driver.start(SPEC)
            line = next(opened[0].iter_lines())
            assert line.startswith(f"{SPEC.instance_id} | started"), line
        finally:
            for stream in streams:
                stream.__exit__(None, None, None)

    def stream_opens() -> bool:
        with httpx.stream("GET", url, params=params, headers=headers, timeout=5, trust_env=False) as again:
            return again.status_code == 200

    wait_for(stream_opens, within=5, what="a closed stream to give back its place")


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "query",
    [
        f"tail={2**63}",
        "tail=" + "9" * 5000,
        "tail=%C2%B2",  # '²' is a digit to str.isdigit, not to int()
        "tail=-1",
        "since=0001-01-01T00:00:00%2B23:59",
        "since=9999-12-31T23:59:59-23:59",
        "since=%ED%A0%80",  # a lone surrogate, percent-encoded
        "since=%5Cud800",  # ... and as JSON would spell it
        "follow=%ED%A0%80",
        "tail=5&since=2026-01-01T00:00:00Z&instance=%ED%A0%80",
    ],
)
def test_out_of_range_or_broken_query_values_are_4xx_problems(satellite: Running, query: str) -> None:
    answer = httpx.get(
        f"{satellite.api.url}/v1/logs/hello/production?{query}",
        headers={"Authorization": f"Bearer {OWNER}"},
        timeout=5,
        trust_env=False,
    )
    assert 400 <= answer.status_code < 500, (query, answer.status_code, answer.text)
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("path", "token", "status"),
    [
        ("/v1/logs/%ED%A0%80/production", OWNER, 404),
        ("/v1/logs/hello/%ED%A0%80", OWNER, 404),
        ("/v1/logs/" + "a" * 5000 + "/production", OWNER, 404),
        ("/v1/logs/hello/production", "tok\xe9n", 401),
        ("/v1/logs/hello/production", "x" * 5000, 401),
    ],
)
def test_bad_names_and_tokens_are_4xx_problems(
    satellite: Running, path: str, token: str, status: int
) -> None:
    answer = httpx.get(
        satellite.api.url + path,
        headers=[(b"Authorization", f"Bearer {token}".encode("latin-1"))],
        timeout=5,
        trust_env=False,
    )
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_well_formed_request_is_still_answered(satellite: Running) -> None:
    answer = satellite.logs(tail="5", since="2026-01-01T00:00:00Z")
    assert answer.status_code == 200, answer.text


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        (b"TRACE /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        (b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        (b"BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        (b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 505),
        (b"GET\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n", 431),
    ],
)
def test_what_the_http_layer_refuses_is_problem_json_too(
    satellite: Running, request_head: bytes, status: int
) -> None:
    with satellite.connect() as sock:
        sock.sendall(request_head)
        received = read_until_closed(sock, time.monotonic() + 5)
    assert received.startswith(f"HTTP/1.1 {status} ".encode()), received
    assert b"application/problem+json" in received, received

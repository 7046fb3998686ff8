"""The control plane bounds its connections: a head deadline, a connection bound, long polls
untouched. A real ``taxiway server`` process on loopback, raw sockets for the bad clients."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fixtures.server_process import TAXIWAY, platform_flags, run_taxiway
from tests.fixtures.sockets import free_port, read_until_closed

HEAD_TIMEOUT = 1.0
SLACK = 3.0


@dataclass
class Running:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    headers: dict[str, str]


def _start(tmp_path: Path, *flags: str) -> Iterator[Running]:
    token_file = tmp_path / "admin.token"
    assert (
        run_taxiway("server", "init", *platform_flags(tmp_path), "--token-file", str(token_file)).returncode
        == 0
    )
    port = free_port()
    process = subprocess.Popen(
        [*TAXIWAY, "server", *platform_flags(tmp_path), "--listen", f"127.0.0.1:{port}", *flags],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a loaded machine starts Python slowly
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.05)
        headers = {"Authorization": f"Bearer {token_file.read_text().strip()}"}
        yield Running(url, port, process, headers)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    yield from _start(
        tmp_path_factory.mktemp("server"), "--head-timeout", str(HEAD_TIMEOUT), "--max-connections", "100"
    )


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def _threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


@pytest.mark.timeout(150)
def test_half_a_request_head_is_answered_408_and_closed_within_the_head_timeout(server: Running) -> None:
    with _connect(server.port) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        received = read_until_closed(sock, started + HEAD_TIMEOUT + SLACK)
    assert received.startswith(b"HTTP/1.1 408 "), received
    head, _, body = received.partition(b"\r\n\r\n")
    assert b"application/problem+json" in head
    assert json.loads(body)["code"] == "request-timeout"
    assert time.monotonic() - started >= HEAD_TIMEOUT * 0.9


@pytest.mark.timeout(150)
def test_a_head_sent_a_byte_at_a_time_does_not_outlive_the_deadline(server: Running) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Drip: " + b"a" * 200
    with _connect(server.port) as sock:
        started = time.monotonic()
        closed = False
        for byte in request:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if time.monotonic() - started > HEAD_TIMEOUT + SLACK:
                break
            # The drip itself is the client under test, not a synchronisation.
            time.sleep(0.05)
        if not closed:
            read_until_closed(sock, started + HEAD_TIMEOUT + SLACK)
    assert time.monotonic() - started < HEAD_TIMEOUT + SLACK


@pytest.mark.timeout(150)
def test_fifty_idle_connections_neither_block_a_request_nor_stay_open(server: Running) -> None:
    threads_before = _threads(server.process.pid)
    idle = [_connect(server.port) for _ in range(25)]
    slow = [_connect(server.port) for _ in range(25)]
    try:
        for sock in slow:
            sock.sendall(b"GET /v1/regions HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        answer = httpx.get(server.url + "/v1/regions", headers=server.headers, timeout=5)
        assert answer.status_code == 200
        assert time.monotonic() - started < 2.0
        assert _threads(server.process.pid) <= threads_before + 2
        deadline = time.monotonic() + HEAD_TIMEOUT + SLACK
        for sock in idle + slow:
            read_until_closed(sock, deadline)
    finally:
        for sock in idle + slow:
            sock.close()


@pytest.mark.timeout(150)
def test_a_long_poll_outlives_the_head_timeout(server: Running) -> None:
    wait = HEAD_TIMEOUT * 3
    started = time.monotonic()
    answer = httpx.get(
        server.url + "/v1/regions/us-east1/definitions",
        params={"after": 0, "wait": wait},
        headers=server.headers,
        timeout=wait + 10,
    )
    assert answer.status_code == 200, answer.text
    assert time.monotonic() - started >= wait * 0.9


@pytest.mark.timeout(150)
def test_a_keep_alive_connection_may_send_its_next_request_after_the_head_timeout_began_again(
    server: Running,
) -> None:
    # The deadline restarts at each response: two requests on one connection, each in time.
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=5) as client:
        assert client.get("/v1/regions").status_code == 200
        assert client.get("/v1/regions").status_code == 200


@pytest.mark.timeout(150)
def test_past_the_connection_bound_a_request_is_answered_503_problem_json(tmp_path: Path) -> None:
    bound = 10
    for running in _start(tmp_path, "--head-timeout", "30", "--max-connections", str(bound)):
        held = [_connect(running.port) for _ in range(bound)]
        try:
            refused = httpx.get(running.url + "/v1/regions", headers=running.headers, timeout=5)
            assert refused.status_code == 503
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.headers["retry-after"] == "1"
            assert refused.json()["code"] == "unavailable"
        finally:
            for sock in held:
                sock.close()
        deadline = time.monotonic() + 10
        while True:
            status = httpx.get(running.url + "/v1/regions", headers=running.headers, timeout=5).status_code
            if status == 200:
                break
            assert time.monotonic() < deadline, "the server still refuses once the connections closed"
            time.sleep(0.05)


@pytest.mark.timeout(150)
def test_a_body_dripped_after_a_refusal_does_not_hold_the_connection(server: Running) -> None:
    # Refused before its body is read (no token), the client keeps dripping the body it
    # announced: the deadline for the next head runs from the end of the answer.
    with _connect(server.port) as sock:
        sock.sendall(
            b"POST /v1/services/hello/revisions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
        )
        started = time.monotonic()
        received = b""
        sock.settimeout(0.05)
        while time.monotonic() - started < HEAD_TIMEOUT + SLACK:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                data = None
            except ConnectionResetError:
                break
            if data == b"":
                break
            received += data or b""
            try:
                sock.sendall(b" ")  # the drip is the client under test
            except (BrokenPipeError, ConnectionResetError):
                break
        else:
            raise AssertionError(f"still open after {HEAD_TIMEOUT + SLACK} s; received {received[:200]!r}")
    assert received.startswith(b"HTTP/1.1 401 "), received[:200]

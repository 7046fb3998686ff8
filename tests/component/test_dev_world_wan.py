"""The dev world's WAN emulator as a real process over real sockets: delay, order, and a
dead target seen as a refusing link (so the PoP's HAProxy marks the pool down at once)."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from taxiway.dev import private_file, wan
from tests.e2e.world import wait_for
from tests.fixtures.sockets import free_port

DELAY_MS = 50.0


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def echo(port: int) -> _Server:
    server = _Server(("127.0.0.1", port), _Echo)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[tuple[Path, int, int]]:
    """The emulator on one link (its port) to a target port; the target is the test's."""
    link_port, target_port = free_port(), free_port()
    link = wan.Link("fra", "europe-west1", link_port, ("127.0.0.1", target_port), DELAY_MS)
    private_file.write_json(tmp_path / "wan.json", wan.document([link], 1.0))
    log = open(tmp_path / "wan.log", "wb")  # noqa: SIM115 - closed below
    popen = subprocess.Popen(
        [sys.executable, "-m", "taxiway.cli.main", "dev", "wan", "--dir", str(tmp_path)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield tmp_path, link_port, target_port
    finally:
        popen.terminate()
        popen.wait(timeout=10)
        log.close()


def round_trip(port: int, payload: bytes) -> tuple[bytes, float]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(payload)
        received = b""
        while len(received) < len(payload):
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
        return received, time.monotonic() - started


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.timeout(60)
def test_the_link_adds_its_delay_each_way_keeps_order_and_refuses_while_its_target_is_down(
    emulator: tuple[Path, int, int],
) -> None:
    _, link_port, target_port = emulator
    target = echo(target_port)
    try:
        wait_for(lambda: round_trip(link_port, b"x")[0] == b"x", within=15, what="the link relaying")
        answer, seconds = round_trip(link_port, b"ping")
        assert answer == b"ping"
        assert seconds >= 2 * DELAY_MS / 1000, "one delay each way"
        assert seconds < 2 * DELAY_MS / 1000 + 0.5

        with socket.create_connection(("127.0.0.1", link_port), timeout=5) as sock:
            for part in (b"a", b"b", b"c"):
                sock.sendall(part)
            received = b""
            while len(received) < 3:
                received += sock.recv(16)
        assert received == b"abc"
    finally:
        target.shutdown()
        target.server_close()

    # The target is dead: the first connect is reset, and from then on the link refuses.
    with contextlib.suppress(OSError):
        round_trip(link_port, b"x")
    wait_for(lambda: refused(link_port), within=5, what="the link refusing")

    target = echo(target_port)
    try:
        wait_for(lambda: round_trip(link_port, b"y")[0] == b"y", within=10, what="the link relaying again")
    finally:
        target.shutdown()
        target.server_close()

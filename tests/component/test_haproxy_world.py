"""What the HAProxy component tests stand on: origins, a client, and a world that cleans up.

* :class:`Origin` — a tiny HTTP/1.1 server in threads that answers with its name, serves
  ``/health`` as 200 or 503 at will, counts every request, and can be *killed*: its
  listener closes and every open connection is cut, as when a process dies (a stopped
  ``http.server`` would otherwise keep serving HAProxy's pooled keep-alive connections).
* :func:`world` — a short state directory under ``/tmp`` (unix socket paths are limited
  to 107 bytes) where tests start HAProxys; on exit it stops every one, then scans
  ``/proc`` for any process still running with the directory on its command line,
  kills it and fails the test if it found one.
* :func:`request` — one request on a new connection; failures are data, not exceptions.

Waiting is a condition polled against a deadline (:func:`wait_for`), never a bare sleep.
The tests at the bottom check the helpers themselves (a kill really refuses and cuts).
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import http.server
import os
import shutil
import signal
import socket
import socketserver
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from taxiway.haproxy import layout, process

HAPROXY_MISSING = "HAProxy is not installed: run `apt-get install -y haproxy` (Debian package, 2.6)"


def require_haproxy() -> None:
    if shutil.which("haproxy") is None:
        pytest.fail(HAPROXY_MISSING)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# ---------------------------------------------------------------------------- origins


class CuttableServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """A threaded HTTP server that can cut its open connections, as a dying process does
    (``shutdown`` alone stops accepting but keeps serving keep-alive connections)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Checks and kills cut connections mid-answer; that is expected here."""

    def cut(self) -> None:
        """Close the listener and every open connection."""
        self.server_close()
        with self.lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                connection.close()


class _Server(CuttableServer):
    def __init__(self, address: tuple[str, int], origin: Origin) -> None:
        self.origin = origin
        super().__init__(address, _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the proxy's delayed ACK would
    # add ~40 ms to every response and hide the proxies' own latency.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _answer(self) -> None:
        origin = self.server.origin
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with origin.lock:
            origin.hits[self.command, url.path] += 1
            if "X-Forwarded-For" in self.headers:
                origin.public[self.command, url.path] += 1
            crash = url.path == "/crash-once" and origin.hits[self.command, url.path] == 1
        if crash:
            # Die mid-request: the connection closes with no response at all.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        status = 200
        if url.path in ("/health", "/ready"):
            status = 200 if origin.healthy else 503
            if origin.health_delay:
                time.sleep(origin.health_delay)
        if url.path == "/slow":
            time.sleep(float(parse_qs(url.query).get("seconds", ["1"])[0]))
        body = origin.name.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Origin", origin.name)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_HEAD = _answer


@dataclass
class Origin:
    """A stand-in for an instance or a region: answers every path with its own name."""

    name: str
    port: int = 0
    healthy: bool = True
    health_delay: float = 0.0
    hits: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    public: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    """Requests that came through a proxy (``X-Forwarded-For``), i.e. not health checks."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    def start(self) -> Origin:
        server = _Server(("127.0.0.1", self.port), self)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self._server is not None

    def requests(self, path: str, method: str = "GET") -> int:
        with self.lock:
            return self.hits[method, path]

    def kill(self) -> None:
        """Stop as a crashed process would: refuse new connections, cut open ones."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.cut()
        if self._thread is not None:
            self._thread.join(timeout=5)


# ---------------------------------------------------------------------------- client


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    headers: dict[str, str]
    error: str | None = None
    at: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200


def request(
    port: int,
    host: str,
    path: str = "/",
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> Reply:
    """One request on a fresh connection to 127.0.0.1:port with ``Host: host``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers={"Host": host, **(headers or {})})
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        return Reply(
            response.status, text, {k.lower(): v for k, v in response.getheaders()}, at=time.monotonic()
        )
    except (OSError, http.client.HTTPException) as exc:
        return Reply(0, "", {}, error=f"{type(exc).__name__}: {exc}", at=time.monotonic())
    finally:
        connection.close()


# ---------------------------------------------------------------------------- world


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and process.alive(int(entry.name)):
            found.append(int(entry.name))
    return found


@dataclass
class World:
    root: Path
    haproxies: list[process.Haproxy] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)

    def haproxy(self, name: str) -> process.Haproxy:
        proxy = process.Haproxy(layout.Layout(self.root / name))
        self.haproxies.append(proxy)
        return proxy

    def origin(self, name: str, port: int = 0) -> Origin:
        started = Origin(name, port).start()
        self.origins.append(started)
        return started

    def leftovers(self) -> list[int]:
        return _processes_mentioning(str(self.root))

    def close(self) -> list[int]:
        """Stop everything; return the pids that had to be killed (should be none)."""
        for proxy in self.haproxies:
            with contextlib.suppress(Exception):
                proxy.stop(graceful=False)
        for origin in self.origins:
            origin.kill()
        stray = self.leftovers()
        for pid in stray:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return stray


@contextlib.contextmanager
def world() -> Iterator[World]:
    require_haproxy()
    root = Path(tempfile.mkdtemp(prefix="tw-", dir="/tmp"))
    scene = World(root)
    try:
        yield scene
    finally:
        stray = scene.close()
        shutil.rmtree(root, ignore_errors=True)
        assert not stray, f"HAProxy processes were left running and had to be killed: {stray}"


# ---------------------------------------------------------------------------- the helpers' own tests


def test_a_killed_origin_refuses_new_connections_and_cuts_open_ones() -> None:
    origin = Origin("a").start()
    try:
        keep_alive = http.client.HTTPConnection("127.0.0.1", origin.port, timeout=5)
        keep_alive.request("GET", "/")
        assert keep_alive.getresponse().read() == b"a"
        origin.kill()
        keep_alive.request("GET", "/")
        with pytest.raises((OSError, http.client.HTTPException)):
            keep_alive.getresponse().read()
        keep_alive.close()
        assert request(origin.port, "x").error is not None
    finally:
        origin.kill()


def test_an_origin_answers_its_name_health_and_crashes_once() -> None:
    origin = Origin("b").start()
    try:
        assert request(origin.port, "x", "/anything").body == "b"
        assert request(origin.port, "x", "/health").status == 200
        origin.healthy = False
        assert request(origin.port, "x", "/health").status == 503
        assert request(origin.port, "x", "/crash-once").error is not None
        assert request(origin.port, "x", "/crash-once").ok
        assert origin.requests("/crash-once") == 2
    finally:
        origin.kill()

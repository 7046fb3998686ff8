"""What the edge component tests stand on: regions, a stub control plane, edges that clean up.

* :class:`Region` — a tiny HTTP/1.1 origin in threads standing in for one region's
  ingress: every answer carries ``X-Taxiway-Region``, ``/health`` answers after
  ``health_delay`` seconds (how a far region looks on loopback, where every RTT is ~0),
  and it can be *killed* (listener closed, open connections cut, as a dead process),
  *revived* on the same port, or *blackholed*: the listening socket stays open but
  nothing is accepted, read or written any more, so connections complete in the kernel
  and then hear nothing, as when a region's network drops packets.
* :class:`StubControlPlane` — the control plane's edge API, standard library only:
  ``GET /v1/pops/{pop}/config`` (with the ``after``/``wait`` long poll), ``PUT
  /v1/pops/{pop}/status`` and ``GET /v1/glb``; it checks the bearer token and can stop
  and start again on the same port.
* :class:`EdgeWorld` — a short state directory under ``/tmp`` (unix socket paths are
  limited to 107 bytes) where edges run in-thread; on exit it stops every edge, the
  control plane, every HAProxy and every region, then fails the test if any process
  mentioning the directory is still alive (after killing it).

Waiting is a condition polled against a deadline, never a bare sleep.
"""

from __future__ import annotations

import contextlib
import datetime
import http.server
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from taxiway.edge import app
from taxiway.edge.settings import EdgeSettings
from taxiway.errors import TaxiwayError
from taxiway.haproxy import layout, process
from taxiway.plan.edge import rtt
from tests.fixtures.haproxy_world import CuttableServer, Reply, World, request, world
from tests.fixtures.waiting import wait_for

LOCAL = "127.0.0.1"
DOMAIN = "taxiway.test"
HOST = f"hello.{DOMAIN}"
TOKEN = "twy_edge_iad_secret"
REGION_HEADER = "x-taxiway-region"

# ---------------------------------------------------------------------------- regions


class _Server(CuttableServer):
    request_queue_size = 128  # a blackholed region keeps completing connects, as a silent host does

    def __init__(self, address: tuple[str, int], region: Region) -> None:
        self.region = region
        super().__init__(address, _RegionHandler)


class _RegionHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # see test_haproxy_world: Nagle would add ~40 ms per answer
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _answer(self) -> None:
        region = self.server.region
        if region.silent.is_set():
            # Blackholed: a request on a connection opened before stays unanswered.
            region.released.wait(30)
            self.close_connection = True
            return
        path = urlsplit(self.path).path
        with region.lock:
            region.hits[self.command, path] += 1
            if "X-Forwarded-For" in self.headers:
                region.public[self.command, path] += 1
        status = 200
        if path == "/health":
            status = 200 if region.healthy else 503
            if region.health_delay:
                time.sleep(region.health_delay)
            with region.lock:
                region.checks.append(time.monotonic())
        body = region.name.encode()
        head = (
            f"HTTP/1.1 {status} {self.responses[status][0]}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\nX-Taxiway-Region: {region.name}\r\n\r\n"
        )
        # One write: a kill lands before an answer or after it, as with a small real
        # response. A region dying after its headers went out and before its body cannot
        # be retried by any proxy (the client already has the start of the answer).
        self.wfile.write(head.encode() + body)

    do_GET = do_HEAD = do_POST = _answer


@dataclass
class Region:
    """A stand-in for one region's ingress."""

    name: str
    health_delay: float = 0.0
    port: int = 0
    healthy: bool = True
    hits: Counter[tuple[str, str]] = field(default_factory=Counter)
    public: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Requests that came through the edge (``X-Forwarded-For``), i.e. not its monitors."""
    checks: list[float] = field(default_factory=list)
    """When each ``/health`` answer was sent."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    silent: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    @property
    def ingress(self) -> str:
        return f"http://{LOCAL}:{self.port}"

    def start(self) -> Region:
        self.silent.clear()
        self.released.clear()
        server = _Server((LOCAL, self.port), self)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def requests(self, path: str, method: str = "GET") -> int:
        with self.lock:
            return self.hits[method, path]

    def blackhole(self) -> None:
        """Stop answering without closing anything: the listener stays open, nothing is
        accepted any more, and requests on open connections get no answer."""
        assert self._server is not None
        self.silent.set()
        self._server.shutdown()  # ends the accept loop; the listening socket stays open

    def kill(self) -> None:
        """Stop as a crashed process would: refuse new connections, cut open ones."""
        server, self._server = self._server, None
        if server is None:
            return
        if not self.silent.is_set():
            server.shutdown()
        self.released.set()
        server.cut()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def revive(self) -> Region:
        self.kill()
        return self.start()


# ---------------------------------------------------------------------------- control plane


def _service(
    regions: list[Region],
    *,
    steering: str = "dynamic_latency",
    failover_order: list[str] | None = None,
    fallback_region: str | None = "us-east1",
    monitor: dict[str, Any] | None = None,
    block_health_endpoint: bool = False,
    name: str = "hello",
) -> dict[str, Any]:
    order = failover_order or [r.name for r in regions]
    return {
        "service": name,
        "environment": "production",
        "steering": steering,
        "failover_order": order,
        "fallback_region": fallback_region,
        "monitor": {**MONITOR, **(monitor or {})},
        "block_health_endpoint": block_health_endpoint,
        "pools": [{"region": r.name, "ingress": r.ingress} for r in regions],
    }


MONITOR: dict[str, Any] = {
    "protocol": "http",
    "path": "/health",
    "interval": 0.25,
    "timeout": 0.2,
    "consecutive_up": 2,
    "consecutive_down": 2,
    "expected_codes": "2xx",
}
service_config = _service


class _CpServer(CuttableServer):
    def __init__(self, address: tuple[str, int], stub: StubControlPlane) -> None:
        self.stub = stub
        super().__init__(address, _CpHandler)


class _CpHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _CpServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _send(self, status: int, body: Any = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.server.stub.token}":
            return True
        self._send(401, {"code": "unauthorized", "detail": "bad token", "status": 401})
        return False

    def do_GET(self) -> None:
        stub = self.server.stub
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with stub.lock:
            stub.calls[("GET", url.path)] += 1
        if not self._authorised():
            return
        if url.path == f"/v1/pops/{stub.pop}/config":
            self._send(200, stub.answer(query.get("after"), float(query.get("wait", 0))))
        elif url.path == "/v1/glb":
            self._send(200, stub.glb(query.get("service")))
        else:
            self._send(404, {"code": "not-found", "detail": url.path, "status": 404})

    def do_PUT(self) -> None:
        stub = self.server.stub
        url = urlsplit(self.path)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
        with stub.lock:
            stub.calls[("PUT", url.path)] += 1
        if not self._authorised():
            return
        if url.path != f"/v1/pops/{stub.pop}/status":
            self._send(404, {"code": "not-found", "detail": url.path, "status": 404})
            return
        assert set(body) == {"services", "haproxy"}, body  # the control plane's PopReport allows no more
        with stub.lock:
            stub.reports.append((datetime.datetime.now(datetime.UTC), body))
        self._send(204)


@dataclass
class StubControlPlane:
    """The control plane's edge API for one PoP; ``set_services`` publishes a new version."""

    pop: str = "iad"
    token: str = TOKEN
    port: int = 0
    version: int = 0
    services: list[dict[str, Any]] = field(default_factory=list)
    reports: list[tuple[datetime.datetime, dict[str, Any]]] = field(default_factory=list)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)
    _server: _CpServer | None = None
    _thread: threading.Thread | None = None
    _stopping: bool = False

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    @property
    def url(self) -> str:
        return f"http://{LOCAL}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> StubControlPlane:
        self._stopping = False
        server = _CpServer((LOCAL, self.port), self)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        with self.changed:
            self._stopping = True
            self.changed.notify_all()
        server.shutdown()
        server.cut()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def set_services(self, services: list[dict[str, Any]]) -> int:
        with self.changed:
            self.services = services
            self.version += 1
            self.changed.notify_all()
            return self.version

    def answer(self, after: str | None, wait: float) -> dict[str, Any]:
        deadline = time.monotonic() + min(wait, 30.0)
        with self.changed:
            while after is not None and str(self.version) == after and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.changed.wait(remaining)
            return {"pop": self.pop, "version": self.version, "services": self.services}

    def glb(self, service: str | None) -> list[dict[str, Any]]:
        with self.lock:
            if not self.reports:
                return []
            at, body = self.reports[-1]
        services = [s for s in body["services"] if service is None or s["service"] == service]
        return [
            {"pop": self.pop, "reported_at": at.isoformat(), "haproxy": body["haproxy"], "services": services}
        ]

    def latest(self) -> dict[str, Any] | None:
        with self.lock:
            return self.reports[-1][1] if self.reports else None


# ---------------------------------------------------------------------------- edges


@dataclass
class EdgeWorld:
    scene: World
    cp: StubControlPlane
    regions: list[Region] = field(default_factory=list)
    edges: list[app.Edge] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.scene.root

    def region(self, name: str, health_delay: float = 0.0) -> Region:
        started = Region(name, health_delay).start()
        self.regions.append(started)
        return started

    def settings(self, pop: str = "iad", **overrides: Any) -> EdgeSettings:
        base = EdgeSettings(
            pop=pop,
            control_plane=self.cp.url,
            token=self.cp.token,
            state_dir=self.root / pop,
            domain=DOMAIN,
            poll_wait_seconds=5.0,
            retry_initial_seconds=0.05,
            retry_max_seconds=0.2,
            report_every_seconds=0.2,
            connect_timeout_seconds=1.0,
        )
        return replace(base, **overrides)

    def haproxy_of(self, settings: EdgeSettings) -> process.Haproxy:
        return process.Haproxy(layout.Layout(settings.haproxy_dir))

    def edge(self, settings: EdgeSettings | None = None) -> app.Edge:
        settings = settings or self.settings()
        running = app.Edge(settings)
        if not any(h.layout.state_dir == settings.haproxy_dir for h in self.scene.haproxies):
            self.scene.haproxies.append(self.haproxy_of(settings))  # stopped at the end
        self.edges.append(running)
        running.start()
        return running

    def close(self) -> None:
        for running in self.edges:
            with contextlib.suppress(Exception):
                running.stop()
        self.cp.stop()
        for region in self.regions:
            region.kill()


@contextlib.contextmanager
def edge_world() -> Iterator[EdgeWorld]:
    with world() as scene:
        created = EdgeWorld(scene, StubControlPlane().start())
        try:
            yield created
        finally:
            created.close()  # then world() stops every HAProxy and fails on leftovers


def get(running: app.Edge, path: str = "/", *, host: str = HOST, timeout: float = 10.0) -> Reply:
    return request(running.addresses.listen.port, host, path, timeout=timeout)


def served_by(reply: Reply) -> str | None:
    return reply.headers.get(REGION_HEADER) if reply.ok else None


def wait_served_by(running: app.Edge, region: str, *, within: float) -> float:
    """Poll the PoP until ``region`` answers; the seconds that took."""
    started = time.monotonic()
    wait_for(lambda: served_by(get(running)) == region, within=within, what=f"{region} to serve")
    return time.monotonic() - started


def pool_status(running: app.Edge, region: str, service: str = "hello") -> str:
    """The pool's server status in the PoP's HAProxy; empty before the config has it."""
    try:
        row = running.haproxy.api.servers(service).get(region)
    except TaxiwayError:
        return ""
    return row.status if row is not None else ""


def estimates(running: app.Edge, service: str = "hello") -> dict[str, rtt.Estimate]:
    return running.controller.estimates().get(service, {})


class Load:
    """Bounded sequential GETs on fresh connections, in a thread, until stopped or ``limit``."""

    def __init__(self, running: app.Edge, *, limit: int = 5000, timeout: float = 10.0) -> None:
        self.running = running
        self.limit = limit
        self.timeout = timeout
        self.replies: list[Reply] = []
        self.sent_at: list[float] = []
        """When each reply's request was sent (``Reply.at`` is when it ended)."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set() and len(self.replies) < self.limit:
            sent = time.monotonic()
            reply = get(self.running, timeout=self.timeout)
            self.sent_at.append(sent)
            self.replies.append(reply)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.timeout + 5)
        assert not self._thread.is_alive(), "the load did not stop"

    def wait_count(self, count: int, within: float = 10) -> None:
        wait_for(lambda: len(self.replies) >= count, within=within, what=f"{count} replies")

    def failures(self) -> list[Reply]:
        return [r for r in self.replies if not r.ok]


# ---------------------------------------------------------------------------- the helpers' own tests


def test_a_blackholed_region_accepts_connections_and_never_answers() -> None:
    region = Region("us-east1").start()
    try:
        assert request(region.port, HOST, "/health").headers[REGION_HEADER] == "us-east1"
        region.blackhole()
        started = time.monotonic()
        silent = request(region.port, HOST, "/", timeout=0.3)
        assert silent.error is not None
        assert "timed out" in silent.error
        assert time.monotonic() - started >= 0.3  # connected, then heard nothing
    finally:
        region.kill()
    assert request(region.port, HOST, timeout=1).error is not None


def test_the_stub_control_plane_long_polls_and_checks_the_token() -> None:
    cp = StubControlPlane().start()
    try:
        cp.set_services([])
        import httpx

        headers = {"Authorization": f"Bearer {cp.token}"}
        assert httpx.get(cp.url + "/v1/pops/iad/config", headers=headers).json()["version"] == 1
        assert httpx.get(cp.url + "/v1/pops/iad/config").status_code == 401
        timer = threading.Timer(0.2, cp.set_services, args=([],))
        timer.start()
        started = time.monotonic()
        answer = httpx.get(cp.url + "/v1/pops/iad/config?after=1&wait=5", headers=headers, timeout=10).json()
        assert answer["version"] == 2
        assert 0.1 < time.monotonic() - started < 4
        timer.join()
    finally:
        cp.stop()

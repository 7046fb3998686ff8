"""The satellite's own small HTTP API: ``/healthz`` and instance logs for the CLI.

Bound to ``--listen`` (loopback by default) and served by a fixed number of threads
(:mod:`taxiway.satellite.bounded_server`: a request head must arrive in time, a bounded
pool of workers answers, excess connections get ``503``). Three routes:

- ``GET /healthz`` (no auth): region, applied cursor, instance count, whether the
  control plane answered the last poll, and the region ingress's URL and whether its
  HAProxy runs (``ingress``, ``ingress_running``, ``ingress_pid``, and
  ``ingress_metrics``: its Prometheus exporter), and the request log sink's series
  (``ingress_request_metrics``, ``ingress_request_metrics_pid``).
- ``GET /metrics`` (no auth): the satellite's own metrics in Prometheus's text format
  (:mod:`taxiway.observability.satellite_metrics`). No bearer, like ``/healthz``: the
  region's Prometheus must keep scraping while the control plane, which checks bearers,
  is down — that is when these numbers matter most. They name services, environments
  and revisions, nothing secret; the API listens on loopback unless told otherwise.
- ``GET /v1/logs/{service}/{environment}?instance=ID&tail=N&since=TIME&follow=true``: the
  last ``tail`` lines of each instance (or of one), as ``text/plain`` lines
  ``INSTANCE | STAMP LINE`` (the driver's lines carry their time); ``since`` (RFC 3339)
  keeps only lines written at or after it; with ``follow`` the response stays open and
  new lines are sent as they are written (chunked) until the client goes away or the
  satellite stops. The caller's bearer is checked by the control plane
  (:mod:`taxiway.satellite.access`). A stream holds a worker, so at most ``max_streams``
  run at once (one more is ``503``), which leaves workers for ``/healthz`` and tails.

Everything a request carries is checked before use: ``tail`` is a whole number of at most
six ASCII digits, ``since`` a time that has an epoch second, the bearer printable ASCII,
service and environment names: anything else is a 4xx problem, never a 500.

Errors are ``application/problem+json`` with the same ``type``/``code`` scheme as the
control plane's. Requests are logged at debug level without headers (no token ever).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import select
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from taxiway.errors import ConfigurationError
from taxiway.observability import satellite_metrics
from taxiway.plan.region import instance_spec
from taxiway.runtime import driver, logfile
from taxiway.satellite import access, bounded_server, logstream, runtimes
from taxiway.spec import manifest, problem, units

log = logging.getLogger(__name__)

MAX_TAIL = logfile.MAX_TAIL
DEFAULT_TAIL = 100
FOLLOW_POLL_SECONDS = 0.2
TAIL = re.compile(r"[0-9]{1,6}")
BEARER = re.compile(r"[\x21-\x7e]{1,512}")
NAME = re.compile(manifest.DNS_LABEL)


@dataclass(frozen=True)
class Backend:
    """What the API reads; all of it safe to call from request threads."""

    region: str
    health: Callable[[], dict[str, Any]]
    instances: Callable[[], Sequence[instance_spec.Instance]]
    runtime: runtimes.Runtime
    access: access.AccessCheck
    stop: threading.Event
    metrics: Callable[[], bytes] | None = None
    """The satellite's metrics in Prometheus's text format (``None``: not served)."""


class _Refused(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


class _Handler(BaseHTTPRequestHandler):
    """One request whose head the reader has already read (``head``); answers on ``connection``."""

    backend: Backend
    streams: threading.BoundedSemaphore
    protocol_version = "HTTP/1.1"
    server_version = "taxiway-satellite"

    def __init__(self, connection: socket.socket, address: Any, head: bytes) -> None:
        # Not BaseRequestHandler.__init__: there is no socketserver here, only this request.
        self.request, self.client_address, self._head = connection, address, head
        self.setup()
        try:
            self.handle()
        finally:
            self.finish()

    def setup(self) -> None:
        self.connection = self.request
        self.rfile = io.BytesIO(self._head)
        self.wfile = self.connection.makefile("wb")

    def handle(self) -> None:
        self.close_connection = True
        self.handle_one_request()
        headers = getattr(self, "headers", None)  # unset when the request line was refused
        if headers is not None and (
            headers.get("Content-Length", "0").strip() != "0" or "Transfer-Encoding" in headers
        ):
            self.close_connection = True  # a body nobody read would be taken for the next head

    def finish(self) -> None:
        try:
            if not self.wfile.closed:
                self.wfile.flush()
        except OSError:
            self.close_connection = True
        finally:
            self.wfile.close()

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    # -- answers -------------------------------------------------------------------------

    def _json(self, status: int, body: dict[str, Any], content_type: str = "application/json") -> None:
        data = (json.dumps(body) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        if status == 401:
            self.send_header("WWW-Authenticate", 'Bearer realm="taxiway"')
        if status == 503:
            self.send_header("Retry-After", "1")
        if status == 405:
            self.send_header("Allow", "GET")
        self.end_headers()
        self.wfile.write(data)

    def _text(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _problem(self, refused: _Refused) -> None:
        body = {
            "type": problem.TYPE_BASE + refused.code,
            "title": HTTPStatus(refused.status).phrase,
            "status": refused.status,
            "detail": refused.detail,
            "code": refused.code,
        }
        self._json(refused.status, body, "application/problem+json")

    def _chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    # -- routing -------------------------------------------------------------------------

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.split("/") if p]
        try:
            if parts == ["healthz"]:
                self._json(200, self.backend.health())
            elif parts == ["metrics"] and self.backend.metrics is not None:
                self._text(200, self.backend.metrics(), satellite_metrics.CONTENT_TYPE)
            elif len(parts) == 4 and parts[:2] == ["v1", "logs"]:
                self._logs(parts[2], parts[3], parse_qs(url.query))
            else:
                raise _Refused(404, "not-found", f"no route {url.path}")
        except _Refused as refused:
            self._problem(refused)
        except OSError:  # the client went away, or stopped reading past the write timeout
            self.close_connection = True

    def _not_allowed(self) -> None:
        self.close_connection = True
        self._problem(_Refused(405, "method-not-allowed", "only GET is served here"))

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_TRACE = _not_allowed

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What the standard library refuses itself (a broken request line, a header over its
        bounds, an unknown method) is a problem+json too, and ends the connection."""
        self.close_connection = True
        # A request line refused before its version was read leaves "HTTP/0.9", which sends
        # no status line or headers at all: answer as HTTP/1.1 does.
        self.request_version = self.protocol_version
        status = HTTPStatus(code)
        name = {501: "method-not-allowed", 414: "uri-too-long", 431: "headers-too-large"}.get(
            code, "bad-request"
        )
        with contextlib.suppress(OSError):
            self._problem(_Refused(405 if code == 501 else code, name, message or status.phrase))

    # -- logs ----------------------------------------------------------------------------

    def _bearer(self) -> str:
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not BEARER.fullmatch(value.strip()):
            raise _Refused(401, "unauthorized", "send 'Authorization: Bearer <token>'")
        return value.strip()

    @staticmethod
    def _query(query: dict[str, list[str]]) -> tuple[str | None, int, bool, str | None]:
        instance = query.get("instance", [None])[-1]
        tail_text = query.get("tail", [str(DEFAULT_TAIL)])[-1]
        if not TAIL.fullmatch(tail_text) or int(tail_text) > MAX_TAIL:
            raise _Refused(422, "invalid-request", f"tail must be a whole number from 0 to {MAX_TAIL}")
        follow_text = query.get("follow", ["false"])[-1].lower()
        if follow_text not in ("true", "false", "1", "0", ""):
            raise _Refused(422, "invalid-request", "follow must be true or false")
        since_text = query.get("since", [None])[-1]
        since = None
        if since_text:
            try:
                since = logfile.stamp(units.parse_time(since_text).timestamp())
            except ValueError as exc:
                raise _Refused(422, "invalid-request", f"since: {exc}") from None
            except OverflowError:
                raise _Refused(422, "invalid-request", "since: the time is out of range") from None
        return instance, int(tail_text), follow_text in ("true", "1"), since

    def _logs(self, service: str, environment: str, query: dict[str, list[str]]) -> None:
        backend = self.backend
        token = self._bearer()
        for what, name in (("service", service), ("environment", environment)):
            if not NAME.match(name):
                raise _Refused(404, "not-found", f"no {what} {name!r}: not a {what} name")
        decision = backend.access.check(token, service)
        if not decision.allowed:
            raise _Refused(decision.status, decision.code, decision.detail)
        instance_id, tail, follow, since = self._query(query)
        members = sorted(
            (i for i in backend.instances() if i.service == service and i.environment == environment),
            key=lambda i: i.instance_id,
        )
        if instance_id is not None:
            members = [i for i in members if i.instance_id == instance_id]
            if not members:
                raise _Refused(
                    404,
                    "not-found",
                    f"no instance {instance_id} of {service}/{environment} in region {backend.region}",
                )
        if not members:
            raise _Refused(
                404, "not-found", f"no instances of {service}/{environment} in region {backend.region}"
            )
        runtime = backend.runtime
        # Followers open before the tail is read: a line written in between may show
        # twice, but none is lost.
        followers: list[tuple[str, logstream.Follower]] = []
        if follow and not self.streams.acquire(blocking=False):
            raise _Refused(503, "unavailable", "as many log streams as allowed run already; retry later")
        try:
            if follow:
                for member in members:
                    path = runtime.log_file(member.instance_id) if runtime.log_file else None
                    follower: logstream.Follower = (
                        logstream.FileFollower(path)
                        if path is not None
                        else logstream.DriverFollower(runtime.driver, member.instance_id)
                    )
                    followers.append((member.instance_id, follower))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.flush()  # a follower with nothing to tail yet still sees the answer begin
            for member in members:
                try:
                    if since is None:
                        lines = list(runtime.driver.logs(member.instance_id, tail=tail))
                    else:
                        recent = logfile.since(
                            list(runtime.driver.logs(member.instance_id, tail=MAX_TAIL)), since
                        )
                        lines = recent[-tail:] if tail else []
                except driver.RuntimeFailure:
                    lines = []
                self._chunk("".join(f"{member.instance_id} | {line}\n" for line in lines).encode())
            if follow:
                self._follow(followers, backend.stop)
            self.wfile.write(b"0\r\n\r\n")
        finally:
            for _, follower in followers:
                follower.close()
            if follow:
                self.streams.release()

    def _follow(self, followers: list[tuple[str, logstream.Follower]], stop: threading.Event) -> None:
        while not stop.is_set():
            sent = False
            for instance_id, follower in followers:
                lines = follower.read()
                if lines:
                    self._chunk("".join(f"{instance_id} | {line}\n" for line in lines).encode())
                    sent = True
            if not sent and self._client_gone():
                return
            stop.wait(FOLLOW_POLL_SECONDS)

    def _client_gone(self) -> bool:
        """A closed connection reads as end-of-file; nothing else is expected from it."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True


class Api:
    """The API server, bound at construction (so the port is known), served by :meth:`start`."""

    def __init__(
        self, host: str, port: int, backend: Backend, limits: bounded_server.Limits | None = None
    ) -> None:
        limits = limits or bounded_server.Limits()
        max_streams = max(limits.workers // 2, 1)
        # The handler class carries what every request reads; one class per API.
        self._handler = type(
            "Handler", (_Handler,), {"backend": backend, "streams": threading.BoundedSemaphore(max_streams)}
        )
        try:
            self._server = bounded_server.BoundedServer((host, port), self._serve, limits)
        except OSError as exc:
            raise ConfigurationError(f"--listen {host}:{port}: cannot listen there ({exc.strerror})") from exc
        self.host = host
        self.port = self._server.port

    def _serve(self, connection: socket.socket, head: bytes, address: Any) -> bool:
        return not self._handler(connection, address, head).close_connection

    @property
    def url(self) -> str:
        """The address to advertise: a wildcard bind is reached through loopback here."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def start(self) -> None:
        """Serve in threads of its own (a fixed number) until :meth:`close`."""
        self._server.start()

    def close(self) -> None:
        self._server.close()

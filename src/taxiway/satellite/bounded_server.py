"""The connections under the satellite API: one thread reads request heads, a bounded pool answers.

A thread per connection (``ThreadingHTTPServer``) lets anyone who opens connections and
sends nothing grow the satellite by a thread each, for ever. Here the thread count is
fixed, whatever the clients do:

- the **reader** (one thread, a selector) accepts connections and reads each one's request
  head into memory. Each connection has ``head_timeout_seconds`` from its opening, and
  again from the end of each response, to deliver a complete head (up to 64 KiB); past it
  the connection is closed (``408`` if half a head had arrived). More than
  ``max_connections`` open at once: a new one is answered ``503`` and closed;
- a complete head goes to a bounded queue of ``queue`` places, read by ``workers``
  threads. A full queue answers ``503`` at once. A worker runs one request, with
  ``write_timeout_seconds`` on each write (a client that stops reading is dropped), then
  hands the connection back to the reader for its next head, or closes it.

Only the reader touches a waiting connection and only one worker a dispatched one, so no
connection is shared between threads. :mod:`taxiway.satellite.api` gives the answer; its
streams (``logs --follow``) hold a worker, so it bounds how many run at once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from taxiway.errors import ConfigurationError
from taxiway.spec import problem

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
HEAD_END = b"\r\n\r\n"

Address = Any
Serve = Callable[[socket.socket, bytes, Address], bool]
"""Answer one request whose head is given; ``True`` keeps the connection for the next one."""


@dataclass(frozen=True)
class Limits:
    workers: int = 8
    queue: int = 16
    """Complete request heads that may wait for a worker; past it, 503."""
    max_connections: int = 256
    head_timeout_seconds: float = 10.0
    write_timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        for name in ("workers", "queue", "max_connections"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"satellite API {name.replace('_', ' ')}: expected a number ≥ 1")
        if not (self.head_timeout_seconds > 0 and self.write_timeout_seconds > 0):
            raise ConfigurationError("satellite API timeouts: expected seconds > 0")


def problem_response(status: int, code: str, detail: str) -> bytes:
    """A whole ``Connection: close`` problem+json response, for answers sent without a handler."""
    phrase = HTTPStatus(status).phrase
    body = json.dumps(
        {"type": problem.TYPE_BASE + code, "title": phrase, "status": status, "detail": detail, "code": code}
    ).encode()
    retry = "Retry-After: 1\r\n" if status == 503 else ""
    head = (
        f"HTTP/1.1 {status} {phrase}\r\nContent-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n{retry}Connection: close\r\n\r\n"
    )
    return head.encode() + body


_TOO_MANY = problem_response(503, "unavailable", "the satellite API is busy; retry in a moment")
_TIMEOUT = problem_response(408, "request-timeout", "the request head did not arrive in time")
_TOO_LARGE = problem_response(431, "headers-too-large", f"the request head exceeds {MAX_HEAD_BYTES} bytes")


@dataclass(eq=False)
class _Connection:
    sock: socket.socket
    address: Address
    deadline: float
    buffer: bytearray = field(default_factory=bytearray)

    def head(self) -> bytes | None:
        end = self.buffer.find(HEAD_END)
        if end < 0:
            return None
        head = bytes(self.buffer[: end + len(HEAD_END)])
        del self.buffer[: end + len(HEAD_END)]
        return head


def _refuse(sock: socket.socket, answer: bytes) -> None:
    """Send a short answer without blocking the reader, then close."""
    with contextlib.suppress(OSError):
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            sock.recv(MAX_HEAD_BYTES)  # unread bytes would turn the close into a reset
        sock.send(answer)
    sock.close()


class BoundedServer:
    """Listens at construction (so the port is known); :meth:`start` runs the threads."""

    def __init__(self, address: tuple[str, int], serve: Serve, limits: Limits) -> None:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind(address)
            self._listener.listen(128)
        except OSError:
            self._listener.close()
            raise
        self._listener.setblocking(False)
        self.port = int(self._listener.getsockname()[1])
        self._serve, self._limits = serve, limits
        self._ready: queue.Queue[_Connection | None] = queue.Queue(maxsize=limits.queue)
        self._returned: queue.SimpleQueue[tuple[_Connection, bool]] = queue.SimpleQueue()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._read, name="satellite-api", daemon=True)]
        self._threads += [
            threading.Thread(target=self._work, name=f"satellite-api-worker-{n}", daemon=True)
            for n in range(self._limits.workers)
        ]
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        """Stop reading and accepting; wait for the workers to finish their requests."""
        self._stopping.set()
        self._wake()
        for thread in self._threads:
            thread.join()
        while True:  # what the workers finished after the reader stopped
            try:
                connection, _ = self._returned.get_nowait()
            except queue.Empty:
                break
            connection.sock.close()
        self._listener.close()
        self._wake_reader.close()
        self._wake_writer.close()

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            self._wake_writer.send(b"\0")

    # -- the reader ----------------------------------------------------------------------

    def _read(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ)
        selector.register(self._wake_reader, selectors.EVENT_READ)
        waiting: set[_Connection] = set()
        open_count = 0  # waiting, queued and at a worker: only this thread counts
        try:
            while not self._stopping.is_set():
                now = time.monotonic()
                timeout = max(min((c.deadline for c in waiting), default=now + 1.0) - now, 0.0)
                for key, _ in selector.select(timeout):
                    if key.fileobj is self._listener:
                        open_count += self._accept(selector, waiting, open_count)
                    elif key.fileobj is self._wake_reader:
                        with contextlib.suppress(BlockingIOError):
                            self._wake_reader.recv(4096)
                    else:
                        connection: _Connection = key.data
                        open_count -= self._receive(selector, waiting, connection)
                open_count -= self._take_back(selector, waiting)
                now = time.monotonic()
                for connection in [c for c in waiting if c.deadline <= now]:
                    self._forget(selector, waiting, connection)
                    if connection.buffer:
                        _refuse(connection.sock, _TIMEOUT)
                    else:
                        connection.sock.close()
                    open_count -= 1
        finally:
            for connection in waiting:
                connection.sock.close()
            while True:  # queued requests are not answered: the satellite stops
                try:
                    queued = self._ready.get_nowait()
                except queue.Empty:
                    break
                if queued is not None:
                    queued.sock.close()
            for _ in range(self._limits.workers):
                self._ready.put(None)
            selector.close()

    def _accept(self, selector: selectors.BaseSelector, waiting: set[_Connection], open_count: int) -> int:
        accepted = 0
        while True:
            try:
                sock, address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return accepted
            except OSError as exc:  # out of file descriptors: the backlog keeps the rest
                log.warning("satellite API cannot accept: %s", exc.strerror)
                return accepted
            if open_count + accepted >= self._limits.max_connections:
                _refuse(sock, _TOO_MANY)
                continue
            sock.setblocking(False)
            connection = _Connection(sock, address, time.monotonic() + self._limits.head_timeout_seconds)
            self._wait(selector, waiting, connection)
            accepted += 1

    def _wait(
        self, selector: selectors.BaseSelector, waiting: set[_Connection], connection: _Connection
    ) -> None:
        waiting.add(connection)
        selector.register(connection.sock, selectors.EVENT_READ, connection)

    @staticmethod
    def _forget(selector: selectors.BaseSelector, waiting: set[_Connection], connection: _Connection) -> None:
        waiting.discard(connection)
        selector.unregister(connection.sock)

    def _receive(
        self, selector: selectors.BaseSelector, waiting: set[_Connection], connection: _Connection
    ) -> int:
        """Read what arrived; 1 if the connection was closed."""
        try:
            data = connection.sock.recv(MAX_HEAD_BYTES)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:
            data = b""
        if not data:
            self._forget(selector, waiting, connection)
            connection.sock.close()
            return 1
        connection.buffer += data
        return self._dispatch(selector, waiting, connection)

    def _dispatch(
        self, selector: selectors.BaseSelector, waiting: set[_Connection], connection: _Connection
    ) -> int:
        """Hand a complete head to the workers; 1 if the connection was closed instead."""
        if HEAD_END not in connection.buffer:
            if len(connection.buffer) < MAX_HEAD_BYTES:
                return 0
            self._forget(selector, waiting, connection)
            _refuse(connection.sock, _TOO_LARGE)
            return 1
        self._forget(selector, waiting, connection)
        try:
            self._ready.put_nowait(connection)
        except queue.Full:
            log.warning("satellite API: every worker busy and the queue full; answered 503")
            _refuse(connection.sock, _TOO_MANY)
            return 1
        return 0

    def _take_back(self, selector: selectors.BaseSelector, waiting: set[_Connection]) -> int:
        """Connections the workers are done with; how many were closed."""
        closed = 0
        while True:
            try:
                connection, keep = self._returned.get_nowait()
            except queue.Empty:
                return closed
            if not keep or self._stopping.is_set():
                connection.sock.close()
                closed += 1
                continue
            connection.sock.setblocking(False)
            connection.deadline = time.monotonic() + self._limits.head_timeout_seconds
            self._wait(selector, waiting, connection)
            closed += self._dispatch(selector, waiting, connection)  # a pipelined head, already read

    # -- the workers ---------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            connection = self._ready.get()
            if connection is None:
                return
            keep = False
            head = connection.head()
            try:
                connection.sock.settimeout(self._limits.write_timeout_seconds)
                if head is not None:
                    keep = self._serve(connection.sock, head, connection.address)
            except OSError:
                keep = False  # the client went away or stopped reading
            except Exception:
                log.exception("satellite API: a request failed")
                keep = False
            self._returned.put((connection, keep))
            self._wake()

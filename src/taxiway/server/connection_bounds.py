"""The control plane's HTTP/1.1 protocol: uvicorn's h11 protocol with the bounds it lacks.

uvicorn (h11) arms no timer while a connection sends its request head: its only timer,
``timeout_keep_alive``, starts when a response ends and is cancelled by the first byte
that arrives. A client that connects and sends nothing, or half a request line, or one
header byte a second, holds its connection (a file descriptor and a protocol object) for
ever, and ``limit_concurrency`` counts every such connection against the limit. So
:func:`protocol` builds a subclass that adds, per connection:

- **a head deadline**: from the moment the connection opens, and again from the end of
  each response, the client has ``head_timeout_seconds`` to deliver the next request head
  (the rest of a body the server did not read counts too). A request head that arrives
  in time cancels it: a long poll held 30 s by the application, or a slow response, is
  never cut. A connection past its deadline with half a head gets ``408`` problem+json;
  one that sent nothing is closed quietly (as uvicorn's keep-alive timer does);
- **a connection bound**: a request read while more than ``max_connections`` are open
  is answered ``503`` problem+json with ``Retry-After`` and the connection closed, without
  reaching the application. Past twice that bound a new connection is closed at once,
  before anything is read: the last guard of the process's file descriptors.

:mod:`taxiway.server.serve` passes the class to uvicorn as its ``http`` protocol, so the
bounds hold whatever HTTP parser uvicorn would pick by itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import h11
from uvicorn._types import ASGI3Application, ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from taxiway.server import problems
from taxiway.server.settings import ConnectionLimits

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1

# (ours, theirs) while the next request head is awaited: a fresh cycle, or our response
# done while the client still sends a body nobody reads.
_AWAITING_HEAD = {(h11.IDLE, h11.IDLE), (h11.DONE, h11.SEND_BODY), (h11.DONE, h11.DONE)}


def _problem(status: int, code: str, title: str, detail: str) -> bytes:
    return (json.dumps(problems.body(status, code, title, detail)) + "\n").encode()


_REQUEST_TIMEOUT = _problem(
    408,
    "request-timeout",
    "Request Timeout",
    "the request head did not arrive in time; the connection is closed",
)
_UNAVAILABLE = _problem(
    503, "unavailable", "Service Unavailable", "too many open connections; retry in a moment"
)


class _Bounded(H11Protocol):
    limits: ConnectionLimits

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._head_timer: asyncio.TimerHandle | None = None
        self.app = self._guarded(self.app)

    # -- the connection bound ------------------------------------------------------------

    def _guarded(self, app: ASGI3Application) -> ASGI3Application:
        connections = self.connections
        limit = self.limits.max_connections

        async def guarded(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
            if scope["type"] == "http" and len(connections) > limit:
                log.warning("%d connections open (bound %d): answered 503", len(connections), limit)
                await send(
                    {
                        "type": "http.response.start",
                        "status": 503,
                        "headers": [
                            (b"content-type", problems.MEDIA_TYPE.encode()),
                            (b"content-length", str(len(_UNAVAILABLE)).encode()),
                            (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                            (b"connection", b"close"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": _UNAVAILABLE, "more_body": False})
                return
            await app(scope, receive, send)

        return guarded

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > 2 * self.limits.max_connections:
            log.warning("%d connections open: closed a new one at once", len(self.connections))
            transport.close()
            return
        self._arm()

    # -- the head deadline ---------------------------------------------------------------

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.limits.head_timeout_seconds, self._head_expired)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _awaiting_head(self) -> bool:
        return (self.conn.our_state, self.conn.their_state) in _AWAITING_HEAD

    def handle_events(self) -> None:
        super().handle_events()
        if self._head_timer is not None and not self._awaiting_head():
            self._disarm()  # a request head arrived: the application has it now

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self._awaiting_head():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _head_expired(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or not self._awaiting_head():
            return
        partial, _ = self.conn.trailing_data
        if self.conn.our_state is h11.IDLE and partial:
            # h11 cannot answer a request it has not read; these bytes are the whole answer.
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/problem+json\r\n"
                b"connection: close\r\ncontent-length: %d\r\n\r\n%s"
                % (len(_REQUEST_TIMEOUT), _REQUEST_TIMEOUT)
            )
        log.debug("closed a connection whose request head did not arrive in time")
        self.transport.close()


def protocol(limits: ConnectionLimits) -> type[asyncio.Protocol]:
    """The protocol class for uvicorn's ``http`` setting, bound to ``limits``."""
    return type("BoundedH11Protocol", (_Bounded,), {"limits": limits})

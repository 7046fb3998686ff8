"""The door of the control plane: a request body is read only from a caller with a valid
token, and never past a size bound.

An ASGI middleware in front of every route (:func:`taxiway.server.app.create_app` adds
it). FastAPI reads and parses a request's body *before* the route's dependencies run, so
the bearer check in :mod:`taxiway.server.auth` came after an unauthenticated 200 MB JSON
had been read and parsed (about 590 MiB of memory each). Here, for a request that has a
body:

1. the token is checked first, on a worker thread (the store is synchronous); an unknown
   or missing one is answered 401 problem+json without reading a byte of the body, and a
   known one is kept on the request's state so the route does not look it up again;
2. a declared ``Content-Length`` over the bound is answered 413 at once (the server
   reads no more than a declared length); a body without one (chunked) is read here as
   it arrives and cut off at the bound, also with 413.

The bound is :data:`MAX_BODY_BYTES`, but for a revision upload, which carries the service's
files as a base64 artifact: :data:`MAX_UPLOAD_BYTES`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread

from taxiway.client import artifact
from taxiway.server import problems
from taxiway.store import protocol

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_INTEGER = 2**53 - 1
"""The largest integer any request may carry (revision numbers, versions, cursors): exact
in JSON everywhere, within SQLite's and PostgreSQL's 64-bit columns. Past it: 422."""
MAX_BODY_BYTES = 1024 * 1024
"""Manifests, status reports, PoP reports, tokens: far below this."""
MAX_ARTIFACT_BYTES = artifact.MAX_BYTES
"""Defined once, in the client that packs artifacts to fit it."""
MAX_UPLOAD_BYTES = (MAX_ARTIFACT_BYTES * 4) // 3 + MAX_BODY_BYTES
"""A revision upload: the artifact's base64 plus its manifests."""
UPLOADS = re.compile(r"^/v1/services/[^/]+/revisions$")
UNAUTHORIZED = "Authentication required"
TOKEN_STATE = "taxiway_token"
"""The request state key holding the token the guard checked (see auth.authenticate)."""


def limit_for(method: str, path: str) -> int:
    return MAX_UPLOAD_BYTES if method == "POST" and UPLOADS.match(path) else MAX_BODY_BYTES


class Guard:
    """Authenticate before the body, and bound it (see the module docstring)."""

    def __init__(self, app: App, store: protocol.Store) -> None:
        self._app = app
        self._store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE", "TRACE"):
            await self._app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            await _answer(send, 401, "unauthorized", UNAUTHORIZED, "send 'Authorization: Bearer <token>'")
            return
        token = await anyio.to_thread.run_sync(self._store.authenticate, value.strip())
        if token is None:
            await _answer(send, 401, "unauthorized", UNAUTHORIZED, "the token is unknown or revoked")
            return
        scope.setdefault("state", {})[TOKEN_STATE] = token
        limit = limit_for(scope["method"], scope["path"])
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        if not declared.isdigit():
            # No length declared (chunked): read it here, up to the bound, and hand the
            # route the whole of it. (FastAPI turns any error while it reads a body into
            # a 400, so the count cannot be left to the route's own reading.)
            buffered = await _read_bounded(receive, limit)
            if buffered is None:
                await _too_large(send, limit)
                return
            receive = _replay(buffered, receive)
        await self._app(scope, receive, send)


async def _read_bounded(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or ``None`` once it passes ``limit`` (the rest is never read)."""
    parts: list[bytes] = []
    seen = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts)  # the client went away; the route sees an empty body
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # what comes after the body: a disconnect
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def _too_large(send: Send, limit: int) -> None:
    await _answer(
        send, 413, "body-too-large", "Request body too large", f"at most {limit} bytes are accepted"
    )


async def _answer(send: Send, status: int, code: str, title: str, detail: str) -> None:
    body = json.dumps(problems.body(status, code, title, detail)).encode()
    headers = [(b"content-type", problems.MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", problems.AUTHENTICATE.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

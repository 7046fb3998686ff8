"""Who may read a service's logs from this satellite: the control plane decides.

The satellite keeps no tokens of its own to check callers against. For each request to
its API it asks the control plane ``GET /v1/services/{service}`` *with the caller's
bearer*: 200 means the token may read the service, 401 and 403 are passed on as they are.
An allowed answer is cached for ``ttl`` seconds under the SHA-256 of token and service
(never the token itself), so a ``logs --follow`` reconnecting in a loop costs the control
plane one call per half minute. Refusals are not cached: a token granted a moment ago
works at once. When the control plane cannot be asked, the answer is 503: without its
word nobody reads logs.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from taxiway.client import http
from taxiway.errors import TaxiwayError

ASK_TIMEOUT_SECONDS = 5.0
MAX_CACHED = 10_000


@dataclass(frozen=True)
class Decision:
    status: int
    """200 allowed; otherwise the HTTP status to answer with."""
    code: str
    detail: str

    @property
    def allowed(self) -> bool:
        return self.status == 200


ALLOWED = Decision(200, "ok", "allowed")


class AccessCheck:
    """Thread-safe; one per satellite."""

    def __init__(
        self,
        control_plane: str,
        *,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._allowed: dict[str, float] = {}
        self._lock = threading.Lock()
        # Its own client: requests carry each caller's token, never the satellite's.
        self._client = httpx.Client(
            base_url=control_plane.rstrip("/"), timeout=ASK_TIMEOUT_SECONDS, trust_env=False
        )

    def close(self) -> None:
        self._client.close()

    @staticmethod
    def _key(token: str, service: str) -> str:
        return hashlib.sha256(f"{token}\0{service}".encode()).hexdigest()

    def check(self, token: str, service: str) -> Decision:
        key = self._key(token, service)
        now = self._clock()
        with self._lock:
            expires = self._allowed.get(key)
            if expires is not None and expires > now:
                return ALLOWED
        decision = self._ask(token, service)
        if decision.allowed:
            with self._lock:
                if len(self._allowed) >= MAX_CACHED:
                    self._allowed = {k: t for k, t in self._allowed.items() if t > now}
                self._allowed[key] = now + self._ttl
        return decision

    def _ask(self, token: str, service: str) -> Decision:
        path = f"/v1/services/{quote(service, safe='')}"
        try:
            with http.translated(f"GET {path}", "the control plane"):
                response = self._client.get(
                    path, headers={"Authorization": f"Bearer {token}", "User-Agent": "taxiway-satellite"}
                )
        except TaxiwayError:
            return Decision(503, "unavailable", "cannot check the token: the control plane does not answer")
        if response.is_success:
            return ALLOWED
        if response.status_code == 401:
            return Decision(401, "unauthorized", "the token is unknown or revoked")
        if response.status_code == 403:
            return Decision(403, "forbidden", f"this token may not read service {service!r}")
        if response.status_code == 404:
            return Decision(404, "not-found", f"no service {service!r}")
        return Decision(
            503, "unavailable", f"cannot check the token: the control plane answered {response.status_code}"
        )

"""One HTTP connection to the control plane, with its errors mapped onto Taxiway's tree.

``problem+json`` answers become the matching :class:`~taxiway.errors.TaxiwayError`
(422 → :class:`ValidationFailed` with its located problems, 400 ``invalid-input`` →
:class:`InvalidInput`, 404 → :class:`NotFound`,
409 → :class:`Conflict`, 401/403 → :class:`AccessDenied`); a refused connection, a
timeout or a 5xx becomes :class:`Unreachable`, which is retryable. The bearer token is
sent on every call and never appears in an error message.

:func:`translated` is the one translation of httpx's own errors, for every HTTP client in
the package (this one, the log streams, the satellite's token check, the dev world's
probes): no answer in time or no connection → :class:`Unreachable`; anything else httpx
raises (an undecodable body, too many redirects) → :class:`ProtocolError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from taxiway.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    ProtocolError,
    TaxiwayError,
    TransientError,
    ValidationFailed,
)
from taxiway.spec.problem import Location, Problem


class Unreachable(TransientError):
    """The control plane did not answer, or answered with a server error."""

    code = "unreachable"


class AccessDenied(TaxiwayError):
    """The token is missing, unknown, revoked, or not allowed to do this."""

    code = "access-denied"


@contextlib.contextmanager
def translated(what: str, peer: str) -> Iterator[None]:
    """Raise httpx's errors in the ``with`` block as Taxiway's; ``what`` names the call
    (``"GET /v1/regions"``), ``peer`` who was called (``"the satellite"``)."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise Unreachable(f"{what}: {peer} did not answer in time") from exc
    except httpx.TransportError as exc:
        raise Unreachable(f"{what}: cannot reach {peer} ({exc})") from exc
    except httpx.HTTPError as exc:
        raise ProtocolError(f"{what}: {peer} answered something unreadable ({exc})") from exc


def json_of(response: httpx.Response, what: str) -> Any:
    """The JSON body of an answer, or a :class:`ProtocolError` naming ``what``."""
    try:
        return response.json()
    except ValueError as exc:
        raise ProtocolError(f"{what}: the answer is not JSON") from exc


def _problems(body: Mapping[str, Any]) -> list[Problem]:
    problems = []
    for item in body.get("problems") or []:
        if not isinstance(item, dict):
            continue
        line, column = int(item.get("line") or 0), int(item.get("column") or 0)
        location = Location(str(item.get("file", "")), line, column)
        field = str(item.get("field", ""))
        problems.append(
            Problem(
                location,
                (field,) if field and field != "(document)" else (),
                str(item.get("message", "")),
                item.get("found"),
                item.get("expected"),
                item.get("hint"),
            )
        )
    return problems


def error_for(response: httpx.Response, what: str) -> TaxiwayError:
    """The exception an error answer stands for; ``what`` names the call for the message."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = str(body.get("detail") or response.reason_phrase or "no detail")
    status = response.status_code
    if status == 422 and body.get("problems") and body.get("code") == "validation-failed":
        return ValidationFailed(_problems(body))
    if status == 400 and body.get("code") == "invalid-input":
        return InvalidInput(detail)
    if status == 404:
        return NotFound(detail)
    if status == 409:
        return Conflict(detail)
    if status == 401:
        return AccessDenied(f"{what}: not authenticated: {detail}; check the token")
    if status == 403:
        return AccessDenied(f"{what}: not allowed: {detail}")
    if status >= 500:
        return Unreachable(f"{what}: the control plane answered {status}: {detail}")
    if status == 422:
        fields = "; ".join(
            f"{p.get('field')}: {p.get('message')}" for p in body.get("problems") or [] if isinstance(p, dict)
        )
        return ProtocolError(f"{what}: the control plane refused the request ({fields or detail})")
    return ProtocolError(f"{what}: the control plane answered {status}: {detail}")


class ControlPlane:
    """A control plane at ``url``, called with ``token``; usable as a context manager."""

    def __init__(
        self, url: str, token: str, *, timeout: float = 10.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "taxiway"},
            timeout=timeout,
            trust_env=False,  # never route control-plane calls through a proxy from the environment
            transport=transport,  # an httpx.MockTransport in unit tests; the network otherwise
        )

    def __enter__(self) -> ControlPlane:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send one request; answer the 2xx response or raise the error it stands for."""
        what = f"{method} {path}"
        with translated(what, f"the control plane at {self.url}"):
            response = self._client.request(
                method,
                path,
                json=json,
                params=params,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        if response.is_success:
            return response
        raise error_for(response, what)

    def get(self, path: str, **params: Any) -> Any:
        response = self.request("GET", path, params={k: v for k, v in params.items() if v is not None})
        return json_of(response, f"GET {path}")

    def put(self, path: str, body: Any) -> Any:
        response = self.request("PUT", path, json=body)
        return json_of(response, f"PUT {path}") if response.content else None

    def post(self, path: str, body: Any) -> Any:
        return json_of(self.request("POST", path, json=body), f"POST {path}")

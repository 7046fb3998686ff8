"""RFC 9457 problem details: every API error is ``application/problem+json``.

The ``type`` URI and ``code`` are stable per kind of error (never a class name), so
clients and scripts can branch on them. Located validation problems travel in
``problems`` with file, line, column, field, found and expected.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from taxiway.errors import Conflict, NotFound, TaxiwayError, TransientError, ValidationFailed

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://taxiway.dev/problems/"


class Unauthorized(TaxiwayError):
    code = "unauthorized"


class Forbidden(TaxiwayError):
    code = "forbidden"


_STATUS: tuple[tuple[type[TaxiwayError], int, str], ...] = (
    (ValidationFailed, 422, "The input is invalid"),
    (NotFound, 404, "Not found"),
    (Conflict, 409, "Conflict"),
    (Unauthorized, 401, "Authentication required"),
    (Forbidden, 403, "Not allowed"),
    (TransientError, 503, "Temporarily unavailable"),
)


AUTHENTICATE = 'Bearer realm="taxiway"'
"""The ``WWW-Authenticate`` of every 401."""


def body(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """A problem document (what :func:`problem` sends)."""
    return {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": AUTHENTICATE} if status == 401 else None
    return JSONResponse(
        body(status, code, title, detail, **extra), status_code=status, media_type=MEDIA_TYPE, headers=headers
    )


def for_error(exc: TaxiwayError) -> JSONResponse:
    status, title = next(((s, t) for kind, s, t in _STATUS if isinstance(exc, kind)), (400, "Bad request"))
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationFailed):
        extra["problems"] = [p.to_json() for p in exc.problems]
    if exc.retryable:
        extra["retryable"] = True
    return problem(status, exc.code, title, str(exc), **extra)


async def taxiway_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TaxiwayError)
    return for_error(exc)


async def request_invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
    return problem(422, "invalid-request", "The request is invalid", "see problems", problems=problems)


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    return problem(exc.status_code, code, str(exc.detail), str(exc.detail))

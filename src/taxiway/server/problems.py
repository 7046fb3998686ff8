"""RFC 9457 problem details: every API error is ``application/problem+json``.

The ``type`` URI and ``code`` are stable per kind of error (never a class name), so
clients and scripts can branch on them. Located validation problems travel in
``problems`` with file, line, column, field, found and expected.

What the API document says of them is here too: the shapes every error answer has,
:class:`~taxiway.wire.problem.ProblemDocument` and ``InvalidRequest`` (the served document
carries them as components, see :mod:`taxiway.server.openapi`), and :func:`responses`
declares a route's problem answers, so the document lists every status a route can
answer with the content type it answers in.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, routing
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import compile_path

from taxiway.errors import Conflict, NotFound, QuotaExceeded, TaxiwayError, TransientError, ValidationFailed
from taxiway.wire import problem as problem_document

MEDIA_TYPE = "application/problem+json"


class Unauthorized(TaxiwayError):
    code = "unauthorized"


class Forbidden(TaxiwayError):
    code = "forbidden"


_STATUS: tuple[tuple[type[TaxiwayError], int, str], ...] = (
    (ValidationFailed, 422, "The input is invalid"),
    (NotFound, 404, "Not found"),
    (Conflict, 409, "Conflict"),
    (QuotaExceeded, 413, "Over the service's storage quota"),
    (Unauthorized, 401, "Authentication required"),
    (Forbidden, 403, "Not allowed"),
    (TransientError, 503, "Temporarily unavailable"),
)


AUTHENTICATE = 'Bearer realm="taxiway"'
"""The ``WWW-Authenticate`` of every 401."""


SCHEMAS: tuple[type[BaseModel], ...] = (
    problem_document.ProblemItem,
    problem_document.ProblemDocument,
    problem_document.InvalidRequest,
)
"""The models the API document needs among its components for :func:`responses`."""

_MEANINGS = {
    400: "Bad request: the input is well-formed but cannot be used as it is",
    401: "No token, or an unknown or revoked one",
    403: "The token's scope does not allow this",
    404: "Not found",
    409: "Conflict: a concurrent or contradicting change; nothing was changed",
    413: "The request body is over its bound, or storing it would put the service over its quota",
    422: "The request is invalid; `problems` says where",
    503: "Temporarily unavailable (the database); the same request may succeed later",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route's problem answers, for its decorator."""
    declared: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        schema = problem_document.InvalidRequest if status == 422 else problem_document.ProblemDocument
        declared[status] = {
            "description": _MEANINGS[status],
            "content": {MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{schema.__name__}"}}},
        }
        if status == 401:
            declared[status]["headers"] = {
                "WWW-Authenticate": {"description": AUTHENTICATE, "schema": {"type": "string"}}
            }
    return declared


EVERY_ROUTE = responses(401, 422, 503)
"""What any authenticated route may answer: no valid token; a request that is not valid
(every route checks its URL's text, see :mod:`taxiway.server.text`); the store away."""
BODY = (400, 413)
"""What a route that reads a body may answer besides: a body it cannot parse, or one over
its bound (:mod:`taxiway.server.guard`)."""


def quoted(name: str) -> str:
    """A name from a request path, quoted and cut short for a message."""
    return repr(name if len(name) <= 64 else name[:64] + "...")


def body(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """A problem document (what :func:`problem` sends)."""
    return problem_document.render(status, code, title, detail, **extra)


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


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        # FastAPI reads a JSON body and answers 400 for any error but bad JSON; bytes that
        # are not UTF-8 are invalid text, answered like any other invalid input.
        problems = [{"field": "body", "message": "the body is not UTF-8 text"}]
        return problem(422, "invalid-request", "The request is invalid", "see problems", problems=problems)
    code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    answer = problem(exc.status_code, code, str(exc.detail), str(exc.detail))
    answer.headers.update(exc.headers or {})
    if exc.status_code == 405:
        answer.headers["Allow"] = ", ".join(allowed_methods(request))
    return answer


def allowed_methods(request: Request) -> list[str]:
    """Every method the request's path takes (``Allow`` of a 405, RFC 9110): the router
    names only the first route that matched the path, but a path has a route per method."""
    methods: set[str] = set()
    for route in routing.iter_route_contexts(request.app.routes):  # included routers' too
        if route.path is not None and route.methods:
            pattern, _, _ = compile_path(route.path)
            if pattern.match(request.scope["path"]):
                methods.update(route.methods)
    return sorted(methods)


async def internal_error(_request: Request, _exc: Exception) -> JSONResponse:
    """A bug: answered as a problem too, never a traceback (the server logs it)."""
    return problem(500, "internal-error", "Internal error", "the control plane failed on this request")

"""Every string a request carries is Unicode text: its URL, and each string of its JSON body.

A dependency of every route (:func:`taxiway.server.app.create_app` adds it). JSON may
spell a lone UTF-16 surrogate (``"\\ud800"``) and Python's JSON reader lets one through
(raw bytes too: it decodes with ``surrogatepass``); such a string cannot be encoded as
UTF-8, so it failed wherever it went next: a 500 from PostgreSQL, from the YAML files of
an upload, or, once stored, from every later answer that carried it (``GET /v1/status``
for everyone). Here it is refused first, with a 422 naming the field. A URL whose
percent-encoding is not UTF-8 (``%ED%A0%80``) would reach the routes as replacement
characters; it is refused the same way. Bodies run after the guard, which has checked the
token and the size (:mod:`taxiway.server.guard`); FastAPI has already parsed the JSON,
which :meth:`Request.json` keeps, so nothing is read twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import Request
from fastapi.exceptions import RequestValidationError

_SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE = "a lone UTF-16 surrogate (U+D800 to U+DFFF) is not text"
NOT_UTF8 = "the percent-encoded text is not UTF-8"
MAX_REPORTED = 20
"""A body with a surrogate in every string names the first few, not all of them."""
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

Location = tuple[str | int, ...]


async def checked(request: Request) -> None:
    """Refuse (422) a request with a string that is not text; see the module docstring."""
    errors = [_error(location, NOT_UTF8) for location in _bad_url(request)]
    if request.method in BODY_METHODS and await request.body():
        try:
            document = await request.json()
        except (ValueError, RecursionError):
            document = None  # not JSON (or nested past the reader): the route's parsing answers
        for index, location in enumerate(surrogates(document, ("body",))):
            if index == MAX_REPORTED:
                break
            errors.append(_error(location, SURROGATE))
    if errors:
        raise RequestValidationError(errors)


def surrogates(value: Any, at: Location = ()) -> Iterator[Location]:
    """Where in ``value`` (JSON data) a string or a key holds a lone surrogate.

    Iterative: a document nested as deeply as the JSON reader allows does not exhaust
    the stack here."""
    pending: list[tuple[Any, Location]] = [(value, at)]
    while pending:
        item, where = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                yield where
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and _SURROGATE.search(key):
                    yield (*where, "(key)")
                pending.append((child, (*where, _SURROGATE.sub("?", str(key)))))
        elif isinstance(item, list):
            pending.extend((child, (*where, index)) for index, child in enumerate(item))


def _bad_url(request: Request) -> Iterator[Location]:
    raw_path = request.scope.get("raw_path")
    if isinstance(raw_path, bytes) and not _utf8(raw_path):
        yield ("path",)
    query = request.scope.get("query_string", b"")
    if isinstance(query, bytes) and not _utf8(query.replace(b"+", b" ")):
        yield ("query",)


def _utf8(encoded: bytes) -> bool:
    try:
        unquote_to_bytes(encoded).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _error(location: Location, message: str) -> dict[str, Any]:
    return {"type": "string_unicode", "loc": location, "msg": message, "input": None}

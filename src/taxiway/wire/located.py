"""Where a document is wrong: a pydantic error turned into the field path and what is wrong. Pure.

The wire parsers (:mod:`taxiway.wire.feed`, :mod:`taxiway.wire.pop_config`, ...) raise
:class:`~taxiway.errors.ProtocolError` with the field spelt as the documents spell it
(``items[0].revision``) and the sentence its validator wrote, never pydantic's own report.
"""

from __future__ import annotations

from dataclasses import dataclass

import pydantic


@dataclass(frozen=True)
class Fault:
    """The first thing wrong with a document."""

    field: str
    """``items[0].revision``; empty for the document itself."""
    parent: str
    """The field holding it (``items[0]``), for a missing field's sentence."""
    missing: str | None
    """The name of a required field that is absent, else ``None``."""
    message: str
    """What is wrong: the validator's sentence, else pydantic's."""


def spelt(location: tuple[int | str, ...]) -> str:
    """A pydantic error location as the documents spell it: ``items[0].revision``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def first(error: pydantic.ValidationError) -> Fault:
    """The first error of ``error``, located."""
    found = error.errors(include_url=False)[0]
    location = tuple(found["loc"])
    cause = (found.get("ctx") or {}).get("error")
    if found["type"] == "missing":
        message = "is missing"
    elif found["type"] in ("model_type", "model_attributes_type", "dict_type"):
        message = f"expected an object, got {found['input']!r}"
    elif isinstance(cause, ValueError):
        message = str(cause)
    else:
        message = found["msg"]
    return Fault(
        field=spelt(location),
        parent=spelt(location[:-1]),
        missing=str(location[-1]) if found["type"] == "missing" and location else None,
        message=message,
    )

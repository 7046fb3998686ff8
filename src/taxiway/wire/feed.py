"""One answer of the definitions feed, as the control plane sends it and a satellite reads it. Pure.

The puller hands every answer of ``GET /v1/regions/{region}/definitions`` to
:func:`parse` before anything is written or acted on: an answer that is not the shape of
docs/protocol.md is a :class:`~taxiway.errors.ProtocolError`, and the satellite
keeps what it has. Fields a control plane may not send yet (``failed_nodes``,
``artifact``) are optional here and mean "unknown", never "none"; fields this satellite
does not know are ignored, so a newer control plane can talk to it. Numbers past
:data:`MAX_INTEGER` and text that is not valid Unicode (a lone surrogate, which JSON can
spell as ``"\\ud800"``) are refused here, not at the local store or an instance's
environment.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, PlainValidator

from taxiway.errors import ProtocolError
from taxiway.wire import located

ARTIFACT = re.compile(r"^sha256:[0-9a-f]{64}$")
MAX_INTEGER = 2**53 - 1
"""The largest cursor, seq or revision: what the control plane accepts and JSON keeps exact."""

Key = tuple[str, str]
"""(service, environment)."""
NodeRef = tuple[str, str]
"""(datacenter, node)."""


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INTEGER:
        shown = value if not isinstance(value, int) or value < 10**20 else f"{str(value)[:20]}…"
        raise ValueError(f"is {shown!r}, expected a whole number 0 to 2^53-1")
    return value


def _unicode(value: Any) -> None:
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise ValueError("holds text that is not valid Unicode") from None


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"is {value!r}, expected text")
    _unicode(value)
    return value


def _artifact(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not ARTIFACT.match(value)):
        raise ValueError(f"is {value!r}, expected sha256:<hex>")
    return value


def _definition(value: Any) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise ValueError("is neither an object nor null")
    _unicode(value)
    return value


def _items(value: Any) -> Any:
    if not isinstance(value, list | tuple):
        raise ValueError("is not a list")
    return tuple(value)


def _sorted_nodes(nodes: frozenset[NodeRef] | None) -> list[list[str]] | None:
    return None if nodes is None else [list(node) for node in sorted(nodes)]


def _failed_nodes(value: Any) -> frozenset[NodeRef] | None:
    if value is None:
        return None
    if isinstance(value, frozenset | set):
        value = list(value)
    if not isinstance(value, list):
        raise ValueError("is not a list")
    nodes = set()
    for pair in value:
        if not (isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise ValueError(f"holds {pair!r}, expected [datacenter, node]")
        _unicode(pair)
        nodes.add((pair[0], pair[1]))
    return frozenset(nodes)


Whole = Annotated[int, PlainValidator(_whole)]
Text = Annotated[str, PlainValidator(_text)]


class Item(BaseModel):
    """One (service, environment) that changed: a definition, or a tombstone (``None``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    service: Text
    environment: Text
    revision: Whole
    seq: Whole
    artifact: Annotated[str | None, PlainValidator(_artifact)] = None
    definition: Annotated[dict[str, Any] | None, PlainValidator(_definition)]
    """Required: a missing key is not a tombstone, only an explicit null removes anything."""

    @property
    def key(self) -> Key:
        return (self.service, self.environment)


class Batch(BaseModel):
    """One answer: what changed after the cursor asked with, and the region's failed nodes."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    region: str | None = None
    """The region the answer is for; checked by :func:`parse`, absent from older control planes."""
    cursor: Whole
    items: Annotated[tuple[Item, ...], BeforeValidator(_items)]
    failed_nodes: Annotated[
        frozenset[NodeRef] | None,
        PlainValidator(_failed_nodes),
        PlainSerializer(_sorted_nodes, return_type=list[list[str]] | None),
    ] = None
    """The region's complete set of failed nodes; ``None`` when the answer does not say."""


def _problem(error: pydantic.ValidationError) -> str:
    fault = located.first(error)
    if fault.missing == "definition":
        return f"{fault.parent} has no definition (an object, or null)"
    if fault.message.startswith("expected an object"):
        return f"{fault.field} is not an object"
    return f"{fault.field} {fault.message}"


def parse(answer: Any, region: str) -> Batch:
    """Check one answer for ``region``; raises ProtocolError naming the first wrong field."""
    if not isinstance(answer, dict):
        raise ProtocolError("definitions feed: the answer is not an object")
    if answer.get("region", region) != region:
        raise ProtocolError(f"definitions feed: answered for region {answer.get('region')!r}, not {region!r}")
    try:
        return Batch.model_validate(answer)
    except pydantic.ValidationError as exc:
        raise ProtocolError(f"definitions feed: {_problem(exc)}") from None

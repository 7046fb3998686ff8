"""One answer of the definitions feed, checked and typed. Pure.

The puller hands every answer of ``GET /v1/regions/{region}/definitions`` to
:func:`parse` before anything is written or acted on: an answer that is not the shape of
docs/protocol.md is a :class:`~taxiway.errors.ProtocolError`, and the satellite
keeps what it has. Fields a control plane may not send yet (``failed_nodes``,
``artifact``) are optional here and mean "unknown", never "none". Numbers past
:data:`MAX_INTEGER` and text that is not valid Unicode (a lone surrogate, which JSON can
spell as ``"\\ud800"``) are refused here, not at the local store or an instance's
environment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from taxiway.errors import ProtocolError

ARTIFACT = re.compile(r"^sha256:[0-9a-f]{64}$")
MAX_INTEGER = 2**53 - 1
"""The largest cursor, seq or revision: what the control plane accepts and JSON keeps exact."""

Key = tuple[str, str]
"""(service, environment)."""
NodeRef = tuple[str, str]
"""(datacenter, node)."""


@dataclass(frozen=True)
class Item:
    """One (service, environment) that changed: a definition, or a tombstone (``None``)."""

    service: str
    environment: str
    revision: int
    seq: int
    artifact: str | None
    definition: dict[str, Any] | None

    @property
    def key(self) -> Key:
        return (self.service, self.environment)


@dataclass(frozen=True)
class Batch:
    cursor: int
    items: tuple[Item, ...]
    failed_nodes: frozenset[NodeRef] | None
    """The region's complete set of failed nodes; ``None`` when the answer does not say."""


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INTEGER:
        shown = value if not isinstance(value, int) or value < 10**20 else f"{str(value)[:20]}…"
        raise ProtocolError(f"definitions feed: {what} is {shown!r}, expected a whole number 0 to 2^53-1")
    return value


def _unicode(value: Any, what: str) -> None:
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise ProtocolError(f"definitions feed: {what} holds text that is not valid Unicode") from None


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"definitions feed: {what} is {value!r}, expected text")
    _unicode(value, what)
    return value


def _item(raw: Any, index: int) -> Item:
    where = f"items[{index}]"
    if not isinstance(raw, Mapping):
        raise ProtocolError(f"definitions feed: {where} is not an object")
    artifact = raw.get("artifact")
    if artifact is not None and (not isinstance(artifact, str) or not ARTIFACT.match(artifact)):
        raise ProtocolError(f"definitions feed: {where}.artifact is {artifact!r}, expected sha256:<hex>")
    definition = raw.get("definition")
    if definition is not None and not isinstance(definition, dict):
        raise ProtocolError(f"definitions feed: {where}.definition is neither an object nor null")
    _unicode(definition, f"{where}.definition")
    if "definition" not in raw:
        # A missing key is not a tombstone: only an explicit null removes anything.
        raise ProtocolError(f"definitions feed: {where} has no definition (an object, or null)")
    return Item(
        service=_text(raw.get("service"), f"{where}.service"),
        environment=_text(raw.get("environment"), f"{where}.environment"),
        revision=_int(raw.get("revision"), f"{where}.revision"),
        seq=_int(raw.get("seq"), f"{where}.seq"),
        artifact=artifact,
        definition=definition,
    )


def _failed_nodes(raw: Any) -> frozenset[NodeRef] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise ProtocolError("definitions feed: failed_nodes is not a list")
    nodes = set()
    for pair in raw:
        if not (isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise ProtocolError(f"definitions feed: failed_nodes holds {pair!r}, expected [datacenter, node]")
        _unicode(pair, "failed_nodes")
        nodes.add((pair[0], pair[1]))
    return frozenset(nodes)


def parse(answer: Any, region: str) -> Batch:
    """Check one answer for ``region``; raises ProtocolError naming the first wrong field."""
    if not isinstance(answer, Mapping):
        raise ProtocolError("definitions feed: the answer is not an object")
    if answer.get("region", region) != region:
        raise ProtocolError(f"definitions feed: answered for region {answer.get('region')!r}, not {region!r}")
    raw_items = answer.get("items")
    if not isinstance(raw_items, list):
        raise ProtocolError("definitions feed: items is not a list")
    return Batch(
        cursor=_int(answer.get("cursor"), "cursor"),
        items=tuple(_item(raw, index) for index, raw in enumerate(raw_items)),
        failed_nodes=_failed_nodes(answer.get("failed_nodes")),
    )

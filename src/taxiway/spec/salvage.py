"""What still parses of a document the schema rejected, so the semantic checks run on it.

A user should hear about every problem in one run: a misspelt quantity in one field and
an unknown region in another. When the schema rejects some fields, the document is
validated again without them (their defaults in their place), again and again until it
passes or nothing is left to drop; the semantic checks then run on what passed. A rule
that reads a dropped field is skipped, since its verdict would be about a default the
owner never wrote: :class:`Unsure` says which fields those are. An element of a list is
never dropped alone (the indexes after it, which problems name, would shift): its whole
list goes. Callers: :mod:`taxiway.spec.service_files`, :mod:`taxiway.spec.checks` and
:mod:`taxiway.plan.derive`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pydantic

from taxiway.spec import validation
from taxiway.spec.problem import Path

M = TypeVar("M", bound=pydantic.BaseModel)


def _overlap(a: Path, b: Path) -> bool:
    """Whether one path is the other or inside it."""
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


@dataclass(frozen=True)
class Unsure:
    """The fields the schema rejected (or whose mapping had an unknown field), as paths."""

    paths: frozenset[Path] = frozenset()

    def touches(self, *fields: Path) -> bool:
        """Whether any of ``fields`` is unsure, or holds or sits inside an unsure field."""
        return any(_overlap(path, field) for path in self.paths for field in fields)

    def under(self, prefix: Path) -> Unsure:
        """The same, relative to ``prefix``; all of it is unsure when ``prefix`` or an ancestor is."""
        inside = set()
        for path in self.paths:
            if path[: len(prefix)] == prefix:
                inside.add(path[len(prefix) :])
            elif prefix[: len(path)] == path:
                inside.add(())
        return Unsure(frozenset(inside))

    def __or__(self, other: Unsure) -> Unsure:
        return Unsure(self.paths | other.paths)


NOTHING = Unsure()
"""A document that passed the schema: every field is sure."""


@dataclass(frozen=True)
class Salvaged(Generic[M]):
    value: M
    unsure: Unsure


def _drop(data: Any, path: Path) -> bool:
    """Remove the field at ``path`` from ``data`` (in place); whether there was one."""
    parent = data
    for part in path[:-1]:
        inside = isinstance(parent, dict) and part in parent
        if not inside and not (
            isinstance(parent, list) and isinstance(part, int) and 0 <= part < len(parent)
        ):
            return False
        parent = parent[part]
    if isinstance(parent, dict) and path[-1] in parent:
        del parent[path[-1]]
        return True
    return False


def _whole_list(path: Path) -> Path:
    while path and isinstance(path[-1], int):
        path = path[:-1]
    return path


def salvage(model: type[M], data: Any, error: pydantic.ValidationError) -> Salvaged[M] | None:
    """``data`` as ``model`` without the fields ``error`` (and each retry) rejects, or None
    when a whole required part had to go (a missing ``spec``, a bad ``metadata.name``)."""
    data = copy.deepcopy(data)
    unsure: set[Path] = set()
    while True:
        dropped = False
        for kind, path in validation.error_paths(error, data):
            # A missing field cannot be dropped: the mapping that lacks it goes instead.
            target = _whole_list(path[:-1] if kind == "missing" else path)
            if not target:
                return None
            if _drop(data, target):
                dropped = True
                # An unknown field may be a misspelt sibling: the mapping holding it is unsure.
                unsure.add(_whole_list(target[:-1]) if kind == "extra_forbidden" else target)
        if not dropped:
            return None
        try:
            return Salvaged(model.model_validate(data), Unsure(frozenset(unsure)))
        except pydantic.ValidationError as exc:
            error = exc

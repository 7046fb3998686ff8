"""The plan: what would be created, changed (field by field) and removed.

``plan(desired, actual)`` compares regional definitions keyed by (service, environment,
region). Definitions are flattened to dotted field paths; secret env values compare by
digest and render as ``(sensitive)``. The revision number is bookkeeping, not content,
so it never makes a change on its own. ``plan(x, x)`` is always empty.
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from taxiway.plan.regional import RegionalDefinition, RegionalSpec, SecretEnv

Key = tuple[str, str, str]
Action = Literal["create", "change", "remove"]
SENSITIVE = "(sensitive)"
# Bookkeeping fields: which stored revision carries a definition says nothing of what runs.
_IGNORED = {"revision", "spec.env.TAXIWAY_REVISION"}


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any
    sensitive: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"field": self.path, "old": self.old, "new": self.new, "sensitive": self.sensitive}


@dataclass(frozen=True)
class RegionChange:
    service: str
    environment: str
    region: str
    action: Action
    fields: tuple[FieldChange, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "environment": self.environment,
            "region": self.region,
            "action": self.action,
            "fields": [f.to_json() for f in self.fields],
        }


@dataclass(frozen=True)
class Plan:
    changes: tuple[RegionChange, ...] = ()
    unchanged: tuple[Key, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.changes

    def count(self, action: Action) -> int:
        return sum(1 for change in self.changes if change.action == action)

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": [c.to_json() for c in self.changes],
            "unchanged": [{"service": s, "environment": e, "region": r} for s, e, r in self.unchanged],
            "summary": {action: self.count(action) for action in ("create", "change", "remove")},
        }


Leaf = tuple[str, Any, bool]
"""(dotted path, comparable value, sensitive): one line of a flattened definition."""
Leaves = tuple[Leaf, ...]


def _walk(value: Any, path: str, out: list[Leaf]) -> None:
    """Flatten JSON-shaped ``value`` under ``path``. Lists of scalars stay whole."""
    if isinstance(value, dict):
        if value.get("secret") is True and "digest" in value:
            out.append((path, value["digest"], True))
            return
        if not value:
            out.append((path, {}, False))
        for key, item in value.items():
            _walk(item, f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]", out)
        if not value:
            out.append((path, [], False))
    else:
        out.append((path, value, False))


def flatten(definition: RegionalDefinition) -> dict[str, tuple[Any, bool]]:
    """Dotted path -> (comparable value, sensitive). Lists of scalars stay whole.

    The reference for what a plan compares; ``plan`` computes the same, faster, with
    :class:`_Flattener`.
    """
    out: list[Leaf] = []
    _walk(definition.model_dump(mode="json", by_alias=True), "", out)
    return {path: (value, sensitive) for path, value, sensitive in out if path not in _IGNORED}


def _shown(value: Any, sensitive: bool) -> Any:
    return SENSITIVE if sensitive and value is not None else value


def _changes(before: Leaves, after: Leaves) -> tuple[FieldChange, ...]:
    old_fields = {path: (value, sensitive) for path, value, sensitive in before}
    new_fields = {path: (value, sensitive) for path, value, sensitive in after}
    changes = []
    for path in sorted(old_fields.keys() | new_fields.keys()):
        (old_value, old_secret) = old_fields.get(path, (None, False))
        (new_value, new_secret) = new_fields.get(path, (None, False))
        if old_value != new_value or old_secret != new_secret:
            # Once either side is secret, neither side is shown: a value newly marked
            # secret must not leak its old plain text through the plan.
            sensitive = old_secret or new_secret
            changes.append(
                FieldChange(path, _shown(old_value, sensitive), _shown(new_value, sensitive), sensitive)
            )
    return tuple(changes)


def compare(old: RegionalDefinition, new: RegionalDefinition) -> tuple[FieldChange, ...]:
    """Field by field, what differs between two definitions, sorted by path."""
    flattener = _Flattener()
    return _changes(flattener.leaves(old), flattener.leaves(new))


def _path(leaf: Leaf) -> str:
    return leaf[0]


# Top-level fields that are plain values (revision, bookkeeping, left out), by JSON key;
# the ones before "metadata" and the ones after it, so leaves come out sorted by path.
_HEAD = sorted(
    (info.alias or name, name)
    for name, info in RegionalDefinition.model_fields.items()
    if name not in {"metadata", "spec"} and (info.alias or name) not in _IGNORED
)
_HEAD_KEYS = tuple(key for key, _ in _HEAD)
_HEAD_SPLIT = bisect.bisect_left(_HEAD_KEYS, "metadata")
_head_values = operator.attrgetter(*(name for _, name in _HEAD))
# A regional spec's fields but env: what the regions of one service share.
_spec_part_values = operator.attrgetter(*(name for name in RegionalSpec.model_fields if name != "env"))
_REVISION_ENV = "TAXIWAY_REVISION"


class _Flattener:
    """Flattens and compares the definitions of one plan, once per shared part.

    Flattening goes through pydantic's JSON dump and a walk of it, some 300 µs a
    definition: a fleet-wide plan spent nearly all its time there. But derived definitions
    share their frozen parts (the metadata, and a spec's every field but env, see
    ``derive``) across the regions of a service. So this flattens each distinct part once,
    compares two parts by value before flattening them at all, and handles per definition
    only what is its own: the top-level values and env. Its leaves are exactly
    :func:`flatten`'s, sorted by path. It also keeps the :class:`FieldChange` lines of
    created and removed definitions, so a plan holds one copy of a line many share.

    Parts are cached by ``id()``. The caches hold each part, so no id is reused while the
    flattener lives: one ``plan`` call. Leaves are sorted part by part, in key order; keys
    are identifiers, whose characters all sort after ``.``, so that is path order.
    """

    def __init__(self) -> None:
        self._parts: dict[tuple[int, ...], tuple[object, Leaves]] = {}
        self._spec_halves: dict[int, tuple[Leaves, Leaves]] = {}
        self._same_parts: dict[tuple[tuple[int, ...], tuple[int, ...]], bool] = {}
        self._lines_of_part: dict[tuple[int, bool], tuple[FieldChange, ...]] = {}
        self._text_lines: tuple[dict[Leaf, FieldChange], dict[Leaf, FieldChange]] = ({}, {})

    def _part(self, key: tuple[int, ...], keep: object, dump: Callable[[], Any], prefix: str) -> Leaves:
        cached = self._parts.get(key)
        if cached is None:
            out: list[Leaf] = []
            _walk(dump(), prefix, out)
            out.sort(key=_path)
            cached = self._parts[key] = (keep, tuple(out))
        return cached[1]

    def _metadata(self, definition: RegionalDefinition) -> Leaves:
        metadata = definition.metadata
        return self._part(
            (id(metadata),), metadata, lambda: metadata.model_dump(mode="json", by_alias=True), "metadata"
        )

    def _spec(self, definition: RegionalDefinition) -> tuple[Leaves, Leaves]:
        """The spec's leaves but env's: those that sort before env's, and those after."""
        spec = definition.spec
        values = _spec_part_values(spec)
        leaves = self._part(
            tuple(map(id, values)),
            values,
            lambda: spec.model_dump(mode="json", by_alias=True, exclude={"env"}),
            "spec",
        )
        halves = self._spec_halves.get(id(leaves))
        if halves is None:
            split = bisect.bisect_left(leaves, "spec.env", key=_path)
            halves = self._spec_halves[id(leaves)] = (leaves[:split], leaves[split:])
        return halves

    @staticmethod
    def _head(definition: RegionalDefinition) -> Leaves:
        return tuple(
            (key, value, False) for key, value in zip(_HEAD_KEYS, _head_values(definition), strict=True)
        )

    @staticmethod
    def _env(env: Mapping[str, str | SecretEnv]) -> Leaves:
        if not env:
            return (("spec.env", {}, False),)
        return tuple(
            (f"spec.env.{name}", value.digest, True)
            if isinstance(value, SecretEnv)
            else (f"spec.env.{name}", value, False)
            for name, value in sorted(env.items())
            if name != _REVISION_ENV
        )

    def leaves(self, definition: RegionalDefinition) -> Leaves:
        """Every leaf of ``definition``, sorted by path."""
        head = self._head(definition)
        before_env, after_env = self._spec(definition)
        return (
            *head[:_HEAD_SPLIT],
            *self._metadata(definition),
            *head[_HEAD_SPLIT:],
            *before_env,
            *self._env(definition.spec.env),
            *after_env,
        )

    def _same_part(self, old: tuple[Any, ...], new: tuple[Any, ...], leaves: Callable[[], bool]) -> bool:
        """Whether two parts (as tuples of field values) have the same leaves, decided once.

        Equal values dump alike, so equal parts need no flattening, the costly step. Only
        unequal ones, which may still dump alike (``1`` and ``1.0``), have their leaves
        compared. The parts are held by the definitions, held by the caller, so their ids
        stay theirs for the whole plan.
        """
        key = (tuple(map(id, old)), tuple(map(id, new)))
        same = self._same_parts.get(key)
        if same is None:
            same = self._same_parts[key] = old == new or leaves()
        return same

    def same(self, old: RegionalDefinition, new: RegionalDefinition) -> bool:
        """Whether the two have the same leaves, without flattening them if it can."""
        if _head_values(old) != _head_values(new):
            return False
        if not self._same_part(
            (old.metadata,), (new.metadata,), lambda: self._metadata(old) == self._metadata(new)
        ):
            return False
        if not self._same_part(
            _spec_part_values(old.spec),
            _spec_part_values(new.spec),
            lambda: self._spec(old) == self._spec(new),
        ):
            return False
        old_env, new_env = old.spec.env, new.spec.env
        # Equal dicts have equal leaves. Unequal ones may too (a secret read from a state
        # file has no value, only its digest): then their leaves decide.
        if {**old_env, _REVISION_ENV: ""} == {**new_env, _REVISION_ENV: ""}:
            return True
        return self._env(old_env) == self._env(new_env)

    def _lines(self, leaves: Leaves, created: bool) -> tuple[FieldChange, ...]:
        """Lines of a created (or removed) definition; lines of text values are shared."""
        cache = self._text_lines[created]
        lines = []
        for leaf in leaves:
            line = cache.get(leaf) if isinstance(leaf[1], str) else None
            if line is None:
                path, value, sensitive = leaf
                shown = _shown(value, sensitive)
                line = FieldChange(path, None if created else shown, shown if created else None, sensitive)
                if isinstance(value, str):
                    cache[leaf] = line
            lines.append(line)
        return tuple(lines)

    def _part_lines(self, leaves: Leaves, created: bool) -> tuple[FieldChange, ...]:
        """The lines of a cached part, built once however many definitions share it."""
        key = (id(leaves), created)  # leaves held by the part caches
        lines = self._lines_of_part.get(key)
        if lines is None:
            lines = self._lines_of_part[key] = self._lines(leaves, created)
        return lines

    def all_fields(self, definition: RegionalDefinition, *, created: bool) -> tuple[FieldChange, ...]:
        """Every field as a line of a created (or removed) definition, sorted by path."""
        head = self._lines(self._head(definition), created)
        before_env, after_env = self._spec(definition)
        return (
            *head[:_HEAD_SPLIT],
            *self._part_lines(self._metadata(definition), created),
            *head[_HEAD_SPLIT:],
            *self._part_lines(before_env, created),
            *self._lines(self._env(definition.spec.env), created),
            *self._part_lines(after_env, created),
        )


def plan(desired: Mapping[Key, RegionalDefinition], actual: Mapping[Key, RegionalDefinition]) -> Plan:
    """Changes that turn ``actual`` into ``desired``, ordered by service, environment, region."""
    flattener = _Flattener()
    changes: list[RegionChange] = []
    unchanged: list[Key] = []
    for key in sorted(desired.keys() | actual.keys()):
        service, environment, region = key
        new, old = desired.get(key), actual.get(key)
        if old is None and new is not None:
            changes.append(
                RegionChange(service, environment, region, "create", flattener.all_fields(new, created=True))
            )
        elif new is None and old is not None:
            changes.append(
                RegionChange(service, environment, region, "remove", flattener.all_fields(old, created=False))
            )
        elif old is not None and new is not None:
            if flattener.same(old, new):
                unchanged.append(key)
                continue
            fields = _changes(flattener.leaves(old), flattener.leaves(new))
            if fields:
                changes.append(RegionChange(service, environment, region, "change", fields))
            else:
                unchanged.append(key)
    return Plan(tuple(changes), tuple(unchanged))


ARTIFACT = "artifact"
"""The field a plan shows when a service's code changed: its artifact's digest."""


def with_artifact(plan: Plan, old: str | None, new: str | None) -> Plan:
    """``plan`` with the artifact compared too: a new digest changes every region that stays.

    The artifact is the revision's code; definitions alone miss a change of code only.
    Created and removed regions already say everything changes there.
    """
    if old == new:
        return plan
    line = FieldChange(ARTIFACT, old, new)
    changes = [
        RegionChange(c.service, c.environment, c.region, c.action, (line, *c.fields))
        if c.action == "change"
        else c
        for c in plan.changes
    ]
    changes += [RegionChange(*key, "change", (line,)) for key in plan.unchanged]
    ordered = sorted(changes, key=lambda c: (c.service, c.environment, c.region))
    return Plan(tuple(ordered), ())

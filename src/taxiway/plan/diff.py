"""The plan: what would be created, changed (field by field) and removed.

``plan(desired, actual)`` compares regional definitions keyed by (service, environment,
region). Definitions are flattened to dotted field paths; secret env values compare by
digest and render as ``(sensitive)``. The revision number is bookkeeping, not content,
so it never makes a change on its own. ``plan(x, x)`` is always empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from taxiway.plan.regional import RegionalDefinition

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


def flatten(definition: RegionalDefinition) -> dict[str, tuple[Any, bool]]:
    """Dotted path -> (comparable value, sensitive). Lists of scalars stay whole."""
    out: dict[str, tuple[Any, bool]] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            if value.get("secret") is True and "digest" in value:
                out[path] = (value["digest"], True)
                return
            if not value:
                out[path] = ({}, False)
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")
            if not value:
                out[path] = ([], False)
        else:
            out[path] = (value, False)

    walk(definition.model_dump(mode="json", by_alias=True), "")
    for ignored in _IGNORED:
        out.pop(ignored, None)
    return out


def _shown(value: Any, sensitive: bool) -> Any:
    return SENSITIVE if sensitive and value is not None else value


def compare(old: RegionalDefinition, new: RegionalDefinition) -> tuple[FieldChange, ...]:
    before, after = flatten(old), flatten(new)
    changes = []
    for path in sorted(before.keys() | after.keys()):
        (old_value, old_secret) = before.get(path, (None, False))
        (new_value, new_secret) = after.get(path, (None, False))
        if old_value != new_value or old_secret != new_secret:
            sensitive = old_secret or new_secret
            changes.append(
                FieldChange(path, _shown(old_value, old_secret), _shown(new_value, new_secret), sensitive)
            )
    return tuple(changes)


def _all_fields(definition: RegionalDefinition, *, created: bool) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(path, None if created else _shown(v, s), _shown(v, s) if created else None, s)
        for path, (v, s) in sorted(flatten(definition).items())
    )


def plan(desired: Mapping[Key, RegionalDefinition], actual: Mapping[Key, RegionalDefinition]) -> Plan:
    """Changes that turn ``actual`` into ``desired``, ordered by service, environment, region."""
    changes: list[RegionChange] = []
    unchanged: list[Key] = []
    for key in sorted(desired.keys() | actual.keys()):
        service, environment, region = key
        new, old = desired.get(key), actual.get(key)
        if old is None and new is not None:
            changes.append(
                RegionChange(service, environment, region, "create", _all_fields(new, created=True))
            )
        elif new is None and old is not None:
            changes.append(
                RegionChange(service, environment, region, "remove", _all_fields(old, created=False))
            )
        elif old is not None and new is not None:
            fields = compare(old, new)
            if fields:
                changes.append(RegionChange(service, environment, region, "change", fields))
            else:
                unchanged.append(key)
    return Plan(tuple(changes), tuple(unchanged))

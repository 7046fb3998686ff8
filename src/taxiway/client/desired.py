"""Which revision each environment of a service should run, read and changed safely.

Deploy and rollback both end in :func:`point`: a write guarded by the version read
before it, so two people deploying at once cannot silently overwrite each other (the
loser's write is refused and nothing changes; where a rollback returns to is the control
plane's choice, see :mod:`taxiway.client.outcomes`). :func:`targets` is what ``status``
compares reports with, and :func:`deployed` what ``plan --remote`` compares a manifest
and an artifact with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pydantic

from taxiway.client.http import ControlPlane
from taxiway.client.status import Target
from taxiway.errors import Conflict, InvalidInput, NotFound, ProtocolError
from taxiway.plan.regional import RegionalDefinition
from taxiway.plan.state import State


@dataclass(frozen=True)
class Desired:
    revision: int
    version: int
    updated_by: str | None = None
    updated_at: str | None = None


def _desired(answer: Any, what: str) -> Desired:
    if not isinstance(answer, dict) or not isinstance(answer.get("revision"), int):
        raise ProtocolError(f"{what} answered no revision")
    return Desired(
        answer["revision"],
        int(answer.get("version") or 0),
        answer.get("updated_by"),
        answer.get("updated_at"),
    )


def current(cp: ControlPlane, service: str, environment: str) -> Desired | None:
    """What ``environment`` points at now; None when the service was never deployed there."""
    path = f"/v1/services/{service}/environments/{environment}"
    try:
        return _desired(cp.get(path), f"GET {path}")
    except NotFound:
        return None


def pointers(cp: ControlPlane, service: str) -> dict[str, int]:
    """The revision each environment of ``service`` points at; never-deployed ones left out."""
    answer = cp.get(f"/v1/services/{service}")
    environments = answer.get("environments") if isinstance(answer, dict) else None
    return {
        env: d["revision"]
        for env, d in (environments or {}).items()
        if isinstance(d, dict) and isinstance(d.get("revision"), int)
    }


def targets(cp: ControlPlane, service: str, environment: str | None = None) -> dict[tuple[str, str], Target]:
    """What each environment of ``service`` (or just ``environment``) points at, and where it runs."""
    found = {}
    for env, number in pointers(cp, service).items():
        if environment in (None, env):
            by_region = revision(cp, service, number)["definitions"].get(env) or {}
            found[(service, env)] = Target(number, tuple(sorted(by_region)))
    return found


def point(cp: ControlPlane, service: str, environment: str, revision: int, expected_version: int) -> Desired:
    """Point ``environment`` at ``revision`` if nobody changed it since ``expected_version``."""
    path = f"/v1/services/{service}/environments/{environment}"
    try:
        answer = cp.put(path, {"revision": revision, "expected_version": expected_version})
    except Conflict as exc:
        now = current(cp, service, environment)
        who = f" ({now.updated_by})" if now and now.updated_by else ""
        target = f"it now runs revision {now.revision}{who}" if now else "its state changed"
        raise Conflict(
            f"someone else deployed {service} to {environment} meanwhile ({target}); "
            "nothing changed; run again"
        ) from exc
    return _desired(answer, f"PUT {path}")


def revision(cp: ControlPlane, service: str, number: int) -> dict[str, Any]:
    """One stored revision, its definitions by environment then region (secrets as digests)."""
    path = f"/v1/services/{service}/revisions/{number}"
    answer = cp.get(path)
    if not isinstance(answer, dict) or not isinstance(answer.get("definitions"), dict):
        raise ProtocolError(f"GET {path} answered no definitions")
    return answer


def regions_of(stored: Mapping[str, Any], service: str, environment: str) -> list[str]:
    """The regions a stored revision runs in one environment; an error if it has none there."""
    by_region = stored["definitions"].get(environment)
    if not by_region:
        raise InvalidInput(
            f"revision {stored.get('number')} of {service} has nothing for {environment} "
            "(the inventory does not allow that environment, or the revision predates it)"
        )
    return sorted(by_region)


@dataclass(frozen=True)
class Deployed:
    """What an environment runs now: its definitions and the revision's artifact digest."""

    definitions: list[RegionalDefinition]
    artifact: str | None


def deployed(cp: ControlPlane, service: str, environment: str) -> Deployed | None:
    """What ``environment`` runs now (secrets as digests); ``None`` when never deployed."""
    now = current(cp, service, environment)
    if now is None:
        return None
    stored = revision(cp, service, now.revision)
    by_region = stored["definitions"].get(environment) or {}
    try:
        definitions = State.model_validate(
            {"definitions": [by_region[r] for r in sorted(by_region)]}
        ).definitions
    except pydantic.ValidationError as exc:
        raise ProtocolError(
            f"revision {now.revision} of {service} holds definitions this client cannot read "
            f"({exc.error_count()} errors); is the CLI older than the control plane?"
        ) from exc
    artifact = stored.get("artifact")
    return Deployed(definitions, artifact if isinstance(artifact, str) else None)

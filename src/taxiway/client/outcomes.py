"""What became of a service's revisions, and where a rollback goes, as the control plane says.

The control plane records each revision's outcome per environment from the satellites'
reports (ready everywhere, failed where and why, rolled back, in progress);
:func:`fetch` reads them for ``taxiway revisions`` and :func:`rollback_choice` asks which
revision ``taxiway rollback`` returns to (the control plane refuses one that never became
ready there, unless forced).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from taxiway.client.http import ControlPlane
from taxiway.errors import ProtocolError


@dataclass(frozen=True)
class Skipped:
    revision: int
    state: str
    summary: str


@dataclass(frozen=True)
class RollbackChoice:
    current: int
    revision: int
    reason: str
    skipped: tuple[Skipped, ...] = ()


def rollback_choice(
    cp: ControlPlane, service: str, environment: str, to: int | None, force: bool
) -> RollbackChoice:
    """The revision a rollback of ``environment`` returns to (nothing is changed by asking)."""
    path = f"/v1/services/{service}/environments/{environment}/rollback-target"
    answer = cp.get(path, to=to, force="true" if force else None)
    if not isinstance(answer, dict) or not isinstance(answer.get("revision"), int):
        raise ProtocolError(f"GET {path} answered no revision")
    skipped = tuple(
        Skipped(int(s.get("revision") or 0), str(s.get("state") or ""), str(s.get("summary") or ""))
        for s in answer.get("skipped") or []
        if isinstance(s, dict)
    )
    return RollbackChoice(
        int(answer.get("current") or 0), answer["revision"], str(answer.get("reason") or ""), skipped
    )


def fetch(cp: ControlPlane, service: str) -> dict[int, dict[str, dict[str, Any]]]:
    """Each revision's outcome documents by environment (only where it was deployed)."""
    path = f"/v1/services/{service}/outcomes"
    answer = cp.get(path)
    if not isinstance(answer, list):
        raise ProtocolError(f"GET {path} answered no list")
    found: dict[int, dict[str, dict[str, Any]]] = {}
    for item in answer:
        if isinstance(item, dict) and isinstance(item.get("revision"), int):
            found.setdefault(item["revision"], {})[str(item.get("environment"))] = item
    return found

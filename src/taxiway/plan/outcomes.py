"""What became of each revision in each environment, and which one a rollback returns to. Pure.

The store records the facts as they happen (:mod:`taxiway.store.outcome_rows`): each time
an environment is pointed at a revision and when it leaves it (for an older revision: a
rollback), and per region the latest verdict of that region's status reports on the
revision (``progressing``, ``ready``, ``failed`` with the satellite's message) with when it
first became ready. :func:`summarise` turns those facts into one :class:`Outcome`;
:func:`rollback_target` chooses from the outcomes, so ``taxiway rollback`` never lands on
a revision that failed or never ran in that environment.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from taxiway.errors import InvalidInput

State = Literal["in_progress", "ready", "failed", "rolled_back", "superseded"]
LABELS: dict[str, str] = {
    "in_progress": "in progress",
    "ready": "ready",
    "failed": "failed",
    "rolled_back": "rolled back",
    "superseded": "superseded",
}


@dataclass(frozen=True)
class Deployment:
    """An environment pointed at a revision: when, by whom, and when it left it."""

    service: str
    environment: str
    revision: int
    deployed_at: datetime.datetime
    deployed_by: str
    left_at: datetime.datetime | None = None
    left_for: int | None = None
    rolled_back: bool = False


@dataclass(frozen=True)
class RegionVerdict:
    """The latest word of one region's reports on one revision."""

    region: str
    state: str
    """``progressing``, ``ready`` or ``failed`` (the report's phase)."""
    message: str
    ready_at: datetime.datetime | None
    """When the region first reported the revision ready (kept when it later fails)."""
    updated_at: datetime.datetime


@dataclass(frozen=True)
class Outcome:
    service: str
    environment: str
    revision: int
    state: State
    current: bool
    regions: tuple[str, ...]
    """Where the revision runs in this environment."""
    verdicts: tuple[RegionVerdict, ...]
    deployment: Deployment

    @property
    def ready_at(self) -> datetime.datetime | None:
        """When it had become ready in every one of its regions; None if it never did."""
        by_region = {v.region: v.ready_at for v in self.verdicts}
        times = [by_region.get(region) for region in self.regions]
        if not times or any(t is None for t in times):
            return None
        return max(t for t in times if t is not None)

    @property
    def became_ready(self) -> bool:
        return self.ready_at is not None

    @property
    def failed_regions(self) -> tuple[RegionVerdict, ...]:
        return tuple(v for v in self.verdicts if v.state == "failed" and v.region in self.regions)

    def describe(self) -> str:
        """One line for people: what became of it, and where and why when it failed."""
        ready = sum(1 for v in self.verdicts if v.state == "ready" and v.region in self.regions)
        if self.state == "failed":
            text = "failed in " + "; ".join(f"{v.region}: {v.message}" for v in self.failed_regions)
        elif self.state == "ready":
            text = f"ready in {len(self.regions)} region{'s' if len(self.regions) != 1 else ''}"
        elif self.state == "in_progress":
            text = f"in progress: {ready}/{len(self.regions)} regions ready"
        elif self.state == "rolled_back":
            text = f"rolled back to revision {self.deployment.left_for}"
            if self.failed_regions:
                text += "; it had failed in " + "; ".join(
                    f"{v.region}: {v.message}" for v in self.failed_regions
                )
        else:
            text = f"superseded by revision {self.deployment.left_for} before it was ready everywhere"
        if self.state in ("failed", "rolled_back", "superseded") and self.became_ready:
            text += " (it had been ready everywhere)"
        return text

    def to_json(self) -> dict[str, Any]:
        ready_at = self.ready_at
        d = self.deployment
        return {
            "revision": self.revision,
            "environment": self.environment,
            "state": self.state,
            "current": self.current,
            "summary": self.describe(),
            "became_ready": ready_at is not None,
            "ready_at": ready_at.isoformat() if ready_at else None,
            "deployed_at": d.deployed_at.isoformat(),
            "deployed_by": d.deployed_by,
            "left_at": d.left_at.isoformat() if d.left_at else None,
            "left_for": d.left_for,
            "regions": {
                region: _verdict_json(next((v for v in self.verdicts if v.region == region), None))
                for region in self.regions
            },
        }


def _verdict_json(verdict: RegionVerdict | None) -> dict[str, Any]:
    if verdict is None:
        return {"state": "waiting", "message": "no report yet", "ready_at": None}
    return {
        "state": verdict.state,
        "message": verdict.message,
        "ready_at": verdict.ready_at.isoformat() if verdict.ready_at else None,
    }


def summarise(
    deployment: Deployment,
    regions: Sequence[str],
    verdicts: Sequence[RegionVerdict],
    current_revision: int | None,
) -> Outcome:
    """The outcome of ``deployment``'s revision in its environment.

    The current revision is ``failed`` when a region reports it failed, ``ready`` when
    every region reports it ready, and ``in_progress`` otherwise. One the environment
    left is ``rolled_back`` (it left for an older revision), ``failed``, ``ready`` (it
    had become ready everywhere) or ``superseded`` (replaced before it was ready).
    """
    wanted = tuple(sorted(regions))
    mine = tuple(sorted((v for v in verdicts if v.region in wanted), key=lambda v: v.region))
    current = current_revision == deployment.revision
    failed = any(v.state == "failed" for v in mine)
    ready_now = bool(wanted) and all(
        any(v.region == region and v.state == "ready" for v in mine) for region in wanted
    )
    draft = Outcome(
        deployment.service,
        deployment.environment,
        deployment.revision,
        "in_progress",
        current,
        wanted,
        mine,
        deployment,
    )
    state: State
    if current:
        state = "failed" if failed else "ready" if ready_now else "in_progress"
    elif deployment.rolled_back:
        state = "rolled_back"
    elif failed:
        state = "failed"
    elif draft.became_ready:
        state = "ready"
    else:
        state = "superseded"
    return Outcome(
        deployment.service,
        deployment.environment,
        deployment.revision,
        state,
        current,
        wanted,
        mine,
        deployment,
    )


@dataclass(frozen=True)
class Choice:
    """The revision a rollback returns to, and why."""

    revision: int
    reason: str
    skipped: tuple[Outcome, ...] = ()
    """Newer revisions passed over on the way (failed, rolled back, never ready)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "reason": self.reason,
            "skipped": [
                {"revision": o.revision, "state": o.state, "summary": o.describe()} for o in self.skipped
            ],
        }


def rollback_target(
    outcomes: Sequence[Outcome],
    environment: str,
    current: int,
    *,
    to: int | None = None,
    force: bool = False,
    known: Sequence[int] = (),
) -> Choice:
    """Where ``rollback`` goes from ``current`` in ``environment``.

    Without ``to``: the newest revision older than ``current`` that became ready in every
    one of its regions of ``environment`` and that nobody rolled back from. With ``to``:
    that revision, refused (:class:`InvalidInput`) when it never became ready there unless
    ``force``. ``known`` lists every revision number of the service (to tell "never
    deployed here" from "no such revision").
    """
    mine = {o.revision: o for o in outcomes if o.environment == environment}
    if to is not None:
        return _explicit(mine, environment, to, force, known)
    older = sorted((o for o in mine.values() if o.revision < current), key=lambda o: -o.revision)
    skipped: list[Outcome] = []
    for outcome in older:
        if outcome.became_ready and outcome.state != "rolled_back":
            return Choice(
                outcome.revision,
                f"the newest revision before {current} that became ready in {environment}",
                tuple(skipped),
            )
        skipped.append(outcome)
    passed = "; ".join(f"{o.revision}: {o.describe()}" for o in skipped)
    raise InvalidInput(
        f"no revision before {current} became ready in {environment}, so there is nothing safe to roll "
        f"back to{f' (passed over {passed})' if passed else ''}; nothing changed. "
        "Name one with --to N (and --force if it never became ready there)"
    )


def _explicit(
    mine: dict[int, Outcome], environment: str, to: int, force: bool, known: Sequence[int]
) -> Choice:
    if known and to not in known:
        raise InvalidInput(
            f"there is no revision {to}; revisions: {', '.join(str(n) for n in sorted(known))}"
        )
    outcome = mine.get(to)
    if outcome is not None and outcome.became_ready:
        return Choice(to, f"asked for; it became ready in {environment} before")
    why = f"it was never deployed to {environment}" if outcome is None else outcome.describe()
    if not force:
        raise InvalidInput(
            f"revision {to} never became ready in {environment} ({why}); nothing changed. "
            f"Pass --force to roll back to it anyway"
        )
    return Choice(to, f"forced: it never became ready in {environment} ({why})")

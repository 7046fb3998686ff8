"""Which revisions of a service the control plane keeps, and whether a new one fits. Pure.

Revisions are immutable and numbered for ever, and nobody deletes one by hand, so the
control plane bounds what a service stores itself, each time it stores a revision:

- **needed** revisions are never pruned: the one each environment points at, the one
  ``taxiway rollback`` would return to from it, and every one a region still reports
  instances of (the old revision serving while a new one rolls out or after it failed);
- the newest ``keep_newest`` are kept besides;
- the artifacts (uploaded files) of what is kept must fit in ``quota_bytes``: when they do
  not, kept-but-not-needed revisions go first, oldest first; when the needed ones and the
  new revision alone do not fit, the new revision is refused (:class:`QuotaExceeded`) and
  nothing is stored.

A pruned revision keeps its number and row (history, outcomes and audit still name it)
but loses its definitions, and its artifact goes once no kept revision of any service
uses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from taxiway.errors import InvalidInput, QuotaExceeded
from taxiway.plan import outcomes
from taxiway.plan.sizes import shown_bytes

DEFAULT_KEEP_NEWEST = 20
DEFAULT_QUOTA_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class Policy:
    keep_newest: int = DEFAULT_KEEP_NEWEST
    """Revisions kept besides the needed ones (the newest, counting the one being stored)."""
    quota_bytes: int = DEFAULT_QUOTA_BYTES
    """Bytes of artifacts a service may keep (each distinct artifact counted once)."""

    def __post_init__(self) -> None:
        if self.keep_newest < 1:
            raise InvalidInput(f"keep {self.keep_newest} revisions: expected at least 1")
        if self.quota_bytes < 1:
            raise InvalidInput(f"artifact quota {self.quota_bytes} bytes: expected at least 1")


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class Stored:
    """One revision as retention sees it."""

    number: int
    artifact: str | None = None
    size: int = 0
    """Bytes of its artifact (0 without one)."""


@dataclass(frozen=True)
class Decision:
    kept: Mapping[int, str]
    """Revision number → why it is kept."""
    pruned: tuple[int, ...] = ()
    stored_bytes: int = 0
    """Bytes of artifacts of the kept revisions."""


def needed(
    pointed: Mapping[str, int], history: Sequence[outcomes.Outcome], running: Mapping[int, str]
) -> dict[int, str]:
    """The revisions that must stay, each with why: what each environment points at, its
    rollback target, and what regions still run (``running``: number → where)."""
    reasons: dict[int, list[str]] = {}
    for environment, current in sorted(pointed.items()):
        reasons.setdefault(current, []).append(f"{environment} runs it")
        try:
            target = outcomes.rollback_target(history, environment, current)
        except InvalidInput:
            continue
        reasons.setdefault(target.revision, []).append(f"{environment}'s rollback target")
    for number, where in running.items():
        if number not in pointed.values():
            reasons.setdefault(number, []).append(f"still running in {where}")
    return {number: "; ".join(why) for number, why in reasons.items()}


def artifact_bytes(revisions: Iterable[Stored]) -> int:
    """Bytes of the distinct artifacts of ``revisions``."""
    return sum({r.artifact: r.size for r in revisions if r.artifact is not None}.values())


def decide(
    service: str,
    stored: Sequence[Stored],
    incoming: Stored | None,
    must_keep: Mapping[int, str],
    policy: Policy,
) -> Decision:
    """What to keep and prune of ``stored`` (the service's unpruned revisions) once
    ``incoming`` is stored; :class:`QuotaExceeded` when ``incoming`` cannot fit."""
    every = sorted([*stored, *([incoming] if incoming else [])], key=lambda r: r.number)
    newest = {r.number for r in every[-policy.keep_newest :]}
    protected = {r.number for r in every if r.number in must_keep}
    if incoming is not None:
        protected.add(incoming.number)
    kept = [r for r in every if r.number in newest or r.number in protected]
    optional = [r for r in kept if r.number not in protected]
    while artifact_bytes(kept) > policy.quota_bytes and optional:
        dropped = optional.pop(0)
        kept = [r for r in kept if r.number != dropped.number]
    total = artifact_bytes(kept)
    if total > policy.quota_bytes and incoming is not None:
        raise _over_quota(service, incoming, kept, must_keep, total, policy)
    reasons = {
        r.number: must_keep.get(r.number)
        or ("the revision being stored" if incoming and r.number == incoming.number else "among the newest")
        for r in kept
    }
    kept_numbers = set(reasons)
    return Decision(
        kept=reasons,
        pruned=tuple(r.number for r in every if r.number not in kept_numbers),
        stored_bytes=total,
    )


def _over_quota(
    service: str,
    incoming: Stored,
    kept: Sequence[Stored],
    must_keep: Mapping[int, str],
    total: int,
    policy: Policy,
) -> QuotaExceeded:
    held = [r for r in kept if r.number != incoming.number and r.size]
    listed = "; ".join(f"revision {r.number} ({shown_bytes(r.size)}: {must_keep[r.number]})" for r in held)
    return QuotaExceeded(
        f"{service}: storing this revision's artifact ({shown_bytes(incoming.size)}) would keep "
        f"{shown_bytes(total)} of artifacts, over the service's quota of {shown_bytes(policy.quota_bytes)}"
        + (f"; what must stay: {listed}" if listed else "")
        + ". Nothing was stored. Ship a smaller artifact (dependencies the machine provides need not be "
        "in it), or ask an admin to raise `taxiway server --artifact-quota`"
    )

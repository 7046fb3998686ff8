"""Restart decisions for one instance: exponential backoff, capped, as pure functions.

No I/O; the clock is an argument, so tests run on virtual time. The executor is
:class:`taxiway.runtime.supervisor.Supervisor`: each tick it observes every desired
instance, calls :func:`decide`, and carries out the actions.

The policy, in the words of a service owner: a crashed instance (or one whose liveness or
startup probe gave up) is restarted after ``initial_seconds``, then twice as long after
each further failure, never waiting more than ``max_seconds``; once an instance has stayed
up and healthy for ``reset_after_seconds`` its failures are forgotten. The first start of
an instance never waits.

An instance that has never been ready gets ``give_up_after`` starts: after that many
failures in a row it is left stopped (its logs kept) instead of crash-looping beside the
revision that serves, until its spec changes. One that has served is always restarted:
a region never gives up on what its users were reaching.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class BackoffPolicy:
    initial_seconds: float = 1.0
    factor: float = 2.0
    max_seconds: float = 60.0
    reset_after_seconds: float = 120.0
    give_up_after: int = 5
    """Failed starts in a row after which an instance that never became ready stays stopped."""


def next_restart(now: float, failures: int, policy: BackoffPolicy) -> float:
    """When to restart after the ``failures``-th failure in a row (``0``: at once)."""
    if failures <= 0:
        return now
    delay = policy.initial_seconds * policy.factor ** min(failures - 1, 64)
    return now + min(delay, policy.max_seconds)


@dataclass(frozen=True)
class Track:
    """What the supervisor remembers about one instance between ticks."""

    failures: int = 0
    restart_at: float | None = None
    """Set while a failed instance waits for its restart."""
    up_since: float | None = None
    """When the current process was first seen running and healthy."""
    last_reason: str | None = None
    served: bool = False
    """It has been ready at least once since its spec was ensured."""
    gave_up: bool = False
    """Left stopped after ``give_up_after`` failed starts (see the module docstring)."""


@dataclass(frozen=True)
class Observation:
    """One desired instance as the driver reports it this tick."""

    present: bool
    running: bool = False
    healthy: bool = True
    """``False`` when probes say it must be restarted (ignored unless running)."""
    current: bool = True
    """The running instance was started from the desired spec (digests match)."""
    reason: str | None = None
    ready: bool = False
    """The driver's readiness verdict (only for a running, current instance)."""


@dataclass(frozen=True)
class Start:
    instance_id: str
    restart: bool


@dataclass(frozen=True)
class Kill:
    """Stop the process but keep the instance (its logs and restart count): a restart follows."""

    instance_id: str
    reason: str


@dataclass(frozen=True)
class Replace:
    """Stop the running process and start the desired spec at once (not a failure)."""

    instance_id: str


Action = Start | Kill | Replace


def failed(track: Track, now: float, policy: BackoffPolicy, reason: str | None) -> Track:
    """Count one more failure and schedule the restart."""
    failures = track.failures + 1
    return Track(
        failures=failures,
        restart_at=next_restart(now, failures, policy),
        last_reason=reason,
        served=track.served,
    )


def _give_up(track: Track, policy: BackoffPolicy) -> bool:
    return not track.served and track.failures >= policy.give_up_after


def decide(
    instance_id: str, seen: Observation, track: Track, now: float, policy: BackoffPolicy
) -> tuple[list[Action], Track]:
    """What to do about one desired instance now, and what to remember for next time."""
    if track.gave_up:
        return [], track
    if seen.running and seen.current and seen.ready and not track.served:
        track = replace(track, served=True)
    if not seen.present:
        if _give_up(track, policy):
            return [], replace(track, gave_up=True, restart_at=None)
        if track.restart_at is not None and now < track.restart_at:
            return [], track
        return [Start(instance_id, restart=False)], replace(track, restart_at=None, up_since=None)
    if seen.running and not seen.current:
        return [Replace(instance_id)], replace(track, restart_at=None, up_since=None)
    if seen.running and not seen.healthy:
        return [Kill(instance_id, seen.reason or "unhealthy")], failed(track, now, policy, seen.reason)
    if not seen.running:
        if track.restart_at is None:  # a crash we have not counted yet
            track = failed(track, now, policy, seen.reason)
        if _give_up(track, policy):
            return [], replace(track, gave_up=True, restart_at=None)
        if track.restart_at is not None and now < track.restart_at:
            return [], track
        return [Start(instance_id, restart=True)], replace(track, restart_at=None, up_since=None)
    if track.up_since is None:
        return [], replace(track, up_since=now)
    if track.failures and now - track.up_since >= policy.reset_after_seconds:
        return [], replace(track, failures=0, last_reason=None)
    return [], track

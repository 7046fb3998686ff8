"""Probe verdicts from probe results: startup, then readiness and liveness, thresholds as data.

Pure: no I/O, the clock is an argument. A driver that runs probes itself (``local``) keeps
one :class:`HealthState` per instance, asks :func:`due` which probes to run now, runs them
(:mod:`taxiway.runtime.probes`) and folds each result in with :func:`record`.

The semantics follow Kubernetes, which service owners already know:

- Only the startup probe runs until it has passed ``success_threshold`` times in a row;
  ``failure_threshold`` failures in a row before that mean the instance must be restarted.
- After startup, readiness starts *not ready* and turns ready after ``success_threshold``
  successes in a row, unready again after ``failure_threshold`` failures in a row.
- Liveness starts *alive* and turns dead after ``failure_threshold`` failures in a row: the
  instance must be restarted.
- ``initial_delay_seconds`` counts from the process start; ``period_seconds`` between probes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from taxiway.spec import manifest

Kind = Literal["startup", "readiness", "liveness"]


@dataclass(frozen=True)
class ProbeTrack:
    """One probe's history: consecutive results and the verdict they add up to."""

    passing: bool
    successes: int = 0
    failures: int = 0
    last_at: float | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class HealthState:
    """Everything known about one instance process's health."""

    started_at: float
    startup: ProbeTrack = ProbeTrack(passing=False)
    readiness: ProbeTrack = ProbeTrack(passing=False)
    liveness: ProbeTrack = ProbeTrack(passing=True)

    @property
    def started(self) -> bool:
        return self.startup.passing

    @property
    def ready(self) -> bool:
        return self.started and self.readiness.passing

    def healthy(self, probes: manifest.Probes) -> bool:
        if not self.started:
            return self.startup.failures < probes.startup.failure_threshold
        return self.liveness.passing

    def reason(self, probes: manifest.Probes) -> str | None:
        """The failing probe and its last error, most important first."""
        if not self.started:
            if self.startup.last_error is None:
                return "startup probe has not passed yet"
            return f"startup probe failed {self.startup.failures}x: {self.startup.last_error}"
        if not self.liveness.passing:
            return f"liveness probe failed {self.liveness.failures}x: {self.liveness.last_error}"
        if not self.readiness.passing:
            detail = self.readiness.last_error or "not yet probed"
            return f"readiness probe not passing: {detail}"
        return None


def _track(state: HealthState, kind: Kind) -> ProbeTrack:
    track: ProbeTrack = getattr(state, kind)
    return track


def _probe(probes: manifest.Probes, kind: Kind) -> manifest.Probe:
    probe: manifest.Probe = getattr(probes, kind)
    return probe


def due(state: HealthState, probes: manifest.Probes, now: float) -> list[Kind]:
    """The probes to run at ``now``: startup alone until it passes, then the other two."""
    kinds: list[Kind] = ["startup"] if not state.started else ["readiness", "liveness"]
    result: list[Kind] = []
    for kind in kinds:
        probe, track = _probe(probes, kind), _track(state, kind)
        if now < state.started_at + probe.initial_delay_seconds:
            continue
        if track.last_at is None or now >= track.last_at + probe.period_seconds:
            result.append(kind)
    return result


def record(
    state: HealthState, probes: manifest.Probes, kind: Kind, ok: bool, now: float, error: str | None = None
) -> HealthState:
    """Fold one probe result into the state."""
    probe, track = _probe(probes, kind), _track(state, kind)
    if ok:
        successes = track.successes + 1
        passing = track.passing or successes >= probe.success_threshold
        updated = ProbeTrack(passing=passing, successes=successes, failures=0, last_at=now)
    else:
        failures = track.failures + 1
        passing = track.passing and failures < probe.failure_threshold
        updated = ProbeTrack(passing=passing, successes=0, failures=failures, last_at=now, last_error=error)
    if kind == "startup":
        return replace(state, startup=updated)
    if kind == "readiness":
        return replace(state, readiness=updated)
    return replace(state, liveness=updated)

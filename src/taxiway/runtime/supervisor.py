"""The supervisor: keeps a set of desired instances running through a runtime driver.

The thin executor over :mod:`taxiway.plan.region.supervision`. A satellite tells it what must
run (:meth:`Supervisor.ensure`, :meth:`Supervisor.remove`) and calls :meth:`tick`
periodically; each tick observes every desired instance (``list`` plus ``health``), asks
the pure :func:`~taxiway.plan.region.supervision.decide` what to do, and does it. Instances the
driver reports but nobody asked for are left alone and returned as ``unmanaged``: only an
explicit ``remove`` stops an instance (a satellite removes one only on an explicit, newer
desired state), so a supervisor that starts with an empty desired set harms nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from taxiway.plan.region import instance_spec, supervision
from taxiway.runtime import driver

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TickReport:
    actions: list[supervision.Action] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    """Instance id → what went wrong carrying out its action (retried next tick)."""
    unmanaged: list[str] = field(default_factory=list)


class Supervisor:
    def __init__(
        self,
        runtime: driver.RuntimeDriver,
        policy: supervision.BackoffPolicy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._runtime = runtime
        self._policy = policy
        self._clock = clock
        self._desired: dict[str, instance_spec.InstanceSpec] = {}
        self._tracks: dict[str, supervision.Track] = {}

    def ensure(self, spec: instance_spec.InstanceSpec) -> None:
        """Keep ``spec`` running from the next tick on (replacing an older spec of the id);
        a new spec gets a fresh count of failed starts."""
        before = self._desired.get(spec.instance_id)
        if before is not None and before is not spec and before.digest() != spec.digest():
            self._tracks.pop(spec.instance_id, None)
        self._desired[spec.instance_id] = spec

    def remove(self, instance_id: str, *, grace_seconds: float | None = None) -> None:
        """Stop supervising and stop the instance for good."""
        self._desired.pop(instance_id, None)
        self._tracks.pop(instance_id, None)
        self._runtime.stop(instance_id, grace_seconds=grace_seconds, forget=True)

    def track(self, instance_id: str) -> supervision.Track:
        return self._tracks.get(instance_id, supervision.Track())

    def tick(self) -> TickReport:
        report = TickReport()
        observed = {instance.instance_id: instance for instance in self._runtime.list()}
        report.unmanaged.extend(sorted(set(observed) - set(self._desired)))
        for instance_id, spec in sorted(self._desired.items()):
            try:
                self._one(instance_id, spec, observed.get(instance_id), report)
            except Exception as exc:  # one instance's trouble never stops the others' supervision
                log.exception("supervising %s failed", instance_id)
                report.errors[instance_id] = f"{type(exc).__name__}: {exc}"
        return report

    def _one(
        self,
        instance_id: str,
        spec: instance_spec.InstanceSpec,
        instance: instance_spec.Instance | None,
        report: TickReport,
    ) -> None:
        seen = self._observe(spec, instance)
        now = self._clock()
        actions, track = supervision.decide(instance_id, seen, self.track(instance_id), now, self._policy)
        for action in actions:
            report.actions.append(action)
            try:
                self._act(action, spec)
            except driver.RuntimeFailure as exc:
                report.errors[instance_id] = str(exc)
                track = supervision.failed(track, self._clock(), self._policy, str(exc))
        self._tracks[instance_id] = track

    def _observe(
        self, spec: instance_spec.InstanceSpec, instance: instance_spec.Instance | None
    ) -> supervision.Observation:
        if instance is None:
            return supervision.Observation(present=False)
        if instance.state is not instance_spec.InstanceState.RUNNING:
            status = "unknown" if instance.exit_code is None else str(instance.exit_code)
            return supervision.Observation(present=True, running=False, reason=f"exited with status {status}")
        if instance.spec_digest != spec.digest():
            return supervision.Observation(present=True, running=True, current=False)
        try:
            verdict = self._runtime.health(spec.instance_id)
        except driver.RuntimeFailure as exc:  # it vanished between list() and now
            return supervision.Observation(present=True, running=False, reason=str(exc))
        return supervision.Observation(
            present=True, running=True, healthy=verdict.healthy, reason=verdict.reason, ready=instance.ready
        )

    def _act(self, action: supervision.Action, spec: instance_spec.InstanceSpec) -> None:
        match action:
            case supervision.Start():
                self._runtime.start(spec)
            case supervision.Kill():
                self._runtime.stop(action.instance_id, forget=False)
            case supervision.Replace():
                self._runtime.stop(action.instance_id, forget=False)
                self._runtime.start(spec)

"""The thin executor of :func:`taxiway.plan.region.reconcile.plan`: it runs the satellite's tick.

One :meth:`Executor.step` is one tick of the region, always in this order (written here
once; the modules it calls point back to it):

1. **plan** — observe the driver, then :func:`~taxiway.plan.region.reconcile.plan` what
   to run and what to stop, against the desired state and what it handed over before
   (``managed``: the supervisor keeps its desired set to itself, and the plan must count
   instances that are wanted but not started). Equal inputs reuse the last plan.
2. **rotation** — with an ingress, the :class:`~taxiway.satellite.rotation.Gate`
   converges it: the ready instances in, the ones the plan stops
   (:func:`~taxiway.satellite.rotation.leaving`) drained; it answers who is still a
   server of the ingress.
3. **holds** — :meth:`Executor.act`: a removal (or replacement, for an instance moved off
   a failed node) of an instance the ingress still holds is *held* — the gate drains it
   meanwhile — and carried out on the first tick after the gate removed it; a hold never
   outlasts ``hold_limit`` seconds (an ingress that cannot be read must not keep a
   removal from happening forever). Without an ingress removals are immediate. The rest
   of the plan goes to the :class:`~taxiway.runtime.supervisor.Supervisor`: ``remove``
   for each removal carried out, ``ensure`` for each spec to keep running.
4. **supervisor** — one :meth:`~taxiway.runtime.supervisor.Supervisor.tick`: start what
   is missing, restart what crashed after its backoff, replace what runs an outdated spec.

Stopping an instance thus takes two phases over several ticks with an ingress. No store,
no clock of its own, no network: the reconcile loop
(:mod:`taxiway.satellite.reconcile_loop`) wraps it, and the unit tests drive it with the
in-memory driver (and an in-memory ingress) on virtual time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from taxiway.plan import placement
from taxiway.plan.region import instance_spec, reconcile, supervision
from taxiway.runtime import driver, supervisor
from taxiway.satellite import rotation
from taxiway.spec import topology

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    plan: reconcile.Plan
    tick: supervisor.TickReport
    observed: tuple[instance_spec.Instance, ...]
    """What the driver lists after the step's actions."""
    rotation: rotation.Seen | None = None
    """What the ingress holds after the step; ``None`` without an ingress."""


class Executor:
    def __init__(
        self,
        runtime: driver.RuntimeDriver,
        policy: supervision.BackoffPolicy,
        clock: Callable[[], float],
        gate: rotation.Gate | None = None,
        hold_limit: float = 60.0,
    ) -> None:
        self._runtime = runtime
        self._clock = clock
        self._gate = gate
        self._hold_limit = hold_limit
        self._held: dict[str, float] = {}
        """Instance id -> when its stop was first held for the ingress."""
        self.supervisor = supervisor.Supervisor(runtime, policy, clock)
        self._managed: dict[str, instance_spec.InstanceSpec] = {}
        self._templates: dict[reconcile.Key, tuple[reconcile.Desired, reconcile.MemoSpec | str]] = {}
        self._last: tuple[tuple[Any, ...], reconcile.Plan] | None = None
        """The last plan and its inputs: the plan is pure, so equal inputs give it again."""
        self._serving: frozenset[str] | None = None
        """Who the ingress took traffic to at the last step (``None``: no ingress, or unread)."""

    @property
    def managed(self) -> Mapping[str, instance_spec.InstanceSpec]:
        return self._managed

    def step(
        self,
        desired: Mapping[reconcile.Key, reconcile.Desired],
        region: topology.Region,
        failed_nodes: Collection[placement.NodeRef] = frozenset(),
    ) -> Step:
        observed = self._runtime.list()
        serving = self._serving
        managed = dict(self._managed)
        inputs = (dict(desired), tuple(observed), managed, region, frozenset(failed_nodes), serving)
        if self._last is not None and self._last[0] == inputs:
            plan = self._last[1]  # a quiet tick: nothing the plan depends on changed
        else:
            plan = reconcile.plan(
                desired, observed, self._managed, region, failed_nodes, self._templates, serving
            )
            self._last = (inputs, plan)
            self._templates.update(plan.templates)
            for gone in set(self._templates) - set(desired):
                del self._templates[gone]
        seen: rotation.Seen | None = None
        going = frozenset[str]()
        if self._gate is not None:
            going = rotation.leaving(plan, observed)
            seen = self._gate.converge(desired, observed, going, self._clock())
            self._serving = seen.serving if seen.known else None
        changed = self.act(plan, seen, going)
        tick = self.supervisor.tick()
        for action in tick.actions:
            _log_action(action)
        for instance_id, problem in sorted(tick.errors.items()):
            log.warning("%s: %s", instance_id, problem)
        if changed or tick.actions:
            observed = self._runtime.list()
        return Step(plan, tick, tuple(observed), seen)

    def act(
        self,
        plan: reconcile.Plan,
        seen: rotation.Seen | None = None,
        going: frozenset[str] = frozenset(),
    ) -> bool:
        """Hand ``plan`` to the supervisor; answers whether anything changed.

        ``going`` are the ids the plan stops (:func:`taxiway.satellite.rotation.leaving`)
        and ``seen`` what the ingress still holds: a stop of one it holds waits.
        """
        now = self._clock()
        for forgotten in set(self._held) - going:
            del self._held[forgotten]
        changed = False
        for removal in plan.remove:
            if not self._may_stop(removal.instance_id, removal.reason, seen, now):
                continue
            log.info("removing %s: %s", removal.instance_id, removal.reason)
            self._managed.pop(removal.instance_id, None)
            try:
                self.supervisor.remove(removal.instance_id)
            except driver.RuntimeFailure as exc:
                log.warning("%s: could not stop it (%s); trying again next tick", removal.instance_id, exc)
            changed = True
        moved = frozenset(plan.moved)
        for spec in plan.ensure:
            if self._managed.get(spec.instance_id) != spec:
                if spec.instance_id in going and not self._may_stop(
                    spec.instance_id, f"moving it to {spec.datacenter}/{spec.node}", seen, now
                ):
                    continue
                if spec.instance_id in moved:
                    log.info(
                        "moving %s off a failed node, to %s/%s", spec.instance_id, spec.datacenter, spec.node
                    )
                self._managed[spec.instance_id] = spec
                self.supervisor.ensure(spec)
                changed = True
        return changed

    def _may_stop(self, instance_id: str, why: str, seen: rotation.Seen | None, now: float) -> bool:
        """Whether the instance may be stopped now: the ingress does not hold it (any more)."""
        if seen is None or (seen.known and instance_id not in seen.present):
            self._held.pop(instance_id, None)
            return True
        since = self._held.get(instance_id)
        if since is None:
            self._held[instance_id] = now
            log.info("draining %s from the ingress before stopping it: %s", instance_id, why)
            return False
        if now - since >= self._hold_limit:
            log.warning(
                "stopping %s although the ingress did not confirm it left rotation within %.0fs",
                instance_id,
                self._hold_limit,
            )
            self._held.pop(instance_id, None)
            return True
        return False


def _log_action(action: supervision.Action) -> None:
    match action:
        case supervision.Start(restart=False):
            log.info("started %s", action.instance_id)
        case supervision.Start(restart=True):
            log.info("restarted %s", action.instance_id)
        case supervision.Kill():
            log.warning("stopping %s to restart it: %s", action.instance_id, action.reason)
        case supervision.Replace():
            log.info("replaced %s with its new spec", action.instance_id)

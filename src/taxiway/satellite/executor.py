"""The thin executor of :func:`taxiway.satellite.reconcile.plan`: plan, act, supervise.

One :meth:`Executor.step` observes the driver, plans against the desired state, hands the
removals and the specs to keep running to the
:class:`~taxiway.runtime.supervisor.Supervisor`, and lets it tick once (start what is
missing, restart what crashed after its backoff, replace what runs an outdated spec).
It remembers which specs it handed over (``managed``), because the supervisor keeps its
desired set to itself and the plan must count instances that are wanted but not started.

No store, no clock of its own, no network: the reconciler loop wraps it, and the unit
tests drive it with the in-memory driver on virtual time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from taxiway.plan import placement
from taxiway.runtime import driver, supervision, supervisor
from taxiway.satellite import reconcile
from taxiway.spec import topology

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    plan: reconcile.Plan
    tick: supervisor.TickReport
    observed: tuple[driver.Instance, ...]
    """What the driver lists after the step's actions."""


class Executor:
    def __init__(
        self,
        runtime: driver.RuntimeDriver,
        policy: supervision.BackoffPolicy,
        clock: Callable[[], float],
    ) -> None:
        self._runtime = runtime
        self.supervisor = supervisor.Supervisor(runtime, policy, clock)
        self._managed: dict[str, driver.InstanceSpec] = {}
        self._templates: dict[reconcile.Key, tuple[reconcile.Desired, reconcile.MemoSpec | str]] = {}
        self._last: tuple[tuple[Any, ...], reconcile.Plan] | None = None
        """The last plan and its inputs: the plan is pure, so equal inputs give it again."""

    @property
    def managed(self) -> Mapping[str, driver.InstanceSpec]:
        return self._managed

    def step(
        self,
        desired: Mapping[reconcile.Key, reconcile.Desired],
        region: topology.Region,
        failed_nodes: Collection[placement.NodeRef] = frozenset(),
    ) -> Step:
        observed = self._runtime.list()
        inputs = (dict(desired), tuple(observed), dict(self._managed), region, frozenset(failed_nodes))
        if self._last is not None and self._last[0] == inputs:
            plan = self._last[1]  # a quiet tick: nothing the plan depends on changed
        else:
            plan = reconcile.plan(desired, observed, self._managed, region, failed_nodes, self._templates)
            self._last = (inputs, plan)
            for gone in set(self._templates) - set(desired):
                del self._templates[gone]
        changed = self.act(plan)
        tick = self.supervisor.tick()
        for action in tick.actions:
            _log_action(action)
        for instance_id, problem in sorted(tick.errors.items()):
            log.warning("%s: %s", instance_id, problem)
        if changed or tick.actions:
            observed = self._runtime.list()
        return Step(plan, tick, tuple(observed))

    def act(self, plan: reconcile.Plan) -> bool:
        """Hand ``plan`` to the supervisor; answers whether anything changed."""
        changed = False
        for removal in plan.remove:
            log.info("removing %s: %s", removal.instance_id, removal.reason)
            self._managed.pop(removal.instance_id, None)
            try:
                self.supervisor.remove(removal.instance_id)
            except driver.RuntimeFailure as exc:
                log.warning("%s: could not stop it (%s); trying again next tick", removal.instance_id, exc)
            changed = True
        for moved in plan.moved:
            log.info("moving %s off a failed node", moved)
        for spec in plan.ensure:
            if self._managed.get(spec.instance_id) != spec:
                self._managed[spec.instance_id] = spec
                self.supervisor.ensure(spec)
                changed = True
        return changed


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

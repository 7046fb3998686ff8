"""The reconciler: the satellite's loop that keeps its region's instances converged.

It runs in a thread of its own, every ``tick_seconds`` and at once when the puller wrote
something new, whatever the control plane does: it reads the desired state from the
local store (only the entries that changed), has the :mod:`~taxiway.satellite.executor`
run one tick of the region (plan, rotation, holds, supervisor: the order is written
there), and builds the status reports (:mod:`taxiway.plan.region.status_report`) that the
status sender PUTs.

A step that fails (a driver error, a bug) is logged and tried again on the next tick;
the loop itself never stops while the satellite runs.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from taxiway.observability import satellite_metrics
from taxiway.plan import regional
from taxiway.plan.region import instance_spec, reconcile, status_report, supervision
from taxiway.runtime import driver, supervisor
from taxiway.satellite import artifacts, desired, executor, localstore, log_excerpt, rotation
from taxiway.satellite.settings import SatelliteSettings
from taxiway.spec import topology

log = logging.getLogger(__name__)
HOLD_SLACK_SECONDS = 10.0
COLLECT_SECONDS = 60.0
"""How often unused artifacts are looked for (a directory listing and a stat each)."""
"""How much longer than a drain's grace a stop waits for an ingress that does not answer."""


@dataclass(frozen=True)
class Snapshot:
    """What one step saw and decided, for the reporter and the satellite's API."""

    cursor: int
    reports: list[dict[str, Any]]
    """Without ``observed_at``: :func:`taxiway.plan.region.status_report.stamped` adds it when sent."""
    fingerprint: tuple[str, ...]
    """What the reports say; equal fingerprints need no early status PUT."""
    instances: tuple[instance_spec.Instance, ...]
    observed_at: str


def _utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


class Reconciler:
    def __init__(
        self,
        settings: SatelliteSettings,
        region: topology.Region,
        runtime: driver.RuntimeDriver,
        store: localstore.LocalStore,
        cache: artifacts.ArtifactCache,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], str] = _utc_now,
        gate: rotation.Gate | None = None,
        metrics: satellite_metrics.SatelliteMetrics | None = None,
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._region = region
        self._runtime = runtime
        self._store = store
        self._cache = cache
        self._clock = clock
        self._now = now
        policy = supervision.BackoffPolicy(initial_seconds=settings.backoff_initial_seconds)
        self.executor = executor.Executor(
            runtime, policy, clock, gate, hold_limit=settings.drain_grace_seconds + HOLD_SLACK_SECONDS
        )
        self._entries: dict[reconcile.Key, localstore.Entry] = {}
        self._parsed: dict[reconcile.Key, regional.RegionalDefinition | str | None] = {}
        self._desired: dict[reconcile.Key, reconcile.Desired] = {}
        self._cursor = 0
        self._next_collection = float("-inf")
        self._lock = threading.Lock()
        self._pending: set[reconcile.Key] = set()
        self._pending_all = True
        self._dirty = True
        self._wake = threading.Event()
        self._reports = status_report.ReportBuilder(settings.instance_host)

    # -- being told about changes ------------------------------------------------------

    def request_reload(self, keys: Iterable[reconcile.Key] | None = None) -> None:
        """Re-read ``keys`` (``None``: everything) from the store before the next step, now.

        With no keys, only the cursor is re-read and the service directories looked up
        again (an artifact arrived).
        """
        with self._lock:
            self._dirty = True
            if keys is None:
                self._pending_all = True
            else:
                self._pending.update(keys)
        self._wake.set()

    def _reload(self) -> None:
        with self._lock:
            if not self._dirty:
                return
            everything, keys = self._pending_all, self._pending
            self._pending_all, self._pending, self._dirty = False, set(), False
        self._cursor = self._store.cursor  # read first: the entries are at least this new
        if everything:
            entries = self._store.entries()
            self._entries, self._parsed, self._desired = {}, {}, {}
        else:
            entries = self._store.entries(keys) if keys else []
        for entry in entries:
            self._entries[entry.key] = entry
            self._parsed[entry.key] = (
                None if entry.definition is None else desired.parse(entry, self._region.name)
            )
        # Look again for the service directory of what changed and of what could not run
        # (its artifact may have arrived); what runs keeps its Desired object, so the plan
        # and the reports see the very same inputs and can skip their work.
        again = {entry.key for entry in entries} | {k for k, d in self._desired.items() if not d.runnable}
        if again:
            updated = dict(self._desired)
            for key in again:
                entry = self._entries[key]
                found = desired.resolve(entry, self._parsed[key], self._cache, self._settings.services_root)
                if updated.get(key) != found:
                    updated[key] = found
            self._desired = updated

    def definitions(self) -> list[regional.RegionalDefinition]:
        """The definitions the region runs now. Call it from the reconciler's thread (the
        ``publish`` callback of :meth:`run`), which is the only one that changes them."""
        return [d for d in self._parsed.values() if isinstance(d, regional.RegionalDefinition)]

    # -- one step ------------------------------------------------------------------------

    def step(self) -> Snapshot:
        """Reload what changed, plan, act, supervise one tick, and report."""
        began = self._clock()
        self._reload()
        done = self.executor.step(self._desired, self._region, self._store.failed_nodes)
        self._collect_artifacts(done.observed)
        snapshot = self._snapshot(done.plan, done.observed, done.rotation)
        if self._metrics is not None:
            self._metrics.reconciled(self._clock() - began, self._restarted(done.tick))
        return snapshot

    def _restarted(self, tick: supervisor.TickReport) -> list[tuple[str, str]]:
        """(service, environment) of each instance this tick started again."""
        managed = self.executor.managed
        return [
            (managed[action.instance_id].service, managed[action.instance_id].environment)
            for action in tick.actions
            if isinstance(action, supervision.Start) and action.restart and action.instance_id in managed
        ]

    def _collect_artifacts(self, observed: Sequence[instance_spec.Instance]) -> None:
        """Now and then, delete the artifacts nothing needs any more: not named by a
        definition in the store, not the directory of an instance that runs or is kept."""
        began = self._clock()
        if began < self._next_collection:
            return
        self._next_collection = began + COLLECT_SECONDS
        root = self._cache.root
        keep = {artifacts.hex_of(e.artifact) for e in self._entries.values() if e.artifact}
        directories = [spec.cwd for spec in self.executor.managed.values()] + [i.cwd for i in observed]
        keep |= {d.name for d in directories if d is not None and d.parent == root}
        try:
            deleted = self._cache.collect(keep, time.time())
        except OSError as exc:
            log.warning("cannot collect unused artifacts: %s", exc)
            return
        if deleted:
            log.info("deleted %d unused artifacts: %s", len(deleted), ", ".join(d[:12] for d in deleted))

    def _snapshot(
        self,
        plan: reconcile.Plan,
        observed: Sequence[instance_spec.Instance],
        seen: rotation.Seen | None = None,
    ) -> Snapshot:
        by_id = {instance.instance_id: instance for instance in observed}
        reasons: dict[str, str] = {}
        for key_plan in plan.keys.values():
            for instance_id in key_plan.specs:
                instance = by_id.get(instance_id)
                if instance_id in key_plan.ready or instance is None:
                    continue
                reason = self._reason(instance)
                if reason:
                    reasons[instance_id] = reason
        supervising = self.executor.supervisor
        tracks = {instance_id: supervising.track(instance_id) for instance_id in self.executor.managed}
        reports, fingerprint = self._reports.build(
            self._desired, plan, observed, tracks, reasons, self._log_tail, seen
        )
        return Snapshot(self._cursor, reports, fingerprint, tuple(observed), self._now())

    def _reason(self, instance: instance_spec.Instance) -> str | None:
        if instance.state is not instance_spec.InstanceState.RUNNING:
            code = "unknown" if instance.exit_code is None else str(instance.exit_code)
            return f"exited with status {code}"
        try:
            return self._runtime.health(instance.instance_id).reason
        except Exception as exc:  # a reason, never a stopped tick
            return f"{type(exc).__name__}: {exc}" if not isinstance(exc, driver.RuntimeFailure) else str(exc)

    def _log_tail(self, instance_id: str) -> list[str]:
        try:
            return log_excerpt.excerpt(self._runtime.logs(instance_id, tail=log_excerpt.READ_LINES))
        except driver.RuntimeFailure:
            return []

    # -- the loop ------------------------------------------------------------------------

    def run(self, stop: threading.Event, publish: Callable[[Snapshot], None]) -> None:
        while not stop.is_set():
            began = self._clock()
            try:
                publish(self.step())
            except Exception:  # one bad step must not stop the region's supervision
                log.exception("reconcile step failed; trying again next tick")
            remaining = self._settings.tick_seconds - (self._clock() - began)
            self._wake.wait(max(remaining, 0.0))
            self._wake.clear()

    def wake(self) -> None:
        self._wake.set()

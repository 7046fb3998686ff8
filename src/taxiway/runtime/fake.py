"""An in-memory runtime driver for unit tests and scale benchmarks.

Behaves like :class:`taxiway.runtime.local.LocalDriver` as far as the
:class:`~taxiway.runtime.driver.RuntimeDriver` contract goes (idempotent start, conflict on
another spec, restart in place, stop with or without forgetting) but starts nothing: every
operation is a dictionary update, so a reconcile over 10,000 instances measures the
satellite's own work. Tests steer it with :meth:`FakeDriver.crash` and
:meth:`FakeDriver.set_health`, and read :attr:`FakeDriver.calls`.
"""

from __future__ import annotations

import builtins
import itertools
from collections.abc import Callable
from dataclasses import replace

from taxiway.plan.region import instance_spec
from taxiway.runtime import driver


class FakeDriver:
    def __init__(self, clock: Callable[[], float] = lambda: 0.0, *, record_calls: bool = True) -> None:
        self._clock = clock
        self._instances: dict[str, instance_spec.Instance] = {}
        self._health: dict[str, driver.Health] = {}
        self._logs: dict[str, list[str]] = {}
        self._pids = itertools.count(1000)
        self._ports = itertools.count(20000)
        self._record_calls = record_calls
        self.calls: list[tuple[str, str]] = []
        """(operation, instance id) for every start and stop, in order."""

    def _note(self, operation: str, instance_id: str) -> None:
        if self._record_calls:
            self.calls.append((operation, instance_id))

    def start(self, spec: instance_spec.InstanceSpec) -> instance_spec.Instance:
        self._note("start", spec.instance_id)
        digest = spec.digest()
        existing = self._instances.get(spec.instance_id)
        if existing is not None and existing.state is instance_spec.InstanceState.RUNNING:
            if existing.spec_digest == digest:
                return existing
            raise driver.InstanceConflict(f"{spec.instance_id} runs with another spec")
        instance = instance_spec.Instance(
            instance_id=spec.instance_id,
            service=spec.service,
            environment=spec.environment,
            region=spec.region,
            revision=spec.revision,
            datacenter=spec.datacenter,
            node=spec.node,
            spec_digest=digest,
            state=instance_spec.InstanceState.RUNNING,
            pid=next(self._pids),
            port=spec.port if spec.port is not None else (existing.port if existing else next(self._ports)),
            started_at=self._clock(),
            restarts=existing.restarts + 1 if existing else 0,
            ready=True,
            check_path=instance_spec.check_path(spec.probes),
            cwd=spec.cwd,
        )
        self._instances[spec.instance_id] = instance
        self._health[spec.instance_id] = driver.Health(spec.instance_id, True, True, True)
        self._logs.setdefault(spec.instance_id, []).append(f"started {spec.instance_id} pid {instance.pid}")
        return instance

    def stop(self, instance_id: str, *, grace_seconds: float | None = None, forget: bool = True) -> None:
        self._note("stop", instance_id)
        if forget:
            self._instances.pop(instance_id, None)
            self._health.pop(instance_id, None)
            self._logs.pop(instance_id, None)
        elif instance_id in self._instances:
            self.crash(instance_id, exit_code=-15)

    def list(self) -> list[instance_spec.Instance]:
        return list(self._instances.values())

    def health(self, instance_id: str) -> driver.Health:
        if instance_id not in self._instances:
            raise driver.InstanceNotFound(f"no instance {instance_id}")
        if self._instances[instance_id].state is not instance_spec.InstanceState.RUNNING:
            return driver.Health(instance_id, False, False, False, "process is not running")
        return self._health[instance_id]

    def logs(self, instance_id: str, *, tail: int = 100) -> builtins.list[str]:
        if instance_id not in self._instances:
            raise driver.InstanceNotFound(f"no instance {instance_id}")
        return self._logs[instance_id][-tail:] if tail > 0 else []

    # -- steering, for tests ------------------------------------------------------------

    def crash(self, instance_id: str, exit_code: int = -9) -> None:
        """The process dies, as under ``kill -9``."""
        instance = self._instances[instance_id]
        self._instances[instance_id] = replace(
            instance, state=instance_spec.InstanceState.EXITED, pid=None, ready=False, exit_code=exit_code
        )

    def set_health(self, instance_id: str, *, ready: bool = True, healthy: bool = True) -> None:
        reason = None if healthy and ready else "set by test"
        self._health[instance_id] = driver.Health(instance_id, True, ready, healthy, reason)
        self._instances[instance_id] = replace(self._instances[instance_id], ready=ready)

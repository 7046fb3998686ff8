"""The runtime driver interface: how a satellite starts, stops and observes instances.

A satellite never knows whether its region runs OS processes or Kubernetes pods: it holds
a :class:`RuntimeDriver` (``local`` in :mod:`taxiway.runtime.local`, an in-memory stand-in
in :mod:`taxiway.runtime.fake`, ``kubernetes`` later) and speaks to it only in the value
types of :mod:`taxiway.plan.region.instance_spec` (what to run, what runs) and
:class:`Health` below. Drivers are synchronous and keep no desired state: the satellite
decides what should run and calls ``start``/``stop``; ``list`` reports what *is*,
including instances started by an earlier, crashed satellite.

Errors (all in :mod:`taxiway.errors`' tree)::

    TaxiwayError
    └── RuntimeFailure                a driver could not do what it was asked
        ├── InstanceNotFound          no such instance in this driver's state
        ├── InstanceConflict          the id runs already with a different spec
        └── StartFailed (retryable)   the process or pod could not be started
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from taxiway import errors
from taxiway.plan.region import instance_spec

INSTANCE_ID = r"^[a-z0-9]([-a-z0-9.]{0,126}[a-z0-9])?$"
"""Instance ids are file and DNS friendly: drivers use them as directory and pod names."""


class RuntimeFailure(errors.TaxiwayError):
    """A runtime driver could not do what it was asked."""

    code = "runtime-failure"


class InstanceNotFound(RuntimeFailure):
    code = "instance-not-found"


class InstanceConflict(RuntimeFailure):
    code = "instance-conflict"


class StartFailed(RuntimeFailure):
    retryable = True
    code = "start-failed"


@dataclass(frozen=True)
class Health:
    """Probe verdicts for one instance, with thresholds applied."""

    instance_id: str
    started: bool
    """The startup probe has passed; readiness and liveness run only after it."""
    ready: bool
    """Readiness passes: the instance may take traffic."""
    healthy: bool
    """``False`` when the instance must be restarted: startup gave up or liveness failed."""
    reason: str | None = None
    """Which probe failed last and why, for status and error messages."""


class RuntimeDriver(Protocol):
    """What every runtime does for a satellite. Implementations must be idempotent."""

    def start(self, spec: instance_spec.InstanceSpec) -> instance_spec.Instance:
        """Run ``spec``. Starting a running id with the same digest returns it unchanged;
        with another digest raises :class:`InstanceConflict`; an exited id restarts in
        place (``restarts`` grows, logs continue)."""
        ...

    def stop(self, instance_id: str, *, grace_seconds: float | None = None, forget: bool = True) -> None:
        """Stop gracefully (SIGTERM, ``grace_seconds``, then SIGKILL); ``forget`` also drops
        the instance's record and logs. Stopping an unknown id does nothing."""
        ...

    def list(self) -> Sequence[instance_spec.Instance]:
        """Every instance this driver's state knows, running or exited."""
        ...

    def health(self, instance_id: str) -> Health:
        """Run the probes that are due and return the verdicts so far."""
        ...

    def logs(self, instance_id: str, *, tail: int = 100) -> Sequence[str]:
        """The last ``tail`` lines the instance wrote (stdout and stderr, interleaved)."""
        ...


PLATFORM_ENV = (
    "PORT",
    "TAXIWAY_SERVICE",
    "TAXIWAY_ENVIRONMENT",
    "TAXIWAY_REGION",
    "TAXIWAY_REVISION",
    "TAXIWAY_DATACENTER",
    "TAXIWAY_NODE",
    "TAXIWAY_INSTANCE",
)
"""Variables every driver sets, overriding anything of the same name in the spec."""


def platform_env(spec: instance_spec.InstanceSpec, port: int) -> dict[str, str]:
    """The spec's env with the platform's variables (including the chosen ``PORT``) on top."""
    env = dict(spec.env)
    env.update(
        PORT=str(port),
        TAXIWAY_SERVICE=spec.service,
        TAXIWAY_ENVIRONMENT=spec.environment,
        TAXIWAY_REGION=spec.region,
        TAXIWAY_DATACENTER=spec.datacenter,
        TAXIWAY_NODE=spec.node,
        TAXIWAY_INSTANCE=spec.instance_id,
    )
    if spec.revision is not None:
        env["TAXIWAY_REVISION"] = str(spec.revision)
    else:
        env.pop("TAXIWAY_REVISION", None)
    return env

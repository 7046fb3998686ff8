"""The runtime driver interface: how a satellite starts, stops and observes instances.

A satellite never knows whether its region runs OS processes or Kubernetes pods: it holds
a :class:`RuntimeDriver` (``local`` in :mod:`taxiway.runtime.local`, an in-memory stand-in
in :mod:`taxiway.runtime.fake`, ``kubernetes`` later) and speaks to it only in the value
types below. Drivers are synchronous and keep no desired state: the satellite decides what
should run and calls ``start``/``stop``; ``list`` reports what *is*, including instances
started by an earlier, crashed satellite.

Errors (all in :mod:`taxiway.errors`' tree)::

    TaxiwayError
    └── RuntimeFailure                a driver could not do what it was asked
        ├── InstanceNotFound          no such instance in this driver's state
        ├── InstanceConflict          the id runs already with a different spec
        └── StartFailed (retryable)   the process or pod could not be started
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from taxiway import errors
from taxiway.plan import regional
from taxiway.spec import manifest

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
class InstanceSpec:
    """Everything a driver needs to run one instance; env values may hold secrets."""

    instance_id: str
    service: str
    environment: str
    region: str
    revision: int | None
    datacenter: str
    node: str
    argv: tuple[str, ...]
    cwd: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    port: int | None = None
    """Port to listen on; ``None`` lets the driver choose (``local``: a free loopback port)."""
    probes: manifest.Probes = field(default_factory=manifest.Probes)
    stop_grace_seconds: float = 10.0

    def digest(self) -> str:
        """Identifies the spec: equal digests mean the same instance would be started.

        Secret values are part of it (a rotated secret needs a restart) but only hashed.
        """
        document = {
            "id": self.instance_id,
            "service": self.service,
            "environment": self.environment,
            "region": self.region,
            "revision": self.revision,
            "datacenter": self.datacenter,
            "node": self.node,
            "argv": list(self.argv),
            "cwd": str(self.cwd) if self.cwd else None,
            "env": dict(sorted(self.env.items())),
            "port": self.port,
            "probes": self.probes.model_dump(mode="json"),
        }
        canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


class InstanceState(StrEnum):
    RUNNING = "running"
    EXITED = "exited"


@dataclass(frozen=True)
class Instance:
    """One instance as the driver observes it now."""

    instance_id: str
    service: str
    environment: str
    region: str
    revision: int | None
    datacenter: str
    node: str
    spec_digest: str
    state: InstanceState
    pid: int | None
    port: int | None
    started_at: float
    """Wall-clock time (epoch seconds) the current process started."""
    restarts: int
    ready: bool
    """The driver's last readiness verdict; ``False`` until probes pass after (re)adoption."""
    exit_code: int | None = None
    """For ``EXITED``: the exit status, negative for a signal, ``None`` when unknown."""
    cwd: Path | None = None
    """The working directory of the spec it runs (a satellite keeps that artifact)."""
    check_path: str | None = None
    """The readiness path of the spec it runs (``None``: a TCP readiness probe): what the
    region ingress checks this instance on, whatever revision the others run."""


def check_path(probes: manifest.Probes) -> str | None:
    """The path the ingress checks an instance with these probes on."""
    readiness = probes.readiness
    return readiness.path if readiness.protocol == "http" else None


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

    def start(self, spec: InstanceSpec) -> Instance:
        """Run ``spec``. Starting a running id with the same digest returns it unchanged;
        with another digest raises :class:`InstanceConflict`; an exited id restarts in
        place (``restarts`` grows, logs continue)."""
        ...

    def stop(self, instance_id: str, *, grace_seconds: float | None = None, forget: bool = True) -> None:
        """Stop gracefully (SIGTERM, ``grace_seconds``, then SIGKILL); ``forget`` also drops
        the instance's record and logs. Stopping an unknown id does nothing."""
        ...

    def list(self) -> Sequence[Instance]:
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


def platform_env(spec: InstanceSpec, port: int) -> dict[str, str]:
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


def spec_for(
    definition: regional.RegionalDefinition,
    *,
    instance_id: str,
    datacenter: str,
    node: str,
    service_dir: Path,
) -> InstanceSpec:
    """The instance a satellite asks for from one regional definition and one placement.

    ``service_dir`` is where the service's files are on this machine; ``run.working_dir``
    is relative to it. Secret values must be present in memory (``SecretEnv.value``).
    """
    run = definition.spec.run
    if run is None:
        raise errors.ConfigurationError(
            f"{definition.service}: the local runtime needs spec.run.command, and the manifest has none"
        )
    env: dict[str, str] = {}
    for name, value in definition.spec.env.items():
        if isinstance(value, regional.SecretEnv):
            if value.value is None:
                raise errors.ConfigurationError(f"{definition.service}: secret {name} has no value here")
            env[name] = value.value
        else:
            env[name] = value
    return InstanceSpec(
        instance_id=instance_id,
        service=definition.service,
        environment=definition.environment,
        region=definition.region,
        revision=definition.revision,
        datacenter=datacenter,
        node=node,
        argv=tuple(run.command),
        cwd=service_dir / run.working_dir if run.working_dir else service_dir,
        env=env,
        probes=definition.spec.probes,
    )

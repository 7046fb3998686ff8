"""One instance as a satellite asks for it and as a runtime driver observes it. Pure.

The value types every runtime driver (:mod:`taxiway.runtime.driver`) speaks in, and that
the region's deciders (:mod:`taxiway.plan.region.reconcile`,
:mod:`taxiway.plan.region.rotation`) decide over: an :class:`InstanceSpec` is what to run,
built from one regional definition and one placement by :func:`spec_for`; an
:class:`Instance` is what runs now. No I/O: drivers do that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from taxiway import errors
from taxiway.plan import regional
from taxiway.spec import manifest


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

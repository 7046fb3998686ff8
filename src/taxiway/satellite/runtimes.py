"""The runtime a satellite drives, chosen by ``--driver``, with where its logs can be followed.

``local`` runs instances as OS processes under ``<state_dir>/runtime`` (see
:mod:`taxiway.runtime.local` for the layout this module relies on to follow a log file);
``fake`` keeps them in memory, for tests and benchmarks. The driver interface has no
"follow" operation, so a runtime may name each instance's current log file; without one,
the logs API follows by polling the driver's ``logs``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from taxiway.runtime import driver, fake, local, logfile, shim, tenancy
from taxiway.satellite.settings import SatelliteSettings


@dataclass(frozen=True)
class Runtime:
    driver: driver.RuntimeDriver
    log_file: Callable[[str], Path] | None = None
    """The file an instance writes its output to now, rotated to ``.1``, ``.2`` … by size."""
    local: local.LocalDriver | None = None
    """Set for the ``local`` driver, which re-adopts running instances on start."""
    isolation: tenancy.Tenancy | None = None
    """Set when instances run as their services' own users."""


def build(settings: SatelliteSettings) -> Runtime:
    if settings.driver == "fake":
        return Runtime(fake.FakeDriver(record_calls=False))
    runtime_dir = settings.runtime_dir
    isolation = None
    if settings.isolation:
        isolation = tenancy.Tenancy(tenancy.IdRegistry(settings.users_registry), settings.tenants)
    local_driver = local.LocalDriver(
        local.LocalSettings(
            state_dir=runtime_dir,
            host=settings.instance_host,
            rotation=logfile.Rotation(),
            isolation=isolation,
        )
    )

    def log_file(instance_id: str) -> Path:
        return runtime_dir / "instances" / instance_id / shim.LOG_NAME

    return Runtime(local_driver, log_file, local_driver, isolation)

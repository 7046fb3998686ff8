"""Whether a deploy has arrived: the regions' status reports judged against one revision.

Pure (no I/O): :func:`assess` takes the status rows ``GET /v1/status`` answered, reads each
report with :class:`taxiway.wire.region_status.Report` (leniently: see that module), and says,
region by region, whether it is still waiting for the revision, progressing, ready or
failed. The waiting loop (:mod:`taxiway.client.waiting`) and ``taxiway status`` use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from taxiway.wire import region_status

RegionState = Literal["waiting", "progressing", "ready", "failed"]


@dataclass(frozen=True)
class Instance:
    """One instance as a region reported it."""

    id: str
    revision: int | None
    datacenter: str
    node: str
    endpoint: str | None
    pid: int | None
    state: str
    ready: bool
    restarts: int
    in_rotation: bool
    reason: str | None
    log_tail: tuple[str, ...]

    @classmethod
    def from_report(cls, item: region_status.InstanceReport) -> Instance:
        return cls(
            id=item.id,
            revision=item.revision,
            datacenter=item.datacenter or "",
            node=item.node or "",
            endpoint=item.endpoint,
            pid=item.pid,
            state=item.state or "unknown",
            ready=item.ready,
            in_rotation=item.in_rotation,
            restarts=item.restarts,
            reason=item.reason,
            log_tail=tuple(item.log_tail),
        )

    @property
    def placement(self) -> str:
        return f"{self.datacenter}/{self.node}" if self.datacenter or self.node else "-"


@dataclass(frozen=True)
class RegionProgress:
    region: str
    state: RegionState
    reported_revision: int | None
    phase: str | None
    desired_instances: int | None
    ready_instances: int | None
    message: str
    instances: tuple[Instance, ...]

    @property
    def culprits(self) -> tuple[Instance, ...]:
        """The instances a failure is about: the target revision's that say why or left logs."""
        if self.state != "failed":
            return ()
        return tuple(
            i
            for i in self.instances
            if i.revision == self.reported_revision and not i.ready and (i.reason or i.log_tail)
        )


@dataclass(frozen=True)
class Progress:
    service: str
    environment: str
    revision: int
    regions: tuple[RegionProgress, ...]

    @property
    def done(self) -> bool:
        return all(r.state == "ready" for r in self.regions)

    @property
    def failed(self) -> tuple[RegionProgress, ...]:
        return tuple(r for r in self.regions if r.state == "failed")

    @property
    def pending(self) -> tuple[str, ...]:
        return tuple(r.region for r in self.regions if r.state != "ready")


def region_progress(region: str, revision: int, report: Mapping[str, Any] | None) -> RegionProgress:
    """One region's progress towards ``revision``, from its latest report (None: no report yet)."""
    if report is None:
        return RegionProgress(region, "waiting", None, None, None, None, "no report yet", ())
    read = region_status.Report.model_validate(dict(report))
    reported, phase = read.revision, read.phase
    instances = tuple(Instance.from_report(item) for item in read.instances)
    state: RegionState
    if reported != revision:
        # Still on an older revision (or reporting a newer one someone else deployed).
        state = "waiting"
    elif phase == "ready":
        state = "ready"
    elif phase == "failed":
        state = "failed"
    else:
        state = "progressing"
    return RegionProgress(
        region=region,
        state=state,
        reported_revision=reported,
        phase=phase,
        desired_instances=read.desired_instances,
        ready_instances=read.ready_instances,
        message=read.message,
        instances=instances,
    )


def reports_by_region(rows: Iterable[Mapping[str, Any]], service: str, environment: str) -> dict[str, Any]:
    """The report of each region for one service and environment, from ``GET /v1/status`` rows."""
    return {
        str(row.get("region")): row.get("report")
        for row in rows
        if row.get("service") == service
        and row.get("environment") == environment
        and isinstance(row.get("report"), Mapping)
    }


def assess(
    service: str, environment: str, revision: int, regions: Sequence[str], rows: Iterable[Mapping[str, Any]]
) -> Progress:
    """How far ``revision`` of ``service`` got in each of ``regions`` of ``environment``."""
    reports = reports_by_region(rows, service, environment)
    return Progress(
        service,
        environment,
        revision,
        tuple(region_progress(region, revision, reports.get(region)) for region in regions),
    )

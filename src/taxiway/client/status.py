"""What runs where: every region's latest report, next to what should run and how fresh it is.

Pure (no I/O): ``taxiway status`` fetches the status rows, the regions and (for one
service) what each environment points at, and :func:`collect` joins them into one
:class:`RegionStatus` per service, environment and region. A region that should run the
service but never reported it appears too, so silence is visible.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from taxiway.client.regions import Region, parse_time
from taxiway.plan import readiness


@dataclass(frozen=True)
class Target:
    """What one environment of a service points at, and the regions that revision runs in."""

    revision: int
    regions: tuple[str, ...]


@dataclass(frozen=True)
class RegionStatus:
    service: str
    environment: str
    region: str
    desired_revision: int | None
    """What the environment points at; None when not asked for (``status`` without a service)."""
    revision: int | None
    """What the region last reported working on."""
    phase: str
    """The reported phase, or ``no report``."""
    desired_instances: int | None
    ready_instances: int | None
    message: str
    reported_at: datetime.datetime | None
    last_seen: datetime.datetime | None
    stale: bool
    instances: tuple[readiness.Instance, ...]

    def to_json(self, now: datetime.datetime) -> dict[str, Any]:
        return {
            "service": self.service,
            "environment": self.environment,
            "region": self.region,
            "desired_revision": self.desired_revision,
            "revision": self.revision,
            "phase": self.phase,
            "desired_instances": self.desired_instances,
            "ready_instances": self.ready_instances,
            "message": self.message,
            "reported_at": self.reported_at.isoformat() if self.reported_at else None,
            "age_seconds": round((now - self.reported_at).total_seconds(), 1) if self.reported_at else None,
            "satellite_last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "stale": self.stale,
            "instances": [
                {
                    "id": i.id,
                    "revision": i.revision,
                    "datacenter": i.datacenter,
                    "node": i.node,
                    "endpoint": i.endpoint,
                    "pid": i.pid,
                    "state": i.state,
                    "ready": i.ready,
                    "in_rotation": i.in_rotation,
                    "restarts": i.restarts,
                    "reason": i.reason,
                }
                for i in self.instances
            ],
        }


def collect(
    rows: Iterable[Mapping[str, Any]],
    regions: Sequence[Region],
    targets: Mapping[tuple[str, str], Target],
    now: datetime.datetime,
    *,
    environment: str | None = None,
) -> list[RegionStatus]:
    """One entry per (service, environment, region) reported or expected, sorted."""
    by_name = {r.name: r for r in regions}
    reported: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    for row in rows:
        key = (str(row.get("service")), str(row.get("environment")), str(row.get("region")))
        if isinstance(row.get("report"), Mapping):
            reported[key] = row
    expected = {(s, e, r) for (s, e), target in targets.items() for r in target.regions}
    result = []
    for key in sorted(set(reported) | expected):
        service, env, region_name = key
        if environment is not None and env != environment:
            continue
        target = targets.get((service, env))
        found = reported.get(key)
        report = found["report"] if found is not None else None
        progress = readiness.region_progress(region_name, target.revision if target else -1, report)
        region = by_name.get(region_name)
        result.append(
            RegionStatus(
                service=service,
                environment=env,
                region=region_name,
                desired_revision=target.revision if target else None,
                revision=progress.reported_revision,
                phase=progress.phase or ("no report" if found is None else "unknown"),
                desired_instances=progress.desired_instances,
                ready_instances=progress.ready_instances,
                message=progress.message if found is not None else "",
                reported_at=parse_time(found.get("reported_at")) if found is not None else None,
                last_seen=region.last_seen if region else None,
                stale=region.stale(now) if region else False,
                instances=progress.instances,
            )
        )
    return result

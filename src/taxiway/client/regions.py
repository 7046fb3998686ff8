"""The regions as the control plane knows them, and whether each one's satellite is alive.

``taxiway regions``, ``status`` (stale flags) and ``logs`` (each satellite's own API) read
``GET /v1/regions`` through :func:`fetch`, each entry with
:class:`taxiway.wire.regions.RegionEntry`. Fields a control plane may not send yet are
read as unknown rather than refused.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from taxiway.client.http import ControlPlane
from taxiway.errors import ProtocolError
from taxiway.wire import regions as regions_wire

# How often a satellite reports when the control plane does not say (the satellite's
# default), and how many missed reports make it stale: one late report is noise, three
# are a silent region.
REPORT_SECONDS = 2.0
STALE_AFTER_REPORTS = 3


def parse_time(value: Any) -> datetime.datetime | None:
    """An ISO 8601 time from the API, in UTC; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


@dataclass(frozen=True)
class Region:
    name: str
    continent: str
    driver: str
    last_seen: datetime.datetime | None
    cursor: int | None
    api: str | None
    failed_nodes: tuple[str, ...]
    """``datacenter/node`` of each node marked failed."""
    report_seconds: float = REPORT_SECONDS
    """How often the satellite reports (``report_every_seconds`` when the API sends it)."""

    def stale(self, now: datetime.datetime) -> bool:
        """True when the satellite has been silent for more than three report periods.

        A satellite never seen is not stale: it is reported as never seen.
        """
        if self.last_seen is None:
            return False
        return (now - self.last_seen).total_seconds() > STALE_AFTER_REPORTS * self.report_seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "continent": self.continent,
            "driver": self.driver,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "cursor": self.cursor,
            "api": self.api,
            "failed_nodes": list(self.failed_nodes),
        }


def fetch(cp: ControlPlane) -> list[Region]:
    answer = cp.get("/v1/regions")
    if not isinstance(answer, list):
        raise ProtocolError("GET /v1/regions answered no list")
    regions = []
    for item in answer:
        if not isinstance(item, dict) or not item.get("name"):
            continue
        entry = regions_wire.RegionEntry.model_validate({**item, "name": str(item["name"])})
        every = entry.report_every_seconds
        regions.append(
            Region(
                name=entry.name,
                continent=entry.continent or "",
                driver=entry.driver or "",
                last_seen=parse_time(entry.last_seen),
                cursor=entry.cursor,
                api=entry.api,
                failed_nodes=tuple("/".join(node) for node in entry.failed_nodes),
                report_seconds=every if every is not None and every > 0 else REPORT_SECONDS,
            )
        )
    return regions

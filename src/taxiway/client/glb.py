"""What every edge PoP last said about its pools: ``GET /v1/glb[?service=S]``, typed.

``taxiway glb status`` reads it through :func:`fetch`. The answer is one entry per PoP::

    [{"pop": "iad", "reported_at": "...", "haproxy": {"pid": 1234, ...},
      "services": [{"service": "hello", "steering": "dynamic_latency",
                    "fallback_region": "us-east1", "serving": "us-east1",
                    "pools": [{"region", "healthy", "rtt_ms", "serving", "status"}]}]}]

Each service is read with the edge's own :class:`taxiway.wire.pop_status.ServiceStatus`;
fields an edge or control plane may not send are read as unknown rather than refused.
A PoP that has been silent for three report periods is *stale*: what it last said about
health may no longer hold.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pydantic

from taxiway.client.http import ControlPlane
from taxiway.client.regions import parse_time
from taxiway.errors import ProtocolError
from taxiway.wire import pop_status

REPORT_SECONDS = 2.0
"""How often an edge reports by default."""
STALE_AFTER_REPORTS = 3


@dataclass(frozen=True)
class Pool:
    region: str
    healthy: bool
    rtt_ms: float | None
    serving: bool
    status: str | None


@dataclass(frozen=True)
class PopService:
    """One service as one PoP sees it: pools in the order the PoP uses them."""

    pop: str
    service: str
    steering: str | None
    fallback_region: str | None
    pools: tuple[Pool, ...]
    reported_at: datetime.datetime | None

    @property
    def serving(self) -> Pool | None:
        return next((p for p in self.pools if p.serving), None)

    @property
    def via_fallback(self) -> bool:
        """Every pool is down and the fallback region gets the traffic regardless."""
        now = self.serving
        return now is not None and not now.healthy

    def stale(self, now: datetime.datetime) -> bool:
        if self.reported_at is None:
            return False
        return (now - self.reported_at).total_seconds() > STALE_AFTER_REPORTS * REPORT_SECONDS

    def to_json(self, now: datetime.datetime) -> dict[str, Any]:
        serving = self.serving
        return {
            "pop": self.pop,
            "service": self.service,
            "steering": self.steering,
            "fallback_region": self.fallback_region,
            "serving": serving.region if serving else None,
            "via_fallback": self.via_fallback,
            "reported_at": self.reported_at.isoformat() if self.reported_at else None,
            "age_seconds": round((now - self.reported_at).total_seconds(), 1) if self.reported_at else None,
            "stale": self.stale(now),
            "pools": [
                {
                    "region": p.region,
                    "healthy": p.healthy,
                    "rtt_ms": p.rtt_ms,
                    "serving": p.serving,
                    "status": p.status,
                }
                for p in self.pools
            ],
        }


def _pool(item: pop_status.PoolStatus) -> Pool:
    return Pool(
        region=item.region or "?",
        healthy=item.healthy,
        rtt_ms=item.rtt_ms,
        serving=item.serving,
        status=item.status,
    )


def _service(item: Any) -> pop_status.ServiceStatus | None:
    """One service of a PoP's report, read with the edge's own model; ``None`` if it is
    not one (no name), so one odd entry never hides the others."""
    if not isinstance(item, Mapping) or not item.get("service"):
        return None
    try:
        return pop_status.ServiceStatus.model_validate(dict(item))
    except pydantic.ValidationError:
        return None


def parse(answer: Any) -> list[PopService]:
    """One entry per (PoP, service), sorted by service then PoP."""
    if not isinstance(answer, list):
        raise ProtocolError("GET /v1/glb answered no list")
    found = []
    for entry in answer:
        if not isinstance(entry, Mapping) or not entry.get("pop"):
            continue
        reported_at = parse_time(entry.get("reported_at"))
        for item in entry.get("services") or []:
            service = _service(item)
            if service is None:
                continue
            found.append(
                PopService(
                    pop=str(entry["pop"]),
                    service=service.service,
                    steering=service.steering,
                    fallback_region=service.fallback_region,
                    pools=tuple(_pool(p) for p in service.pools),
                    reported_at=reported_at,
                )
            )
    return sorted(found, key=lambda s: (s.service, s.pop))


def fetch(cp: ControlPlane, service: str | None = None) -> list[PopService]:
    return parse(cp.get("/v1/glb", service=service))

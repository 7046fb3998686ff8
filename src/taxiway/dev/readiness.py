"""Is a dev world up? The control plane answers, and every satellite has reported since ``since``.

One probe (:func:`probe`) answers what is up right now; ``dev up`` calls it until
everything is or its deadline passes, and ``dev status`` calls it once. A satellite counts
once the control plane's ``GET /v1/regions`` shows it seen after ``since``, so a
heartbeat left in the database by an earlier world never passes for this one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from taxiway.client import http
from taxiway.errors import TaxiwayError


@dataclass(frozen=True)
class RegionSeen:
    name: str
    last_seen: datetime | None
    api: str | None
    cursor: int | None
    ingress: str | None = None
    """The region's ingress HAProxy, as its satellite last reported it."""


@dataclass(frozen=True)
class Probe:
    control_plane: bool
    """``GET /healthz`` answered 200."""
    regions: dict[str, RegionSeen] = field(default_factory=dict)
    error: str | None = None

    def reported(self, region: str, since: datetime | None) -> bool:
        seen = self.regions.get(region)
        if seen is None or seen.last_seen is None:
            return False
        return since is None or seen.last_seen >= since

    def all_reported(self, regions: Sequence[str], since: datetime | None) -> bool:
        return self.control_plane and all(self.reported(region, since) for region in regions)


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with http.translated("GET /healthz", f"the control plane at {url}"):
            response = httpx.get(f"{url.rstrip('/')}/healthz", timeout=timeout, trust_env=False)
    except TaxiwayError:
        return False
    return response.status_code == 200


def probe(url: str, token: str, timeout: float = 2.0) -> Probe:
    if not healthy(url, timeout):
        return Probe(control_plane=False, error=f"the control plane at {url} does not answer yet")
    try:
        with http.ControlPlane(url, token, timeout=timeout) as api:
            answer = api.get("/v1/regions")
    except TaxiwayError as exc:
        return Probe(control_plane=True, error=str(exc))
    regions: dict[str, RegionSeen] = {}
    for item in answer if isinstance(answer, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        cursor, api_url, ingress = item.get("cursor"), item.get("api"), item.get("ingress")
        regions[item["name"]] = RegionSeen(
            name=item["name"],
            last_seen=parse_time(item.get("last_seen")),
            api=api_url if isinstance(api_url, str) else None,
            cursor=cursor if isinstance(cursor, int) else None,
            ingress=ingress if isinstance(ingress, str) else None,
        )
    return Probe(control_plane=True, regions=regions)

"""What each edge PoP must serve: the global load-balancing config, derived from the store.

A service is served through the PoPs when its production definition enables
``load_balancing.global``. It gets one pool per region where that definition is published,
in failover order (the manifest's ``failover_order``, else its ``regions``), each with the
ingress address the region's satellite last reported (``null`` until it has). Durations
are seconds. ``version`` identifies the content, so an edge can long-poll for a change.

A monitor follows the revision each region *serves*: while the published revision has no
instance in a region's rotation yet and an older one does (a rollout under way, or one
that failed), that region's pool carries the older revision's ``monitor_path`` when it
differs. So a deploy that changes the health path, and fails, leaves every PoP checking
the path the serving instances answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from taxiway.spec import units
from taxiway.store import records

ENVIRONMENT = "production"
DEFAULT_FALLBACK = "us-east1"


def _monitor(document: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "protocol": document.get("protocol", "tcp"),
        "path": document.get("path", "/health"),
        "interval": units.parse_duration(document.get("interval", "10s")),
        "timeout": units.parse_duration(document.get("timeout", "3s")),
        "consecutive_up": int(document.get("consecutive_up", 1)),
        "consecutive_down": int(document.get("consecutive_down", 1)),
        "expected_codes": document.get("expected_codes", "2xx"),
    }


DefinitionOf = Callable[[str, int, str], Mapping[str, Any] | None]
"""(service, revision, region) -> that revision's production definition there, if any."""


def _monitor_path(definition: Mapping[str, Any] | None) -> str | None:
    if definition is None:
        return None
    monitor = definition.get("spec", {}).get("load_balancing", {}).get("global", {}).get("monitor", {})
    path = monitor.get("path", "/health")
    return path if isinstance(path, str) else None


def serving_revision(report: Mapping[str, Any] | None, published: int) -> int | None:
    """The revision a region's report shows serving instead of ``published``: the newest
    one with an instance in rotation, when ``published`` has none there (else ``None``)."""
    if report is None:
        return None
    serving = {
        item.get("revision")
        for item in report.get("instances") or []
        if isinstance(item, Mapping) and item.get("in_rotation") is True
    }
    numbers = [n for n in serving if isinstance(n, int) and not isinstance(n, bool)]
    if not numbers or published in numbers:
        return None
    return max(numbers)


def _service(
    service: str,
    by_region: Mapping[str, Mapping[str, Any]],
    ingress: Mapping[str, str | None],
    monitor_paths: Mapping[str, str] | None = None,
) -> dict[str, Any] | None:
    specs = {region: definition.get("spec", {}) for region, definition in by_region.items()}
    declared: list[str] = next(iter(specs.values())).get("regions") or sorted(specs)
    first = next((r for r in declared if r in specs), next(iter(specs)))
    glb = specs[first].get("load_balancing", {}).get("global", {})
    if not glb.get("enabled"):
        return None
    order = [r for r in (glb.get("failover_order") or declared) if r in specs]
    order += [r for r in sorted(specs) if r not in order]
    fallback = glb.get("fallback_region") or (DEFAULT_FALLBACK if DEFAULT_FALLBACK in specs else order[0])
    monitor = _monitor(glb.get("monitor", {}))
    pools = []
    for region in order:
        pool: dict[str, Any] = {"region": region, "ingress": ingress.get(region)}
        path = (monitor_paths or {}).get(region)
        if path is not None and path != monitor["path"]:
            pool["monitor_path"] = path
        pools.append(pool)
    return {
        "service": service,
        "environment": ENVIRONMENT,
        "steering": glb.get("steering", "dynamic_latency"),
        "failover_order": order,
        "fallback_region": fallback,
        "monitor": monitor,
        "block_health_endpoint": bool(glb.get("block_health_endpoint", False)),
        "pools": pools,
    }


def pop_config(
    pop: str,
    published: Sequence[records.Published],
    heartbeats: Mapping[str, records.Heartbeat],
    statuses: Sequence[records.Status] = (),
    definition_of: DefinitionOf | None = None,
) -> dict[str, Any]:
    by_service: dict[str, dict[str, Mapping[str, Any]]] = {}
    reports = {(s.service, s.region): s.report for s in statuses if s.environment == ENVIRONMENT}
    monitor_paths: dict[str, dict[str, str]] = {}
    for item in published:
        if item.definition is not None and item.environment == ENVIRONMENT:
            by_service.setdefault(item.service, {})[item.region] = item.definition
            older = serving_revision(reports.get((item.service, item.region)), item.revision)
            if older is not None and definition_of is not None:
                path = _monitor_path(definition_of(item.service, older, item.region))
                if path is not None:
                    monitor_paths.setdefault(item.service, {})[item.region] = path
    ingress = {region: beat.ingress for region, beat in heartbeats.items()}
    services = [
        config
        for service, by_region in sorted(by_service.items())
        if (config := _service(service, by_region, ingress, monitor_paths.get(service))) is not None
    ]
    canonical = json.dumps(services, sort_keys=True, separators=(",", ":"))
    version = int(hashlib.sha256(canonical.encode()).hexdigest()[:13], 16)
    return {"pop": pop, "version": version, "services": services}

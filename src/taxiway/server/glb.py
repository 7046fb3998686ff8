"""What each edge PoP must serve: the global load-balancing config, derived from the store.

A service is served through the PoPs when its production definition enables
``load_balancing.global``. It gets one pool per region where that definition is published,
in failover order (the manifest's ``failover_order``, else its ``regions``), each with the
ingress address the region's satellite last reported (``null`` until it has). Durations
are seconds. ``version`` identifies the content, so an edge can long-poll for a change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
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


def _service(
    service: str, by_region: Mapping[str, Mapping[str, Any]], ingress: Mapping[str, str | None]
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
    return {
        "service": service,
        "environment": ENVIRONMENT,
        "steering": glb.get("steering", "dynamic_latency"),
        "failover_order": order,
        "fallback_region": fallback,
        "monitor": _monitor(glb.get("monitor", {})),
        "block_health_endpoint": bool(glb.get("block_health_endpoint", False)),
        "pools": [{"region": region, "ingress": ingress.get(region)} for region in order],
    }


def pop_config(
    pop: str, published: Sequence[records.Published], heartbeats: Mapping[str, records.Heartbeat]
) -> dict[str, Any]:
    by_service: dict[str, dict[str, Mapping[str, Any]]] = {}
    for item in published:
        if item.definition is not None and item.environment == ENVIRONMENT:
            by_service.setdefault(item.service, {})[item.region] = item.definition
    ingress = {region: beat.ingress for region, beat in heartbeats.items()}
    services = [
        config
        for service, by_region in sorted(by_service.items())
        if (config := _service(service, by_region, ingress)) is not None
    ]
    canonical = json.dumps(services, sort_keys=True, separators=(",", ":"))
    version = int(hashlib.sha256(canonical.encode()).hexdigest()[:13], 16)
    return {"pop": pop, "version": version, "services": services}

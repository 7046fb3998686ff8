"""``taxiway dev status``: what of a dev world runs, as one JSON-ready document.

Reads the supervisor's record (``DIR/supervisor.json``) for pids and checks each against
/proc by pid *and* start time; asks the control plane, when it answers, when each
satellite last reported and its ingress; counts the instance processes each region's
local driver knows, each ingress's and each PoP's HAProxy processes, and the WAN links.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from taxiway.dev import (
    bringup,
    edges,
    ingresses,
    instances,
    pidlock,
    private_file,
    processes,
    provisioning,
    readiness,
    wan,
)
from taxiway.dev import layout as paths
from taxiway.dev import observability_units as units
from taxiway.dev import settings as world_settings
from taxiway.errors import ConfigurationError
from taxiway.runtime import process


def _alive(record: Any) -> bool:
    identity = processes.from_record(record if isinstance(record, dict) else None)
    return identity is not None and process.alive(identity)


def report(directory: Path) -> dict[str, Any]:
    layout = paths.Layout(directory.resolve())
    settings = world_settings.load(layout.world_file)
    if settings is None:
        return {"dir": str(layout.root), "state": "absent", "message": "no dev world here: `taxiway dev up`"}
    supervised = private_file.read_json(layout.supervisor_file) or {}
    supervisor_running = pidlock.is_held(layout.pid_file)
    records = supervised.get("children") or {}
    children = {}
    for name, record in records.items():
        children[name] = {
            "pid": record.get("pid"),
            "running": _alive(record),
            "state": record.get("state"),
            "restarts": record.get("restarts"),
            "log": str(layout.log_file(name)),
        }
    probe = readiness.Probe(control_plane=False)
    try:
        token = provisioning.admin_token(layout)
    except ConfigurationError:
        token = None
    if token is not None:
        probe = readiness.probe(settings.control_plane_url, token)
    now = datetime.now(UTC)
    regions = {}
    for region in settings.regions:
        seen = probe.regions.get(region)
        child = children.get(paths.satellite_name(region), {})
        regions[region] = {
            "satellite_pid": child.get("pid"),
            "satellite_running": bool(child.get("running")),
            "api": seen.api if seen else None,
            "cursor": seen.cursor if seen else None,
            "last_seen": seen.last_seen.isoformat() if seen and seen.last_seen else None,
            "last_seen_seconds_ago": (
                round((now - seen.last_seen).total_seconds(), 1) if seen and seen.last_seen else None
            ),
            "instance_processes": len(instances.running(layout.region_dir(region))),
            "ingress": seen.ingress if seen else None,
            "ingress_metrics": bringup.ingress_metrics_url(layout, region),
            "ingress_processes": len(ingresses.running(layout.region_dir(region))),
            "prometheus": settings.observability.prometheus_url(region) if settings.observability else None,
        }
    pops = {
        pop: {
            "url": bringup.pop_url(layout, pop),
            "metrics": bringup.pop_metrics_url(layout, pop),
            "edge_running": bool(children.get(paths.edge_name(pop), {}).get("running")),
            "haproxy_processes": len(edges.running(layout.pop_dir(pop))),
        }
        for pop in settings.pops
    }
    observability = {
        name: {"url": url, "state": "ready" if units.ready(url) else "not ready"}
        for name, url in units.endpoints(settings)
    }
    everything = [supervisor_running, probe.control_plane, *(c["running"] for c in children.values())]
    expected = (
        1 + len(settings.regions) + (1 + len(settings.pops) if settings.pops else 0) + len(observability)
    )
    if all(everything) and len(children) == expected:
        state = "up"
    elif not any(everything):
        state = "down"
    else:
        state = "degraded"
    return {
        "dir": str(layout.root),
        "state": state,
        "supervisor": {
            "pid": (supervised.get("supervisor") or {}).get("pid") if supervisor_running else None,
            "running": supervisor_running,
            "log": str(layout.log_file("supervisor")),
        },
        "control_plane": {
            "url": settings.control_plane_url,
            "answering": probe.control_plane,
            "database": world_settings.redacted(settings.database),
        },
        "children": children,
        "regions": regions,
        "domain": settings.domain,
        "pops": pops,
        "wan_scale": settings.wan_scale,
        "wan_links": len(wan.parse(private_file.read_json(layout.wan_file))),
        "observability": observability,
        **units.urls(settings),
    }

"""What a Prometheus should scrape, as ``file_sd`` target groups. Pure.

A satellite writes its region's groups (the ingress exporter, the request log sink,
itself, every running instance's own metrics); the control plane writes the global ones
(each PoP's HAProxy exporter and edge process). Every group carries the labels the
platform sets — ``region`` here, ``pop`` at a PoP, and for an instance ``service``,
``environment``, ``revision`` and ``instance`` (its id, in place of ``host:port``) — and
a target's metrics path travels as ``__metrics_path__``, which file_sd honours.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from taxiway.plan.observability import names, prometheus_config

Group = dict[str, Any]
"""``{"targets": ["host:port"], "labels": {...}}``: one file_sd target group."""


@dataclass(frozen=True)
class InstanceTarget:
    service: str
    environment: str
    revision: int | None
    instance: str
    address: str
    """``host:port`` of the instance's metrics endpoint."""
    metrics_path: str = "/metrics"


@dataclass(frozen=True)
class PopTarget:
    pop: str
    haproxy: str | None
    """``host:port`` of the PoP HAProxy's exporter."""
    edge: str | None = None
    """``host:port`` of the edge process's own metrics."""


def _group(address: str | None, labels: Mapping[str, str]) -> list[Group]:
    return [] if address is None else [{"targets": [address], "labels": dict(labels)}]


def regional(
    region: str,
    *,
    ingress: str | None,
    request_log: str | None,
    satellite: str | None,
    instances: Iterable[InstanceTarget],
) -> dict[str, list[Group]]:
    """Each regional job's groups, keyed by job (its file is ``<job>.json``)."""
    base = {names.REGION: region}
    return {
        prometheus_config.INGRESS_JOB: _group(ingress, base),
        prometheus_config.REQUEST_LOG_JOB: _group(request_log, base),
        prometheus_config.SATELLITE_JOB: _group(satellite, base),
        prometheus_config.INSTANCES_JOB: [
            {
                "targets": [target.address],
                "labels": {
                    **base,
                    names.SERVICE: target.service,
                    names.ENVIRONMENT: target.environment,
                    names.REVISION: str(target.revision)
                    if target.revision is not None
                    else names.NO_REVISION,
                    names.INSTANCE: target.instance,
                    "__metrics_path__": target.metrics_path,
                },
            }
            for target in sorted(instances, key=lambda t: t.instance)
        ],
    }


def global_(pops: Sequence[PopTarget]) -> dict[str, list[Group]]:
    ordered = sorted(pops, key=lambda p: p.pop)
    return {
        prometheus_config.POPS_JOB: [g for p in ordered for g in _group(p.haproxy, {names.POP: p.pop})],
        prometheus_config.EDGES_JOB: [g for p in ordered for g in _group(p.edge, {names.POP: p.pop})],
    }


def render(groups: Sequence[Group]) -> str:
    return json.dumps(list(groups), indent=2, sort_keys=True) + "\n"

"""Each service's latency SLO thresholds, as the satellite hands them to the request log sink.

The satellite computes them from the production definitions it runs
(:func:`from_desired`: every ``slos`` entry of type ``latency``, its
``indicator.threshold`` in seconds) and writes them as a small JSON file
(:func:`document`); the sink reads it back with :func:`parse` whenever it changes and
gives each service the histogram bounds ``names.buckets_for(thresholds)``. Pure.

The same file names the revision each service is to run (:func:`revisions_from_desired`,
read back by :func:`parse_revisions`), so the sink exposes its counters at 0 before its
first request: a counter that first appears already holding the requests of its first
seconds is, to Prometheus's ``rate()``, a counter that never grew.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from taxiway.plan.region import reconcile

Thresholds = dict[str, tuple[float, ...]]
Revisions = dict[str, tuple[str, ...]]
"""Service -> the revisions (as the ``revision`` label spells them) it is to run."""
VERSION = 1


def from_desired(desired: Mapping[reconcile.Key, reconcile.Desired]) -> Thresholds:
    """Service -> its latency thresholds (sorted, no duplicates), for the routed environment."""
    out: Thresholds = {}
    for (service, environment), item in sorted(desired.items()):
        if environment != reconcile.ROUTED_ENVIRONMENT or item.removed or item.definition is None:
            continue
        found = {
            float(slo.indicator.threshold)
            for slo in item.definition.spec.slos
            if slo.indicator.type == "latency" and slo.indicator.threshold is not None
        }
        out[service] = tuple(sorted(found))
    return out


def revisions_from_desired(desired: Mapping[reconcile.Key, reconcile.Desired]) -> Revisions:
    """Service -> the revision its routed environment's definition names."""
    out: Revisions = {}
    for (service, environment), item in sorted(desired.items()):
        if environment != reconcile.ROUTED_ENVIRONMENT or item.removed or item.definition is None:
            continue
        if item.definition.revision is not None:
            out[service] = (str(item.definition.revision),)
    return out


def document(thresholds: Thresholds, revisions: Revisions | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "version": VERSION,
        "services": {name: list(values) for name, values in sorted(thresholds.items())},
    }
    if revisions:
        found["revisions"] = {name: list(values) for name, values in sorted(revisions.items())}
    return found


def parse_revisions(value: object) -> Revisions:
    """The document's ``revisions`` (none in a file an older satellite wrote)."""
    revisions = value.get("revisions") if isinstance(value, dict) else None
    if revisions is None:
        return {}
    if not isinstance(revisions, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(r, str) and r.isdigit() for r in v)
        for k, v in revisions.items()
    ):
        raise Invalid("'revisions' is not an object of service -> revision numbers")
    return {name: tuple(values) for name, values in revisions.items()}


class Invalid(ValueError):
    """The file is not a thresholds document (the sink keeps the thresholds it had)."""


def parse(value: object) -> Thresholds:
    if not isinstance(value, dict) or value.get("version") != VERSION:
        raise Invalid(f"not a version {VERSION} thresholds document")
    services = value.get("services")
    if not isinstance(services, dict):
        raise Invalid("'services' is not an object")
    out: Thresholds = {}
    for name, values in services.items():
        if not isinstance(name, str) or not isinstance(values, list):
            raise Invalid(f"service {name!r}: thresholds are not a list")
        good = []
        for item in values:
            if (
                isinstance(item, bool)
                or not isinstance(item, int | float)
                or not math.isfinite(item)
                or item <= 0
            ):
                raise Invalid(f"service {name!r}: threshold {item!r} is not a positive number of seconds")
            good.append(float(item))
        out[name] = tuple(sorted(set(good)))
    return out

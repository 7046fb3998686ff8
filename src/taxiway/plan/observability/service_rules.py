"""The SLO rule files of the services a Prometheus watches: one file per service and
environment with SLOs, named ``<service>-<environment>``. Pure.

A satellite writes :func:`regional` for what its region runs; the control plane writes
:func:`global_` for what runs anywhere. The rules themselves are
:mod:`taxiway.plan.observability.slo_rules`; the owner on every rule (and so on every
alert) is the definition's ``metadata.owner``, which derivation fills in from the
inventory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pydantic

from taxiway.plan import regional as regional_definition
from taxiway.plan.observability import slo_rules
from taxiway.spec.manifest import Slo

UNKNOWN_OWNER = "unknown"
_SLOS = pydantic.TypeAdapter(list[Slo])


@dataclass(frozen=True)
class Watched:
    """What the rules need of one service in one environment."""

    service: str
    environment: str
    owner: str
    slos: tuple[Slo, ...]

    @classmethod
    def of(cls, definition: regional_definition.RegionalDefinition) -> Watched:
        owner = definition.metadata.owner or UNKNOWN_OWNER
        return cls(definition.service, definition.environment, owner, tuple(definition.spec.slos))

    @classmethod
    def stored(cls, service: str, environment: str, definition: Mapping[str, Any]) -> Watched:
        """From a stored definition, reading only the owner and the SLOs (a stored one
        also holds sealed secrets, which only the satellites' model reads)."""
        metadata = definition.get("metadata") or {}
        spec = definition.get("spec") or {}
        owner = metadata.get("owner") if isinstance(metadata, dict) else None
        slos = _SLOS.validate_python(spec.get("slos") or [] if isinstance(spec, dict) else [])
        return cls(service, environment, owner if isinstance(owner, str) else UNKNOWN_OWNER, tuple(slos))


Services = Sequence[Watched] | Sequence[regional_definition.RegionalDefinition]


def _files(services: Services, scope: slo_rules.Scope) -> dict[str, str]:
    files = {}
    for item in services:
        watched = Watched.of(item) if isinstance(item, regional_definition.RegionalDefinition) else item
        if not watched.slos:
            continue
        document = slo_rules.rule_file(
            watched.service, watched.environment, watched.slos, watched.owner, scope
        )
        files[f"{watched.service}-{watched.environment}"] = slo_rules.render(document)
    return files


def regional(services: Services) -> dict[str, str]:
    """Rule files for a region's Prometheus: each SLO per region (``region`` kept)."""
    return _files(services, "region")


def global_(services: Services) -> dict[str, str]:
    """Rule files for the global Prometheus: each SLO over every region, traffic-weighted."""
    return _files(services, "global")

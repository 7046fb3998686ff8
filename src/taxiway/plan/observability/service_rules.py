"""The SLO rule files of the services a Prometheus watches: one file per service and
environment with SLOs, named ``<service>-<environment>``. Pure.

A satellite writes :func:`regional` for what its region runs; the control plane writes
:func:`global_` for what runs anywhere. The rules themselves are
:mod:`taxiway.plan.observability.slo_rules`; the owner on every rule (and so on every
alert) is the definition's ``metadata.owner``, which derivation fills in from the
inventory.
"""

from __future__ import annotations

from collections.abc import Sequence

from taxiway.plan import regional as regional_definition
from taxiway.plan.observability import slo_rules

UNKNOWN_OWNER = "unknown"


def _files(
    definitions: Sequence[regional_definition.RegionalDefinition], scope: slo_rules.Scope
) -> dict[str, str]:
    files = {}
    for definition in definitions:
        if not definition.spec.slos:
            continue
        owner = definition.metadata.owner or UNKNOWN_OWNER
        document = slo_rules.rule_file(
            definition.service, definition.environment, definition.spec.slos, owner, scope
        )
        files[f"{definition.service}-{definition.environment}"] = slo_rules.render(document)
    return files


def regional(definitions: Sequence[regional_definition.RegionalDefinition]) -> dict[str, str]:
    """Rule files for a region's Prometheus: each SLO per region (``region`` kept)."""
    return _files(definitions, "region")


def global_(definitions: Sequence[regional_definition.RegionalDefinition]) -> dict[str, str]:
    """Rule files for the global Prometheus: each SLO over every region, traffic-weighted."""
    return _files(definitions, "global")

"""The SLO rule files of the services a Prometheus watches: one file per service and
environment with SLOs. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from taxiway.plan import regional as regional_definition


def regional(definitions: Sequence[regional_definition.RegionalDefinition]) -> dict[str, str]:
    """Rule files for a region's Prometheus, named ``<service>-<environment>``."""
    return {}


def global_(definitions: Sequence[regional_definition.RegionalDefinition]) -> dict[str, str]:
    """Rule files for the global Prometheus: each service's SLOs over every region."""
    return {}

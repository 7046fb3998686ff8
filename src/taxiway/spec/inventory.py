"""The platform's inventory of services (like a ``workloads.yml``): who may run what, where.

Owned by the platform team. A service must be listed here before it can deploy; the
inventory bounds its regions, environments, instance quota and edge load balancing.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import Field

from taxiway.spec.manifest import DnsLabel, Model, RegionName


class Quota(Model):
    max_instances: int = Field(
        default=100,
        ge=0,
        le=1_000_000,
        description="Most instances across all regions, per environment.",
    )


class InventoryService(Model):
    name: DnsLabel = Field(description="The service's `metadata.name`.")
    owners: list[str] = Field(min_length=1, description="Who may deploy it; `metadata.owner` must be one.")
    regions: list[RegionName] = Field(min_length=1, description="Regions it may use.")
    environments: list[Literal["staging", "production"]] = Field(
        default=["staging", "production"], description="Environments it may use."
    )
    quota: Quota = Field(default_factory=Quota, description="Instance quota.")
    global_load_balancing: bool = Field(
        default=False, description="Whether it may be served through the edge PoPs."
    )


class Inventory(Model):
    api_version: Literal["taxiway/v1"] = Field(alias="apiVersion", description="Always `taxiway/v1`.")
    kind: Literal["Inventory"] = Field(description="Always `Inventory`.")
    services: list[InventoryService] = Field(default_factory=list, description="Known services.")

    @cached_property
    def by_name(self) -> dict[str, InventoryService]:
        return {s.name: s for s in self.services}

"""The platform's inventory of services (like a ``workloads.yml``): who may run what, where.

Owned by the platform team. A service must be listed here before it can deploy; the
inventory bounds its regions, environments, instance quota and edge load balancing. The
file is a seed: the control plane layers services registered through its API
(``taxiway services create``) over it. :attr:`Inventory.source` says where an inventory
came from, so "not in the inventory" can name the file or command that fixes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Literal

from pydantic import Field, PrivateAttr

from taxiway.spec.document import Document
from taxiway.spec.manifest import DnsLabel, Integer, Model, RegionName
from taxiway.spec.problem import Location


class Quota(Model):
    max_instances: Integer = Field(
        default=100,
        ge=0,
        le=1_000_000,
        description="Most instances across all regions, per environment.",
    )


class InventoryService(Model):
    name: DnsLabel = Field(description="The service's `metadata.name`.")
    owners: list[str] = Field(
        min_length=1,
        description="Who may deploy it; `metadata.owner` must be one, and the first is the owner "
        "of a manifest that names none.",
    )
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
    _source: str = PrivateAttr(default="the inventory")
    _owners_at: dict[str, Location | str] = PrivateAttr(default_factory=dict)

    @cached_property
    def by_name(self) -> dict[str, InventoryService]:
        return {s.name: s for s in self.services}

    @property
    def source(self) -> str:
        """Where this inventory came from: a file, or the control plane's file and API."""
        return self._source

    def from_source(
        self, source: str, document: Document | None = None, owners_at: Mapping[str, str] | None = None
    ) -> Inventory:
        """This inventory, saying it came from ``source`` (a path, or a description);
        ``document``, the file it was read from, says where each service's owners are, and
        ``owners_at`` where they are for services that are not in a file (by name)."""
        copy = self.model_copy()
        copy._source = source
        located: dict[str, Location | str] = dict(owners_at or {})
        if document is not None:
            located.update(
                {
                    service.name: document.locate(("services", index, "owners"))
                    for index, service in enumerate(self.services)
                }
            )
        copy._owners_at = located
        return copy

    def owners_location(self, name: str) -> str:
        """Where the owners of ``name`` are written: ``file:line:column``, else the source."""
        where = self._owners_at.get(name)
        return str(where) if where is not None else self.source

    def change_hint(self, name: str, change: str) -> str:
        """How the platform team allows what the entry of ``name`` does not (``change``: CLI flags)."""
        return (
            f"the platform team allows it in {self.source} or with `taxiway services update {name} {change}`"
        )

    def registration_hint(self, name: str, owner: str | None, regions: Sequence[str]) -> str:
        """How to make ``name`` known: the file to add it to, or the command that registers it.

        Without ``owner`` (the manifest names none) the service's owner comes from there too.
        """
        listed = ",".join(regions) or "REGION"
        hint = (
            f"add it to {self.source}, or register it with the control plane: "
            f"`taxiway services create {name} --owner {owner or 'TEAM'} --regions {listed}` (admin token)"
        )
        if owner is None:
            hint += "; its owners there answer for it, as the manifest names no metadata.owner"
        return hint

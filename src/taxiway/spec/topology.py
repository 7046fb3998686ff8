"""The platform's topology: continents → regions → datacenters → nodes, plus edge PoPs.

Owned by the platform team (``topology.yaml``). Each region names the runtime driver its
satellite uses. The optional latency table exists only for the development world, where
a WAN emulator adds it on the wire; nothing that steers traffic ever reads it.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Literal

from pydantic import Field

from taxiway.spec import units
from taxiway.spec.manifest import DnsLabel, Integer, Model, RegionName


class Capacity(Model):
    cpu: units.Cpu = Field(description="Allocatable CPU on the node.")
    memory: units.Memory = Field(description="Allocatable memory on the node.")
    max_instances: Integer = Field(ge=1, le=100000, description="Most instances the node runs.")


class Node(Model):
    name: DnsLabel = Field(description="Unique within its datacenter.")
    capacity: Capacity = Field(description="What the node can hold.")


class Datacenter(Model):
    name: RegionName = Field(description="Unique within its region, e.g. `us-east1-b`.")
    nodes: list[Node] = Field(min_length=1, description="Nodes in the datacenter.")


class Runtime(Model):
    driver: Literal["local", "kubernetes"] = Field(default="local", description="How instances run.")
    settings: dict[str, Any] = Field(default_factory=dict, description="Driver-specific settings.")


class Region(Model):
    name: RegionName = Field(description="Unique across the topology, e.g. `us-east1`.")
    runtime: Runtime = Field(default_factory=Runtime, description="The region's runtime driver.")
    datacenters: list[Datacenter] = Field(min_length=1, description="Failure domains in the region.")


class Continent(Model):
    name: DnsLabel = Field(description="e.g. `americas`.")
    regions: list[Region] = Field(min_length=1, description="Regions on the continent.")


class Pop(Model):
    name: DnsLabel = Field(description="Point of presence name, e.g. `iad`.")
    location: str = Field(min_length=1, description="Where it is, e.g. `Ashburn, US`.")
    continent: DnsLabel = Field(description="The continent it serves.")


class Latency(Model):
    pops: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="One-way ms from each PoP to each region."
    )
    regions: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="One-way ms between regions."
    )


class Topology(Model):
    api_version: Literal["taxiway/v1"] = Field(alias="apiVersion", description="Always `taxiway/v1`.")
    kind: Literal["Topology"] = Field(description="Always `Topology`.")
    continents: list[Continent] = Field(min_length=1, description="The world, by continent.")
    pops: list[Pop] = Field(default_factory=list, description="Edge points of presence.")
    latency: Latency | None = Field(
        default=None, description="Development world only: delays the WAN emulator adds."
    )

    @cached_property
    def regions(self) -> dict[str, Region]:
        """Every region by name, in file order."""
        return {r.name: r for c in self.continents for r in c.regions}

    @cached_property
    def continent_of(self) -> dict[str, str]:
        return {r.name: c.name for c in self.continents for r in c.regions}


def instance_capacity(region: Region, cpu_millis: int, memory_bytes: int) -> int:
    """How many instances of one size the region's nodes can hold in all."""
    total = 0
    for datacenter in region.datacenters:
        for node in datacenter.nodes:
            total += min(
                node.capacity.max_instances,
                node.capacity.cpu // cpu_millis,
                node.capacity.memory // memory_bytes,
            )
    return total

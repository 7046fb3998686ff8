"""Placement: which node of a region runs each instance. Pure and deterministic.

Called by a satellite before it asks its runtime driver to start anything, and again when
a node is marked failed (``taxiway chaos node-down``). The rules, in order:

1. An instance already placed on a healthy node stays there (no churn); its size counts
   against the node even if the node's capacity has since shrunk.
2. Instances on failed nodes, and new ones, are placed one by one in the order asked.
3. A candidate node must be healthy and have room: cpu, memory and ``max_instances``,
   counting everything already placed there, including existing placements of instances
   no longer wanted (they run until the satellite stops them).
4. Among candidates, the one whose *datacenter* holds the fewest instances of the same
   group (a group is typically ``service/environment``) wins, so a service spreads across
   failure domains first; then the node with the fewest instances of the group; then the
   least loaded node (share of its tightest resource); then topology file order.

What does not fit is reported as ``unplaced``, never silently dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from taxiway.spec import topology

NodeRef = tuple[str, str]
"""(datacenter, node)."""


@dataclass(frozen=True)
class Request:
    """One instance that must run: its id, its group for spreading, and its size."""

    instance_id: str
    group: str
    cpu: int
    memory: int


@dataclass(frozen=True)
class Placement:
    instance_id: str
    group: str
    datacenter: str
    node: str
    cpu: int
    memory: int

    @property
    def node_ref(self) -> NodeRef:
        return (self.datacenter, self.node)


@dataclass(frozen=True)
class Result:
    placements: tuple[Placement, ...]
    """Every wanted instance that has a node, in the order asked."""
    moved: tuple[str, ...]
    """Instances that left a failed node."""
    unplaced: tuple[str, ...]
    """Instances for which no healthy node has room."""


@dataclass
class _Load:
    cpu: int = 0
    memory: int = 0
    instances: int = 0

    def add(self, cpu: int, memory: int) -> None:
        self.cpu += cpu
        self.memory += memory
        self.instances += 1


def place(
    region: topology.Region,
    wanted: Sequence[Request],
    existing: Sequence[Placement] = (),
    failed_nodes: Collection[NodeRef] = frozenset(),
) -> Result:
    """Place ``wanted`` instances on ``region``'s nodes; see the module docstring."""
    nodes: dict[NodeRef, topology.Capacity] = {
        (datacenter.name, node.name): node.capacity
        for datacenter in region.datacenters
        for node in datacenter.nodes
    }
    order = {ref: index for index, ref in enumerate(nodes)}
    failed = set(failed_nodes)
    load: dict[NodeRef, _Load] = {ref: _Load() for ref in nodes}
    per_node: Counter[tuple[str, NodeRef]] = Counter()
    per_datacenter: Counter[tuple[str, str]] = Counter()

    def occupy(placement: Placement) -> None:
        load[placement.node_ref].add(placement.cpu, placement.memory)
        per_node[(placement.group, placement.node_ref)] += 1
        per_datacenter[(placement.group, placement.datacenter)] += 1

    wanted_ids = {request.instance_id for request in wanted}
    kept: dict[str, Placement] = {}
    was_on_failed: set[str] = set()
    for placement in existing:
        if placement.node_ref not in nodes or placement.node_ref in failed:
            was_on_failed.add(placement.instance_id)
            continue
        occupy(placement)
        if placement.instance_id in wanted_ids:
            kept[placement.instance_id] = placement

    def fits(ref: NodeRef, request: Request) -> bool:
        capacity, used = nodes[ref], load[ref]
        return (
            used.instances + 1 <= capacity.max_instances
            and used.cpu + request.cpu <= capacity.cpu
            and used.memory + request.memory <= capacity.memory
        )

    def rank(ref: NodeRef, request: Request) -> tuple[int, int, float, int]:
        capacity, used = nodes[ref], load[ref]
        utilisation = max(
            used.cpu / capacity.cpu if capacity.cpu else 1.0,
            used.memory / capacity.memory if capacity.memory else 1.0,
            used.instances / capacity.max_instances,
        )
        return (
            per_datacenter[(request.group, ref[0])],
            per_node[(request.group, ref)],
            utilisation,
            order[ref],
        )

    placements: list[Placement] = []
    moved: list[str] = []
    unplaced: list[str] = []
    for request in wanted:
        if request.instance_id in kept:
            placements.append(kept[request.instance_id])
            continue
        candidates = [ref for ref in nodes if ref not in failed and fits(ref, request)]
        if not candidates:
            unplaced.append(request.instance_id)
            continue
        datacenter, node = min(candidates, key=lambda ref: rank(ref, request))
        placement = Placement(
            request.instance_id, request.group, datacenter, node, request.cpu, request.memory
        )
        occupy(placement)
        placements.append(placement)
        if request.instance_id in was_on_failed:
            moved.append(request.instance_id)
    return Result(tuple(placements), tuple(moved), tuple(unplaced))

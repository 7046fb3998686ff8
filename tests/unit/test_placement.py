"""Placement over a region's datacenters and nodes: spread, capacity, failed nodes, determinism."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from taxiway.plan import placement
from taxiway.spec import topology

GiB = 1024**3


def region(*datacenters: tuple[str, list[tuple[str, str, str, int]]]) -> topology.Region:
    document: dict[str, Any] = {
        "name": "us-east1",
        "datacenters": [
            {
                "name": name,
                "nodes": [
                    {"name": node, "capacity": {"cpu": cpu, "memory": memory, "max_instances": most}}
                    for node, cpu, memory, most in nodes
                ],
            }
            for name, nodes in datacenters
        ],
    }
    return topology.Region.model_validate(document)


TWO_BY_TWO = region(
    ("us-east1-b", [("node-1", "4", "4Gi", 10), ("node-2", "4", "4Gi", 10)]),
    ("us-east1-c", [("node-1", "4", "4Gi", 10), ("node-2", "4", "4Gi", 10)]),
)


def wanted(count: int, group: str = "hello/production", cpu: int = 500, memory: int = GiB // 4) -> list[Any]:
    return [placement.Request(f"{group.split('/')[0]}-{index}", group, cpu, memory) for index in range(count)]


def where(result: placement.Result) -> dict[str, tuple[str, str]]:
    return {p.instance_id: p.node_ref for p in result.placements}


def test_instances_spread_across_datacenters_then_nodes() -> None:
    result = placement.place(TWO_BY_TWO, wanted(4))
    assert where(result) == {
        "hello-0": ("us-east1-b", "node-1"),
        "hello-1": ("us-east1-c", "node-1"),
        "hello-2": ("us-east1-b", "node-2"),
        "hello-3": ("us-east1-c", "node-2"),
    }
    assert result.unplaced == ()
    assert result.moved == ()


def test_each_group_spreads_on_its_own() -> None:
    result = placement.place(TWO_BY_TWO, wanted(2, "hello/production") + wanted(2, "world/production"))
    datacenters = {p.instance_id: p.datacenter for p in result.placements}
    assert {datacenters["hello-0"], datacenters["hello-1"]} == {"us-east1-b", "us-east1-c"}
    assert {datacenters["world-0"], datacenters["world-1"]} == {"us-east1-b", "us-east1-c"}


def test_capacity_is_respected_and_what_does_not_fit_is_reported() -> None:
    small = region(
        ("us-east1-b", [("node-1", "1", "4Gi", 10)]),  # cpu for two
        ("us-east1-c", [("node-1", "4", "1Gi", 10), ("node-2", "4", "4Gi", 1)]),  # memory four, one slot
    )
    result = placement.place(small, wanted(9))
    per_node: dict[tuple[str, str], int] = {}
    for p in result.placements:
        per_node[p.node_ref] = per_node.get(p.node_ref, 0) + 1
    assert per_node == {("us-east1-b", "node-1"): 2, ("us-east1-c", "node-1"): 4, ("us-east1-c", "node-2"): 1}
    assert result.unplaced == ("hello-7", "hello-8")


def test_existing_placements_stay_and_count_against_capacity() -> None:
    existing = [placement.Placement("hello-0", "hello/production", "us-east1-c", "node-2", 500, GiB // 4)]
    other = placement.Placement("legacy-0", "legacy/production", "us-east1-b", "node-1", 3500, GiB)
    result = placement.place(TWO_BY_TWO, wanted(3), [*existing, other])
    assert where(result)["hello-0"] == ("us-east1-c", "node-2")
    assert where(result)["hello-1"] == ("us-east1-b", "node-2"), "node-1 in b is nearly full"
    assert result.moved == ()


def test_failed_nodes_are_skipped_and_their_instances_moved() -> None:
    first = placement.place(TWO_BY_TWO, wanted(4))
    failed = {("us-east1-b", "node-1")}
    second = placement.place(TWO_BY_TWO, wanted(4), first.placements, failed)
    assert second.moved == ("hello-0",)
    assert where(second)["hello-0"] == ("us-east1-b", "node-2"), "stays in its datacenter when it can"
    for instance_id in ("hello-1", "hello-2", "hello-3"):
        assert where(second)[instance_id] == where(first)[instance_id]
    assert all(p.node_ref not in failed for p in second.placements)


def test_a_whole_datacenter_down_moves_everything_to_the_other() -> None:
    first = placement.place(TWO_BY_TWO, wanted(4))
    failed = {("us-east1-c", "node-1"), ("us-east1-c", "node-2")}
    second = placement.place(TWO_BY_TWO, wanted(4), first.placements, failed)
    assert {p.datacenter for p in second.placements} == {"us-east1-b"}
    assert second.moved == ("hello-1", "hello-3")


@given(
    count=st.integers(min_value=0, max_value=60),
    cpu=st.sampled_from([100, 250, 500, 1000]),
    failed=st.sets(st.sampled_from([("us-east1-b", "node-1"), ("us-east1-c", "node-2")])),
)
def test_never_over_capacity_never_on_failed_nodes_and_deterministic(
    count: int, cpu: int, failed: set[tuple[str, str]]
) -> None:
    requests = wanted(count, cpu=cpu)
    result = placement.place(TWO_BY_TWO, requests, failed_nodes=failed)
    assert result == placement.place(TWO_BY_TWO, requests, failed_nodes=failed)
    assert len(result.placements) + len(result.unplaced) == count
    capacity = {(dc.name, n.name): n.capacity for dc in TWO_BY_TWO.datacenters for n in dc.nodes}
    for ref, limit in capacity.items():
        on_node = [p for p in result.placements if p.node_ref == ref]
        assert ref not in failed or not on_node
        assert len(on_node) <= limit.max_instances
        assert sum(p.cpu for p in on_node) <= limit.cpu
        assert sum(p.memory for p in on_node) <= limit.memory

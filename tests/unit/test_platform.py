"""The platform team's files: topology and inventory, validated like manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxiway.errors import ValidationFailed
from taxiway.spec import platform
from taxiway.spec.problem import Problem
from taxiway.spec.topology import Topology, instance_capacity
from tests.conftest import EXAMPLES

TOPOLOGY = """\
apiVersion: taxiway/v1
kind: Topology
continents:
  - name: americas
    regions:
      - name: us-east1
        datacenters:
          - name: us-east1-b
            nodes:
              - {name: node-1, capacity: {cpu: 4, memory: 8Gi, max_instances: 8}}
              - {name: node-2, capacity: {cpu: 2, memory: 1Gi, max_instances: 8}}
pops:
  - {name: iad, location: "Ashburn, US", continent: americas}
"""

INVENTORY = """\
apiVersion: taxiway/v1
kind: Inventory
services:
  - name: hello
    owners: [team-hello]
    regions: [us-east1]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def topology(tmp_path: Path, text: str = TOPOLOGY) -> Topology:
    return platform.load_topology(write(tmp_path, "topology.yaml", text))


def topology_problems(tmp_path: Path, text: str) -> list[Problem]:
    with pytest.raises(ValidationFailed) as caught:
        topology(tmp_path, text)
    return list(caught.value.problems)


def inventory_problems(tmp_path: Path, text: str, against: Topology | None = None) -> list[Problem]:
    with pytest.raises(ValidationFailed) as caught:
        platform.load_inventory(write(tmp_path, "inventory.yaml", text), against)
    return list(caught.value.problems)


def test_the_examples_load() -> None:
    world = platform.load_topology(EXAMPLES / "topology.yaml")
    assert list(world.regions) == ["us-east1", "europe-west1", "asia-northeast3"]
    assert all(len(region.datacenters) == 2 for region in world.regions.values())
    assert [pop.name for pop in world.pops] == ["iad", "fra", "icn"]
    inventory = platform.load_inventory(EXAMPLES / "inventory.yaml", world)
    assert inventory.by_name["hello"].quota.max_instances == 40


def test_instance_capacity_is_bounded_by_cpu_memory_and_count(tmp_path: Path) -> None:
    region = topology(tmp_path).regions["us-east1"]
    # node-1: min(8, 4000//500, 8Gi//256Mi) = 8; node-2: min(8, 2000//500, 1Gi//256Mi) = 4
    assert instance_capacity(region, 500, 256 * 1024**2) == 12
    assert instance_capacity(region, 1000, 2 * 1024**3) == 4  # node-2 holds none
    assert instance_capacity(region, 8000, 256 * 1024**2) == 0


def test_unknown_field_in_the_topology_suggests(tmp_path: Path) -> None:
    missing, problem = topology_problems(tmp_path, TOPOLOGY.replace("datacenters:", "datacentres:"))
    assert (missing.field_path, missing.message) == (
        "continents[0].regions[0].datacenters",
        "required field is missing",
    )
    assert problem.path == ("continents", 0, "regions", 0, "datacentres")
    assert problem.location.line == 7
    assert problem.hint == "did you mean 'datacenters'?"


def test_duplicate_names_in_the_topology(tmp_path: Path) -> None:
    text = (
        TOPOLOGY.replace("name: node-2", "name: node-1")
        + "  - {name: iad, location: x, continent: americas}\n"
    )
    found = topology_problems(tmp_path, text)
    assert [(p.message, p.location.line) for p in found] == [
        ("duplicate node name", 10),
        ("duplicate node name", 11),
        ("duplicate PoP name", 13),
        ("duplicate PoP name", 14),
    ]


def test_pop_on_an_unknown_continent(tmp_path: Path) -> None:
    (problem,) = topology_problems(tmp_path, TOPOLOGY.replace("continent: americas", "continent: europe"))
    assert problem.path == ("pops", 0, "continent")
    assert problem.found == "europe"


@pytest.mark.parametrize(
    ("latency", "message", "found"),
    [
        ("latency:\n  pops:\n    iad: {us-west1: 5}\n", "unknown region", "us-west1"),
        ("latency:\n  pops:\n    sfo: {us-east1: 5}\n", "unknown PoP", "sfo"),
        ("latency:\n  pops:\n    iad: {us-east1: -5}\n", "invalid latency", "-5.0"),
        ("latency:\n  pops:\n    iad: {us-east1: .nan}\n", "invalid latency", "nan"),
        ("latency:\n  regions:\n    us-west1: {us-east1: 5}\n", "unknown region", "us-west1"),
    ],
)
def test_latency_table_names_known_places(tmp_path: Path, latency: str, message: str, found: str) -> None:
    (problem,) = topology_problems(tmp_path, TOPOLOGY + latency)
    assert (problem.message, problem.found) == (message, found)
    assert problem.location.line == 16


def test_bad_node_capacity_units(tmp_path: Path) -> None:
    (problem,) = topology_problems(tmp_path, TOPOLOGY.replace("memory: 1Gi", "memory: 1GB"))
    assert problem.path == ("continents", 0, "regions", 0, "datacenters", 0, "nodes", 1, "capacity", "memory")
    assert problem.location.line == 11


def test_inventory_regions_must_exist_in_the_topology(tmp_path: Path) -> None:
    text = INVENTORY.replace("[us-east1]", "[us-east1, mars-north1]")
    (problem,) = inventory_problems(tmp_path, text, topology(tmp_path))
    assert problem.path == ("services", 0, "regions", 1)
    assert problem.found == "mars-north1"
    assert (problem.location.line, problem.location.column) == (6, 25)


def test_inventory_without_a_topology_takes_any_region(tmp_path: Path) -> None:
    text = INVENTORY.replace("[us-east1]", "[mars-north1]")
    inventory = platform.load_inventory(write(tmp_path, "inventory.yaml", text))
    assert inventory.by_name["hello"].regions == ["mars-north1"]


def test_duplicate_services_in_the_inventory(tmp_path: Path) -> None:
    text = INVENTORY + "  - {name: hello, owners: [x], regions: [us-east1]}\n"
    found = inventory_problems(tmp_path, text)
    assert [(p.message, p.location.line) for p in found] == [
        ("duplicate service name", 4),
        ("duplicate service name", 7),
    ]


def test_inventory_environment_names_are_checked(tmp_path: Path) -> None:
    (problem,) = inventory_problems(tmp_path, INVENTORY + "    environments: [staging, prod]\n")
    assert problem.path == ("services", 0, "environments", 1)
    assert problem.found == "'prod'"

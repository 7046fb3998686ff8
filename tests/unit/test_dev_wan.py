"""The dev world's WAN links as data: from the topology, the ports and the ingress addresses."""

from __future__ import annotations

from pathlib import Path

from taxiway.dev import children, wan
from taxiway.dev import layout as paths
from taxiway.dev.settings import WorldSettings
from taxiway.spec import platform
from tests.conftest import EXAMPLES

TOPOLOGY = platform.load_topology(EXAMPLES / "topology.yaml")
PORTS = {"iad": {"us-east1": 7001, "europe-west1": 7002}, "fra": {"europe-west1": 7003}}


def test_one_link_per_pop_and_region_with_the_topologys_delay_scaled() -> None:
    links = wan.links(TOPOLOGY, PORTS, {"europe-west1": "http://127.0.0.1:9002"}, scale=0.5)
    assert links == [
        wan.Link("iad", "us-east1", 7001, None, 1.0),
        wan.Link("iad", "europe-west1", 7002, ("127.0.0.1", 9002), 20.0),
        wan.Link("fra", "europe-west1", 7003, ("127.0.0.1", 9002), 1.0),
    ]


def test_scale_zero_turns_the_delay_off() -> None:
    assert {link.delay_ms for link in wan.links(TOPOLOGY, PORTS, {}, scale=0.0)} == {0.0}


def test_the_file_round_trips() -> None:
    links = wan.links(TOPOLOGY, PORTS, {"us-east1": "http://127.0.0.1:9001"}, scale=1.0)
    assert wan.parse(wan.document(links, 1.0)) == links
    assert wan.parse({"links": [{"pop": "iad"}, "junk"]}) == []
    assert wan.parse(None) == []


def test_only_http_ip_and_port_ingress_addresses_are_targets() -> None:
    assert wan.ingress_target("http://127.0.0.1:80") == ("127.0.0.1", 80)
    assert wan.ingress_target("https://127.0.0.1:80") is None
    assert wan.ingress_target("http://127.0.0.1") is None
    assert wan.ingress_target(None) is None


def test_a_forgotten_ingress_address_keeps_the_last_known_one() -> None:
    known = wan.known_ingress({"us-east1": "http://127.0.0.1:1"}, {"us-east1": None, "europe-west1": None})
    assert known == {"us-east1": "http://127.0.0.1:1", "europe-west1": None}
    moved = wan.known_ingress(known, {"us-east1": "http://127.0.0.1:2"})
    assert moved["us-east1"] == "http://127.0.0.1:2"


def test_each_edge_reaches_each_region_through_its_wan_link(tmp_path: Path) -> None:
    layout = paths.Layout(tmp_path)
    settings = WorldSettings(
        python="/venv/bin/python",
        database="sqlite:///x.db",
        topology=Path("/t.yaml"),
        inventory=Path("/i.yaml"),
        regions=("us-east1", "europe-west1"),
        control_plane_port=7701,
        pops=("iad",),
        wan_ports={"iad": {"us-east1": 7001, "europe-west1": 7002}},
        edge_ports={"iad": (8001, 8002)},
    )
    specs = children.all_children(settings, layout)
    assert [spec.name for spec in specs] == [
        "control-plane",
        "satellite-us-east1",
        "satellite-europe-west1",
        "wan",
        "edge-iad",
    ]
    assert specs[3].argv[3:] == ("dev", "wan", "--dir", str(tmp_path))
    edge = specs[4]
    assert edge.pop == "iad"
    assert edge.needs == layout.edge_token_file("iad")
    assert edge.argv[3:] == (
        "edge",
        "--pop",
        "iad",
        "--control-plane",
        "http://127.0.0.1:7701",
        "--token-file",
        str(tmp_path / "tokens" / "edge-iad.token"),
        "--state-dir",
        str(tmp_path / "pops" / "iad"),
        "--topology",
        "/t.yaml",
        "--domain",
        "taxiway.test",
        "--listen",
        "127.0.0.1:8001",
        "--metrics-listen",
        "127.0.0.1:8002",
        "--pool-address",
        "us-east1=127.0.0.1:7001",
        "--pool-address",
        "europe-west1=127.0.0.1:7002",
    )

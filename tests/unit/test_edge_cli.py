"""``taxiway glb status`` output, its client's parsing, and the edge's settings and ports."""

from __future__ import annotations

import datetime
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from taxiway.agent import agent_flags
from taxiway.cli import edge_commands
from taxiway.client import glb
from taxiway.edge import listeners
from taxiway.edge import settings as edge_settings
from taxiway.errors import ConfigurationError, ProtocolError
from taxiway.spec import platform
from tests.conftest import EXAMPLES

NOW = datetime.datetime(2026, 11, 22, 10, 0, 10, tzinfo=datetime.UTC)


def pool(region: str, healthy: bool, rtt: float | None, serving: bool, status: str = "UP") -> dict[str, Any]:
    return {"region": region, "healthy": healthy, "rtt_ms": rtt, "serving": serving, "status": status}


ANSWER = [
    {
        "pop": "iad",
        "reported_at": "2026-11-22T10:00:08+00:00",
        "haproxy": {"pid": 10},
        "services": [
            {
                "service": "hello",
                "steering": "dynamic_latency",
                "fallback_region": "us-east1",
                "pools": [pool("us-east1", True, 2.14, True), pool("europe-west1", True, 41.0, False)],
            }
        ],
    },
    {
        "pop": "fra",
        "reported_at": "2026-11-22T09:59:00+00:00",
        "haproxy": {"pid": 11},
        "services": [
            {
                "service": "hello",
                "steering": "dynamic_latency",
                "fallback_region": "us-east1",
                "pools": [
                    pool("europe-west1", False, 2.0, False, "DOWN"),
                    pool("us-east1", False, None, True, "DOWN 1/2"),
                ],
            },
            "junk",
        ],
    },
    {"pop": "icn", "reported_at": None, "services": []},
]


def render(entries: list[glb.PopService]) -> list[str]:
    console = Console(width=200, record=True, highlight=False)
    with console.capture() as captured:
        edge_commands.print_glb(console, entries, NOW)
    return captured.get().splitlines()


def test_glb_status_prints_each_pop_pools_in_order_and_flags_fallback_and_stale() -> None:
    lines = render(glb.parse(ANSWER))
    assert lines == [
        "hello (dynamic_latency, fallback us-east1)",
        "  POP  ORDER  POOL          HEALTH           RTT      SERVING   REPORTED",
        "  fra  1      europe-west1  down             2.0 ms             1m ago (STALE)",
        "       2      us-east1      down (DOWN 1/2)  -        fallback",
        "  iad  1      us-east1      up               2.1 ms   yes       2s ago",
        "       2      europe-west1  up               41.0 ms",
    ]
    assert render([]) == ["no PoP has reported a globally load-balanced service yet"]


def test_glb_status_json_says_who_serves_and_whether_through_the_fallback() -> None:
    entries = [e.to_json(NOW) for e in glb.parse(ANSWER)]
    assert [(e["pop"], e["serving"], e["via_fallback"], e["stale"], e["age_seconds"]) for e in entries] == [
        ("fra", "us-east1", True, True, 70.0),
        ("iad", "us-east1", False, False, 2.0),
    ]
    assert json.loads(json.dumps(entries))[1]["pools"][0] == pool("us-east1", True, 2.14, True)


def test_the_glb_answer_must_be_a_list() -> None:
    with pytest.raises(ProtocolError):
        glb.parse({"pops": []})


def test_the_token_never_shows_in_a_repr(tmp_path: Path) -> None:
    """Where the token comes from: tests/unit/test_agent.py."""
    settings = edge_settings.EdgeSettings(
        pop="iad", control_plane="http://x", token="twy_secret", state_dir=tmp_path
    )
    assert "twy_secret" not in repr(settings)


def test_flags_are_checked_with_clear_errors() -> None:
    assert agent_flags.parse_listen("127.0.0.1:0") == ("127.0.0.1", 0)
    assert agent_flags.parse_listen("[::1]:8080") == ("::1", 8080)
    with pytest.raises(ConfigurationError, match="--metrics-listen 'nope'"):
        agent_flags.parse_listen("nope", "--metrics-listen")
    assert agent_flags.control_plane_url("http://127.0.0.1:7700/") == "http://127.0.0.1:7700"
    with pytest.raises(ConfigurationError):
        agent_flags.control_plane_url("127.0.0.1:7700")
    topology = platform.load_topology(EXAMPLES / "topology.yaml")
    assert edge_settings.pop_of(topology, "fra", "topology.yaml").location == "Frankfurt, DE"
    with pytest.raises(ConfigurationError, match="its PoPs: iad, fra, icn"):
        edge_settings.pop_of(topology, "lhr", "topology.yaml")


def test_a_port_chosen_once_is_kept_and_one_taken_meanwhile_is_chosen_again(tmp_path: Path) -> None:
    path = tmp_path / "edge.json"
    first = listeners.resolve(path, "iad", ("127.0.0.1", 0), ("127.0.0.1", 0))
    assert first.listen.port != first.metrics.port
    assert listeners.resolve(path, "iad", ("127.0.0.1", 0), ("127.0.0.1", 0)) == first
    saved = json.loads(path.read_text())
    assert saved["url"] == f"http://127.0.0.1:{first.listen.port}"
    assert saved["metrics_url"] == f"http://127.0.0.1:{first.metrics.port}/metrics"

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", first.listen.port))
        squatter.listen()
        assert listeners.resolve(path, "iad", ("127.0.0.1", 0), ("127.0.0.1", 0), in_use=True) == first
        moved = listeners.resolve(path, "iad", ("127.0.0.1", 0), ("127.0.0.1", 0))
    assert moved.listen.port != first.listen.port
    assert moved.metrics == first.metrics
    explicit = listeners.resolve(path, "iad", ("127.0.0.1", 18080), ("127.0.0.1", 0))
    assert explicit.listen.port == 18080

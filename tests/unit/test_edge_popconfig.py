"""The PoP config from the wire: checks, what a new answer changes, and the cache on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from taxiway.edge import cache
from taxiway.errors import ProtocolError
from taxiway.plan.edge import popconfig
from taxiway.plan.haproxy import config


def service(name: str = "hello", **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "service": name,
        "environment": "production",
        "steering": "failover",
        "failover_order": ["europe-west1", "us-east1"],
        "fallback_region": "us-east1",
        "monitor": {
            "protocol": "http",
            "path": "/healthz?deep=1",
            "interval": 2.5,
            "timeout": 1,
            "consecutive_up": 2,
            "consecutive_down": 3,
            "expected_codes": "200,301",
        },
        "block_health_endpoint": True,
        "pools": [
            {"region": "us-east1", "ingress": "http://127.0.0.1:8081"},
            {"region": "europe-west1", "ingress": None},
        ],
    }
    return {**base, **overrides}


def answer(*services: dict[str, Any], version: int = 3) -> dict[str, Any]:
    return {"pop": "iad", "version": version, "services": list(services)}


def parse(data: dict[str, Any]) -> popconfig.PopConfig:
    parsed = popconfig.parse(data, "iad")
    assert parsed.problems == ()
    return parsed.config


def test_an_answer_parses_into_typed_services() -> None:
    parsed = parse(answer(service()))
    [hello] = parsed.services
    assert (parsed.pop, parsed.version) == ("iad", 3)
    assert hello.monitor == config.Monitor(
        protocol="http",
        path="/healthz?deep=1",
        interval=2.5,
        timeout=1.0,
        consecutive_up=2,
        consecutive_down=3,
        expected_codes="200,301",
    )
    assert hello.pools == (
        popconfig.Pool("us-east1", "http://127.0.0.1:8081"),
        popconfig.Pool("europe-west1", None),
    )
    assert (hello.steering, hello.failover_order, hello.fallback_region) == (
        "failover",
        ("europe-west1", "us-east1"),
        "us-east1",
    )
    assert popconfig.parse(parsed.to_json(), "iad").config == parsed


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ({"steering": "random"}, "steering: expected dynamic_latency or failover"),
        ({"service": "Hello World"}, "is not a DNS label"),
        ({"monitor": {"interval": 0}}, "monitor.interval: expected a positive number of seconds"),
        (
            {"monitor": {"interval": 1, "timeout": 1, "consecutive_up": 0, "consecutive_down": 1}},
            "consecutive_up",
        ),
        ({"monitor": {"protocol": "udp"}}, "monitor.protocol"),
        (
            {
                "monitor": {
                    "interval": 1,
                    "timeout": 1,
                    "consecutive_up": 1,
                    "consecutive_down": 1,
                    "path": "/a b",
                }
            },
            "path",
        ),
        ({"pools": [{"region": "us-east1"}, {"region": "us-east1"}]}, "region us-east1 appears twice"),
        ({"pools": [{"region": "US East", "ingress": None}]}, "pools[0].region"),
        ({"failover_order": "us-east1"}, "failover_order: expected a list"),
        ({"block_health_endpoint": "yes"}, "block_health_endpoint"),
    ],
)
def test_a_bad_service_is_left_out_with_a_problem_naming_it(bad: dict[str, Any], problem: str) -> None:
    parsed = popconfig.parse(answer(service(**bad), service("other")), "iad")
    assert [s.service for s in parsed.config.services] == ["other"]
    [message] = parsed.problems
    assert problem in message
    assert message.endswith("; left out")


def test_a_service_named_twice_keeps_the_first() -> None:
    parsed = popconfig.parse(answer(service(), service(steering="dynamic_latency")), "iad")
    assert [s.steering for s in parsed.config.services] == ["failover"]
    assert parsed.problems == ("service hello: appears twice; the second is left out",)


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"pop": "fra", "version": 1, "services": []},
        {"pop": "iad", "version": "7", "services": []},
        {"pop": "iad", "version": True, "services": []},
        {"pop": "iad", "version": 1, "services": {}},
    ],
)
def test_a_malformed_answer_is_a_protocol_error(data: Any) -> None:
    with pytest.raises(ProtocolError):
        popconfig.parse(data, "iad")


def test_a_new_answer_replaces_services_and_pools_it_names_and_drops_the_rest() -> None:
    before = parse(answer(service(), service("other")))
    after = parse(
        answer(service(pools=[{"region": "us-east1", "ingress": "http://127.0.0.1:9091"}]), version=4)
    )
    merged = popconfig.merge(before, after)
    assert merged.notes == ()
    assert merged.config == after


def test_a_missing_ingress_address_keeps_the_last_known_one() -> None:
    before = parse(answer(service(pools=[{"region": "us-east1", "ingress": "http://127.0.0.1:8081"}])))
    after = parse(answer(service(pools=[{"region": "us-east1", "ingress": None}]), version=4))
    merged = popconfig.merge(before, after)
    assert merged.config.version == 4
    assert merged.config.services[0].pools == (popconfig.Pool("us-east1", "http://127.0.0.1:8081"),)
    assert merged.notes == (
        "hello: no ingress address for us-east1 in the answer; keeping the last known one, http://127.0.0.1:8081",
    )


def test_an_empty_answer_never_empties_a_pop_that_routes_something() -> None:
    before = parse(answer(service()))
    merged = popconfig.merge(before, parse(answer(version=9)))
    assert merged.config.services == before.services
    assert merged.config.version == 9  # acknowledged, so the next long poll waits for a change
    assert "never taken as 'route nothing'" in merged.notes[0]
    assert popconfig.merge(None, parse(answer(version=9))).config.services == ()


def test_the_cache_round_trips_and_survives_a_corrupt_file(tmp_path: Path) -> None:
    store = cache.ConfigCache(tmp_path / "state" / "pop-config.json", "iad")
    assert store.load() is None
    saved = parse(answer(service(), service("other")))
    store.save(saved)
    assert cache.ConfigCache(store.path, "iad").load() == saved
    assert json.loads(store.path.read_text())["version"] == 3
    assert [p.name for p in store.path.parent.iterdir()] == ["pop-config.json"]  # no temporary left

    store.path.write_text('{"pop": "iad", "vers')
    assert store.load() is None
    assert store.path.with_name("pop-config.json.corrupt").exists()
    assert not store.path.exists()


def test_a_cache_of_another_pop_is_not_taken(tmp_path: Path) -> None:
    path = tmp_path / "pop-config.json"
    cache.ConfigCache(path, "fra").save(popconfig.PopConfig("fra", 1))
    assert cache.ConfigCache(path, "iad").load() is None

"""A PoP config to the HAProxy model and text: monitors, fallback, blocking, pools, order."""

from __future__ import annotations

import pytest

from taxiway.edge import translate
from taxiway.plan.edge import popconfig
from taxiway.plan.haproxy import config
from tests.fixtures.edge_frames import FRAME, build, servers, service


def test_the_monitor_maps_onto_haproxy_checks() -> None:
    text = config.render(build(service()).edge)
    assert "    timeout check 1s" in text
    assert "    http-check send meth GET uri /health ver HTTP/1.1 hdr Host hello.taxiway.test" in text
    assert "    http-check expect status 200-299,301" in text
    first = " ".join(servers(build(service()))[0])
    # inter = interval; fastinter = interval - timeout, so a failing pool is checked every interval
    assert (
        "check inter 2s rise 2 fall 3 fastinter 1s observe layer4 error-limit 1 on-error mark-down" in first
    )


def test_a_tcp_monitor_is_a_plain_connect_check() -> None:
    text = config.render(
        build(
            service(
                monitor={
                    "protocol": "tcp",
                    "interval": 10,
                    "timeout": 3,
                    "consecutive_up": 1,
                    "consecutive_down": 1,
                }
            )
        ).edge
    )
    assert "httpchk" not in text
    assert "check inter 10s rise 1 fall 1 fastinter 7s" in text


def test_a_timeout_as_long_as_the_interval_still_pauses_between_checks() -> None:
    monitor = config.Monitor(interval=1.0, timeout=1.0)
    assert translate.check_monitor(monitor).fast_interval == pytest.approx(0.1)
    assert translate.check_monitor(monitor).interval == 1.0


def test_pools_follow_the_failover_order_then_the_unnamed_ones() -> None:
    translation = build(service(failover_order=["asia-northeast3", "us-east1"]))
    assert [s[0] for s in servers(translation)] == [
        "asia-northeast3",
        "us-east1",
        "europe-west1",
        "fallback.us-east1",
    ]
    assert translation.failover["hello"] == ("asia-northeast3", "us-east1", "europe-west1")
    roles = [s[-1] for s in servers(translation)]
    assert roles == ["mark-down", "backup", "backup", "backup"]  # one active pool, the rest wait in order


def test_the_steering_order_wins_and_is_made_to_name_exactly_the_usable_pools() -> None:
    translation = build(service(), orders={"hello": ["europe-west1", "gone-region", "us-east1"]})
    assert [s[0] for s in servers(translation)][:3] == ["europe-west1", "us-east1", "asia-northeast3"]


def test_pools_without_an_ingress_are_left_out_and_a_service_without_any_is_not_rendered() -> None:
    pools = [
        {"region": "us-east1", "ingress": None},
        {"region": "europe-west1", "ingress": "http://127.0.0.1:8082"},
    ]
    translation = build(
        service(pools=pools, fallback_region="europe-west1"), service(service="quiet", pools=[pools[0]])
    )
    assert [s[0] for s in servers(translation)] == ["europe-west1", "fallback.europe-west1"]
    assert translation.failover["hello"] == ("europe-west1",)
    assert [s.name for s in translation.edge.services] == ["hello"]
    assert "quiet" not in config.render(translation.edge)
    assert translation.problems == ()


def test_the_fallback_defaults_to_us_east1_then_to_the_first_region() -> None:
    parsed = popconfig.parse({"pop": "iad", "version": 1, "services": [service(fallback_region=None)]}, "iad")
    assert translate.fallback_region(parsed.config.services[0]) == "us-east1"
    without_us = service(
        fallback_region=None,
        failover_order=["asia-northeast3", "europe-west1"],
        pools=[
            {"region": "europe-west1", "ingress": "http://127.0.0.1:8082"},
            {"region": "asia-northeast3", "ingress": "http://127.0.0.1:8083"},
        ],
    )
    translation = build(without_us)
    assert translation.fallback["hello"] == "asia-northeast3"
    assert servers(translation)[-1][:2] == ["fallback.asia-northeast3", "127.0.0.1:8083"]
    assert build(service(fallback_region="europe-west1")).fallback["hello"] == "europe-west1"


def test_a_fallback_region_without_an_address_gives_no_fallback_and_says_so() -> None:
    pools = [
        {"region": "us-east1", "ingress": None},
        {"region": "europe-west1", "ingress": "http://127.0.0.1:8082"},
    ]
    translation = build(service(pools=pools))
    assert translation.fallback["hello"] is None
    assert [s[0] for s in servers(translation)] == ["europe-west1"]
    assert translation.problems == ("hello: fallback region us-east1 has no ingress address",)


def test_block_health_endpoint_denies_the_monitor_path_to_the_public() -> None:
    blocked = config.render(build(service(block_health_endpoint=True)).edge)
    assert (
        "    http-request deny deny_status 404 if host_hello "
        "{ path,url_dec,lower -m reg ^/+(?:[.]/+)*health(?:/+[.]?)*$ }" in blocked
    )
    assert "deny" not in config.render(build(service()).edge)


@pytest.mark.parametrize(
    ("ingress", "reason"),
    [
        ("https://127.0.0.1:8443", "only http://"),
        ("http://ingress.example:8080", "must be an IP address"),
        ("http://127.0.0.1", "expected http://IP:PORT"),
        ("http://127.0.0.1:port", "not a number"),
    ],
)
def test_an_ingress_address_haproxy_cannot_use_leaves_that_pool_out(ingress: str, reason: str) -> None:
    pools = [
        {"region": "us-east1", "ingress": "http://127.0.0.1:8081"},
        {"region": "europe-west1", "ingress": ingress},
    ]
    translation = build(service(pools=pools))
    assert [s[0] for s in servers(translation)] == ["us-east1", "fallback.us-east1"]
    [problem] = translation.problems
    assert problem.startswith("hello: pool europe-west1 left out")
    assert reason in problem


def test_a_service_haproxy_would_refuse_is_left_out_without_harming_the_others() -> None:
    broken = service(service="broken", monitor={**service()["monitor"], "timeout": 0.0001})
    translation = build(service(), broken)
    assert [s.name for s in translation.edge.services] == ["hello"]
    assert translation.problems[0].startswith("broken: left out of the PoP: monitor timeout")


def test_ipv6_ingress_addresses_are_bracketed() -> None:
    pools = [{"region": "us-east1", "ingress": "http://[::1]:8081"}]
    assert servers(build(service(pools=pools)))[0][:2] == ["us-east1", "[::1]:8081"]


def test_no_config_renders_a_pop_that_answers_unknown_service() -> None:
    text = config.render(translate.build(None, {}, FRAME).edge)
    assert "default_backend be_unknown" in text
    assert "backend hello" not in text

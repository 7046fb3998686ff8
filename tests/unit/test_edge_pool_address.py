"""``taxiway edge --pool-address REGION=IP:PORT``: parsed, checked, and used for checks and traffic."""

from __future__ import annotations

from dataclasses import replace

import pytest

from taxiway.edge import settings as edge_settings
from taxiway.edge import translate
from taxiway.errors import ConfigurationError
from taxiway.plan.edge import popconfig
from taxiway.plan.haproxy import config
from tests.fixtures.edge_frames import FRAME, servers, service


def test_a_pool_address_is_a_region_and_an_ip_and_port() -> None:
    assert edge_settings.parse_pool_address("europe-west1=127.0.0.1:7801") == (
        "europe-west1",
        config.Endpoint("127.0.0.1", 7801),
    )
    assert edge_settings.parse_pool_address("us-east1=[::1]:80") == ("us-east1", config.Endpoint("::1", 80))


@pytest.mark.parametrize(
    "text",
    ["127.0.0.1:7801", "=127.0.0.1:1", "eu=localhost:80", "eu=127.0.0.1", "eu=127.0.0.1:0", "eu=1.2.3.4:x"],
)
def test_a_bad_pool_address_is_a_clear_error(text: str) -> None:
    with pytest.raises(ConfigurationError, match="--pool-address"):
        edge_settings.parse_pool_address(text)


def test_an_override_replaces_the_ingress_address_of_its_region_only() -> None:
    parsed = popconfig.parse({"pop": "iad", "version": 7, "services": [service()]}, "iad")
    frame = replace(FRAME, pool_addresses={"europe-west1": config.Endpoint("127.0.0.1", 9902)})
    translation = translate.build(parsed.config, {}, frame)
    addresses = {line[0]: line[1] for line in servers(translation)}
    assert addresses == {
        "fallback.us-east1": "127.0.0.1:8081",
        "us-east1": "127.0.0.1:8081",
        "europe-west1": "127.0.0.1:9902",
        "asia-northeast3": "127.0.0.1:8083",
    }


def test_an_override_does_not_invent_a_pool_the_control_plane_has_no_ingress_for() -> None:
    pools = [
        {"region": "us-east1", "ingress": "http://127.0.0.1:8081"},
        {"region": "europe-west1", "ingress": None},
    ]
    parsed = popconfig.parse(
        {"pop": "iad", "version": 7, "services": [service(pools=pools, failover_order=["us-east1"])]}, "iad"
    )
    assert parsed.config is not None
    usable, problems = translate.usable_pools(
        parsed.config.services[0], {"europe-west1": config.Endpoint("127.0.0.1", 9902)}
    )
    assert list(usable) == ["us-east1"]
    assert problems == []

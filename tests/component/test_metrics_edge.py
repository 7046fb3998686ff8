"""An edge's own ``/metrics`` on its metrics listener, with a real HAProxy and loopback regions.

The edge runs in-thread against the stub control plane of tests/fixtures/edge_world.py;
promtool finds the exposition clean, the series say what the PoP's status says (config
version, pools up, measured RTT), the steering's reorder is counted, a region that dies
shows as a pool down, and the listener's URL goes out in the PoP's status.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from taxiway import errors
from taxiway.edge import app
from tests.fixtures.edge_world import EdgeWorld, edge_world, pool_status, service_config, wait_served_by
from tests.fixtures.exposition import check_metrics, sample
from tests.fixtures.waiting import wait_for

FAR, NEAR = 0.040, 0.005


@pytest.fixture
def w() -> Iterator[EdgeWorld]:
    with edge_world() as created:
        yield created


def scrape(edge: app.Edge) -> str:
    response = httpx.get(edge.edge_metrics_url, timeout=5, trust_env=False)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def test_an_edge_exposes_its_metrics_and_they_follow_its_pools(w: EdgeWorld) -> None:
    far, near = w.region("us-east1", FAR), w.region("europe-west1", NEAR)
    version = w.cp.set_services([service_config([far, near])])  # failover order: the far region first
    edge = w.edge()
    wait_served_by(edge, "europe-west1", within=5)
    assert edge.edge_metrics_url != edge.metrics_url, "not HAProxy's exporter"

    text = scrape(edge)
    check_metrics(text.encode())
    assert sample(text, "taxiway_edge_config_version") == version
    for region in ("us-east1", "europe-west1"):
        assert sample(text, "taxiway_edge_pool_up", service="hello", region=region) == 1
    near_rtt = sample(text, "taxiway_edge_pool_rtt_seconds", service="hello", region="europe-west1")
    far_rtt = sample(text, "taxiway_edge_pool_rtt_seconds", service="hello", region="us-east1")
    assert near_rtt is not None
    assert far_rtt is not None
    assert near_rtt < FAR <= far_rtt
    reorders = sample(text, "taxiway_edge_steering_order_changes_total", service="hello")
    assert reorders is not None
    assert reorders >= 1, "the near region overtook the far one"
    assert "pop=" not in text, "the PoP comes from the scrape target"

    wait_for(
        lambda: (w.cp.latest() or {}).get("edge_metrics") == edge.edge_metrics_url,
        within=5,
        what="the listener's URL in the PoP's status",
    )
    near.kill()
    wait_for(lambda: pool_status(edge, "europe-west1") == "DOWN", within=10, what="the near pool down")
    wait_for(
        lambda: sample(scrape(edge), "taxiway_edge_pool_up", service="hello", region="europe-west1") == 0,
        within=5,
        what="the pool down in the metrics",
    )
    check_metrics(scrape(edge).encode())


def test_the_metrics_port_is_kept_and_a_taken_one_is_a_clear_error(w: EdgeWorld) -> None:
    w.cp.set_services([])
    edge = w.edge()
    port = edge.addresses.edge_metrics.port
    settings = edge.settings
    edge.stop()
    again = w.edge(settings)
    assert again.addresses.edge_metrics.port == port, "kept in edge.json"
    with pytest.raises(errors.ConfigurationError, match="--edge-metrics-listen"):
        w.edge(w.settings(pop="fra", edge_metrics_port=port))

"""A satellite's ``GET /metrics`` on its own API, against a real control plane over loopback.

The satellite runs in-thread with the in-memory driver (tests/fixtures/satellite_world.py);
promtool finds the exposition clean, and the series move with what the satellite does:
every tick grows the reconcile histogram, a crashed instance restarted counts once, the
feed's lag stays 0 while the control plane answers and grows once it is gone. The last
test runs ``taxiway satellite`` as a process with its real HAProxy ingress and ``local``
instances, and reads the servers per revision back from its ``/metrics``. No bearer:
``/metrics`` must answer while the control plane, which checks bearers, is down.
"""

from __future__ import annotations

import httpx

from taxiway.plan.observability import names
from taxiway.satellite import app
from tests.component.test_ingress import Region, region
from tests.fixtures import satellite_world as satellite_fixtures
from tests.fixtures.exposition import check_metrics, sample
from tests.fixtures.satellite_world import ControlPlane, Satellites, driver_of, ready
from tests.fixtures.waiting import wait_for

control_plane = satellite_fixtures.control_plane  # the fixtures
satellites = satellite_fixtures.satellites
__all__ = ["region"]  # a satellite process with its real ingress (tests/component/test_ingress.py)


def scrape(satellite: app.Satellite) -> str:
    response = httpx.get(satellite.api_url + "/metrics", timeout=5, trust_env=False)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return response.text


def test_a_satellite_exposes_its_metrics_and_they_move_with_what_it_does(
    control_plane: ControlPlane, satellites: Satellites
) -> None:
    us = satellites.start("us-east1", control_plane.url, control_plane.tokens["us-east1"])
    number = control_plane.deploy()
    wait_for(lambda: ready(control_plane.report("us-east1"), number, 2), within=15, what="us-east1 ready")

    text = scrape(us)
    check_metrics(text.encode())
    assert (
        sample(text, "taxiway_satellite_instances", service="hello", environment="production", state="ready")
        == 2
    )
    assert sample(text, "taxiway_satellite_feed_lag_seconds") == 0
    last_pull = sample(text, "taxiway_satellite_last_successful_pull_timestamp_seconds")
    assert last_pull is not None
    assert last_pull > 1.7e9
    assert "region=" not in text, "the region comes from the scrape target"

    ticks = "taxiway_satellite_reconcile_duration_seconds_count"
    before = sample(text, ticks) or 0
    wait_for(lambda: (sample(scrape(us), ticks) or 0) > before + 2, within=10, what="more reconcile steps")

    restarts = "taxiway_satellite_instance_restarts_total"
    assert sample(text, restarts, service="hello") is None
    driver_of(us).crash(f"hello-production-r{number}-0")
    wait_for(
        lambda: sample(scrape(us), restarts, service="hello", environment="production") == 1,
        within=10,
        what="the restart counted",
    )

    control_plane.stop()
    lag = "taxiway_satellite_feed_lag_seconds"
    first = wait_for(
        lambda: sample(scrape(us), lag) or None, within=10, what="a feed lag once the control plane is gone"
    )
    pulled = sample(scrape(us), "taxiway_satellite_last_successful_pull_timestamp_seconds")
    wait_for(lambda: (sample(scrape(us), lag) or 0) > first, within=10, what="the lag growing")
    assert sample(scrape(us), "taxiway_satellite_last_successful_pull_timestamp_seconds") == pulled
    check_metrics(scrape(us).encode())


def test_the_ingress_servers_per_revision_come_from_a_real_haproxy(region: Region) -> None:
    region.start()
    number = region.deploy()
    wait_for(lambda: region.serving(number, 2), within=60, what="two instances in rotation")
    api = region.control_plane.region("us-east1")["api"]
    labels = {"service": "hello", "environment": "production", "revision": str(number)}

    def scraped() -> str | None:
        response = httpx.get(api + "/metrics", timeout=5, trust_env=False)
        assert response.status_code == 200, response.text
        return response.text if sample(response.text, names.INGRESS_IN_ROTATION, **labels) == 2 else None

    text = wait_for(scraped, within=10, what="both instances in rotation in the metrics")
    check_metrics(text.encode())
    assert sample(text, names.INGRESS_IN_FLIGHT, **labels) == 0
    reloads = sample(text, "taxiway_satellite_ingress_reloads_total", outcome="ok")
    assert reloads is not None
    assert reloads >= 1

"""The edge test world's own helpers (tests/fixtures/edge_world.py) do what they say."""

from __future__ import annotations

import threading
import time

from tests.fixtures.edge_world import HOST, REGION_HEADER, Region, StubControlPlane
from tests.fixtures.haproxy_world import request


def test_a_blackholed_region_accepts_connections_and_never_answers() -> None:
    region = Region("us-east1").start()
    try:
        assert request(region.port, HOST, "/health").headers[REGION_HEADER] == "us-east1"
        region.blackhole()
        started = time.monotonic()
        silent = request(region.port, HOST, "/", timeout=0.3)
        assert silent.error is not None
        assert "timed out" in silent.error
        assert time.monotonic() - started >= 0.3  # connected, then heard nothing
    finally:
        region.kill()
    assert request(region.port, HOST, timeout=1).error is not None


def test_the_stub_control_plane_long_polls_and_checks_the_token() -> None:
    cp = StubControlPlane().start()
    try:
        cp.set_services([])
        import httpx

        headers = {"Authorization": f"Bearer {cp.token}"}
        assert httpx.get(cp.url + "/v1/pops/iad/config", headers=headers).json()["version"] == 1
        assert httpx.get(cp.url + "/v1/pops/iad/config").status_code == 401
        timer = threading.Timer(0.2, cp.set_services, args=([],))
        timer.start()
        started = time.monotonic()
        answer = httpx.get(cp.url + "/v1/pops/iad/config?after=1&wait=5", headers=headers, timeout=10).json()
        assert answer["version"] == 2
        assert 0.1 < time.monotonic() - started < 4
        timer.join()
    finally:
        cp.stop()

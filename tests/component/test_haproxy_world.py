"""The HAProxy test world's own helpers (tests/fixtures/haproxy_world.py) do what they say."""

from __future__ import annotations

import http.client

import pytest

from tests.fixtures.haproxy_world import Origin, request


def test_a_killed_origin_refuses_new_connections_and_cuts_open_ones() -> None:
    origin = Origin("a").start()
    try:
        keep_alive = http.client.HTTPConnection("127.0.0.1", origin.port, timeout=5)
        keep_alive.request("GET", "/")
        assert keep_alive.getresponse().read() == b"a"
        origin.kill()
        keep_alive.request("GET", "/")
        with pytest.raises((OSError, http.client.HTTPException)):
            keep_alive.getresponse().read()
        keep_alive.close()
        assert request(origin.port, "x").error is not None
    finally:
        origin.kill()


def test_an_origin_answers_its_name_health_and_crashes_once() -> None:
    origin = Origin("b").start()
    try:
        assert request(origin.port, "x", "/anything").body == "b"
        assert request(origin.port, "x", "/health").status == 200
        origin.healthy = False
        assert request(origin.port, "x", "/health").status == 503
        assert request(origin.port, "x", "/crash-once").error is not None
        assert request(origin.port, "x", "/crash-once").ok
        assert origin.requests("/crash-once") == 2
    finally:
        origin.kill()

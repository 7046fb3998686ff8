"""``taxiway edge`` in-thread against a stub control plane, a real HAProxy and loopback regions.

Regions are :class:`~tests.component.test_edge_world.Region` origins whose ``/health``
answers after a delay, so the PoP's own check durations tell a near region (5 ms) from a
far one (40 ms); nothing here tells the edge which is which. Loads are bounded sequential
GETs on fresh connections; every failed request is counted, and the figures the issue
asks for are printed (``pytest -s``) as well as asserted.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from taxiway.cli import edge_commands
from taxiway.errors import TaxiwayError
from taxiway.plan.haproxy import answers
from tests.fixtures.edge_world import (
    HOST,
    MONITOR,
    REGION_HEADER,
    EdgeWorld,
    Load,
    edge_world,
    estimates,
    get,
    pool_status,
    served_by,
    service_config,
    wait_served_by,
)
from tests.fixtures.haproxy_world import request
from tests.fixtures.waiting import wait_for

INTERVAL = MONITOR["interval"]
FAR, NEAR = 0.040, 0.005


@pytest.fixture
def w() -> Iterator[EdgeWorld]:
    with edge_world() as created:
        yield created


def test_the_pop_serves_from_the_lowest_rtt_region_within_three_probe_intervals(w: EdgeWorld) -> None:
    far, near = w.region("us-east1", FAR), w.region("europe-west1", NEAR)
    w.cp.set_services([service_config([far, near])])  # failover order: the far region first
    edge = w.edge()
    wait_for(lambda: edge.controller.applied is not None, within=5, what="the config to be applied")
    took = wait_served_by(edge, "europe-west1", within=5)
    assert took < 3 * INTERVAL + 0.3, f"the nearest region served only {took:.2f}s after the config"
    measured = estimates(edge)
    assert measured["us-east1"].rtt_ms >= FAR * 1000
    assert measured["europe-west1"].rtt_ms < FAR * 1000
    replies = [get(edge) for _ in range(20)]
    assert {served_by(r) for r in replies} == {"europe-west1"}
    assert {r.headers["x-taxiway-pop"] for r in replies} == {"iad"}

    def reported() -> bool:
        body = w.cp.latest()
        return body is not None and body["services"] and body["services"][0]["serving"] == "europe-west1"

    wait_for(reported, within=5, what="the status report")
    body = w.cp.latest()
    assert body is not None
    service = body["services"][0]
    assert [(p["region"], p["healthy"], p["serving"]) for p in service["pools"]] == [
        ("europe-west1", True, True),
        ("us-east1", True, False),
    ]
    assert service["pools"][0]["rtt_ms"] < service["pools"][1]["rtt_ms"]
    assert (service["steering"], service["fallback_region"], service["via_fallback"]) == (
        "dynamic_latency",
        "us-east1",
        False,
    )
    assert body["haproxy"]["pid"] == edge.haproxy.master_pid()
    print(
        f"\nsteering: nearest region served {took * 1000:.0f} ms after the config was applied "
        f"({took / INTERVAL:.1f} probe intervals of {INTERVAL}s); estimates "
        + ", ".join(f"{k} {v.rtt_ms:.1f} ms" for k, v in measured.items())
    )


@pytest.mark.slow
def test_killing_the_serving_region_under_load_fails_no_request_and_it_returns_after_consecutive_up(
    w: EdgeWorld,
) -> None:
    far, near = w.region("us-east1", FAR), w.region("europe-west1", NEAR)
    w.cp.set_services([service_config([far, near])])
    edge = w.edge()
    wait_served_by(edge, "europe-west1", within=5)

    with Load(edge) as load:
        load.wait_count(50)
        near.kill()
        killed_at = time.monotonic()
        mark = len(load.replies)
        wait_for(
            lambda: sum(served_by(r) == "us-east1" for r in load.replies[mark:]) >= 100,
            within=10,
            what="100 answers from the next pool",
        )
        first_far = next(r.at for r in load.replies[mark:] if served_by(r) == "us-east1")
        assert pool_status(edge, "europe-west1").startswith("DOWN")
        near.revive()
        revived_at = time.monotonic()
        back = len(load.replies)
        wait_for(
            lambda: any(served_by(r) == "europe-west1" for r in load.replies[back:]),
            within=10,
            what="the revived region to serve again",
        )
        first_back = next(r.at for r in load.replies[back:] if served_by(r) == "europe-west1")
        load.wait_count(len(load.replies) + 50)
    assert load.failures() == []
    assert served_by(load.replies[-1]) == "europe-west1"
    failover_after = first_far - killed_at
    back_after = first_back - revived_at
    # A request that finds the region dead waits HAProxy's retry turn-around (min(connect
    # timeout, 1 s)) before it is redispatched; consecutive_up checks then bring it back.
    assert failover_after < 1.5
    up = MONITOR["consecutive_up"]
    checks = [at for at in near.checks if at > revived_at]
    assert len(checks) >= up
    assert first_back > checks[up - 1], "the revived region served before consecutive_up checks passed"
    assert back_after < (up + 1) * INTERVAL + 0.5
    print(
        f"\nkill under load: {len(load.replies)} GETs, {len(load.failures())} failed; the next pool served "
        f"{failover_after * 1000:.0f} ms after the kill; the revived region served again "
        f"{back_after * 1000:.0f} ms after it came back, after its {up} passing checks"
    )


def test_every_pool_down_sends_traffic_to_the_fallback_region(w: EdgeWorld) -> None:
    east, west = w.region("us-east1", NEAR), w.region("europe-west1", FAR)
    w.cp.set_services([service_config([west, east], fallback_region="us-east1")])
    edge = w.edge()
    wait_served_by(edge, "us-east1", within=5)
    east.healthy = west.healthy = False
    wait_for(lambda: pool_status(edge, "us-east1") == "DOWN", within=5, what="us-east1 down")
    wait_for(lambda: pool_status(edge, "europe-west1") == "DOWN", within=5, what="europe-west1 down")

    replies = [get(edge) for _ in range(10)]
    assert {(r.status, served_by(r), r.headers["x-taxiway-pool"]) for r in replies} == {
        (200, "us-east1", "fallback.us-east1")
    }

    def via_fallback() -> bool:
        body = w.cp.latest()
        return body is not None and body["services"][0]["via_fallback"] is True

    wait_for(via_fallback, within=5, what="the report to say the fallback serves")
    west.healthy = True
    wait_served_by(edge, "europe-west1", within=5)


def test_without_the_control_plane_the_pop_keeps_routing_and_restarts_from_its_cache(w: EdgeWorld) -> None:
    far, near = w.region("us-east1", FAR), w.region("europe-west1", NEAR)
    w.cp.set_services([service_config([far, near])])
    edge = w.edge()
    wait_served_by(edge, "europe-west1", within=5)
    port, pid = edge.addresses.listen.port, edge.haproxy.master_pid()

    w.cp.stop()
    wait_for(lambda: not edge.puller.reachable, within=5, what="the edge to notice")
    assert [served_by(get(edge)) for _ in range(10)] == ["europe-west1"] * 10

    edge.stop()  # SIGTERM: the edge goes, HAProxy stays
    assert served_by(get(edge)) == "europe-west1"
    adopted = w.edge()  # same state directory, control plane still down
    assert (adopted.addresses.listen.port, adopted.haproxy.master_pid()) == (port, pid)
    assert adopted.controller.reloads == 0, "adopting a running HAProxy must not reload it"
    assert served_by(get(adopted)) == "europe-west1"

    adopted.stop()
    adopted.haproxy.stop(graceful=False)  # the machine rebooted: HAProxy is gone too
    assert get(adopted).error is not None
    restarted = w.edge()
    assert restarted.addresses.listen.port == port
    assert served_by(get(restarted)) in {"us-east1", "europe-west1"}  # the cache, failover order first
    wait_served_by(restarted, "europe-west1", within=5)

    w.cp.start()  # it comes back, on the same port, with a change
    third = w.region("asia-northeast3", NEAR)
    version = w.cp.set_services([service_config([far, near, third])])
    wait_for(
        lambda: restarted.controller.applied is not None and restarted.controller.applied.version == version,
        within=5,
        what="the new config",
    )
    assert "asia-northeast3" in restarted.haproxy.api.servers("hello")


def test_a_config_change_under_load_is_a_hitless_reload(w: EdgeWorld) -> None:
    far, near = w.region("us-east1", FAR), w.region("europe-west1", NEAR)
    w.cp.set_services([service_config([far, near])])
    edge = w.edge()
    wait_served_by(edge, "europe-west1", within=5)
    with Load(edge) as load:
        load.wait_count(30)
        # failover steering: the manifest's order, whatever the PoP measures
        w.cp.set_services([service_config([far, near], steering="failover")])
        mark = len(load.replies)
        wait_for(
            lambda: sum(served_by(r) == "us-east1" for r in load.replies[mark:]) >= 30,
            within=5,
            what="the manifest's first region to serve",
        )
    assert load.failures() == []
    assert served_by(load.replies[0]) == "europe-west1"
    assert served_by(load.replies[-1]) == "us-east1"


def test_the_health_endpoint_is_blocked_at_the_pop_but_not_for_its_monitors(w: EdgeWorld) -> None:
    east = w.region("us-east1")
    w.cp.set_services([service_config([east], block_health_endpoint=True)])
    edge = w.edge()
    wait_served_by(edge, "us-east1", within=5)
    for path in ("/health", "/health?x=1", "/%68ealth"):
        blocked = get(edge, path)
        assert (blocked.status, blocked.headers.get("x-taxiway-pop")) == (404, "iad"), path
    assert east.public["GET", "/health"] == 0
    checks = east.requests("/health")
    wait_for(lambda: east.requests("/health") > checks, within=5, what="monitor checks to go on")
    assert pool_status(edge, "us-east1") == "UP"
    assert get(edge, "/healthz").status == 200
    unknown = get(edge, host=f"other.{HOST.split('.', 1)[1]}")
    assert (unknown.status, unknown.body) == (404, "unknown service")


def test_pop_metrics_parse_with_prometheus_client(w: EdgeWorld) -> None:
    east, west = w.region("us-east1"), w.region("europe-west1")
    w.cp.set_services([service_config([east, west])])
    edge = w.edge()
    wait_for(lambda: pool_status(edge, "europe-west1") == "UP", within=5, what="both pools up")
    get(edge)
    reply = request(edge.addresses.metrics.port, "localhost", "/metrics")
    families = {family.name: family for family in text_string_to_metric_families(reply.body)}
    checks = families["haproxy_server_check_duration_seconds"].samples
    assert sorted(s.labels["server"] for s in checks if s.labels["proxy"] == "hello") == [
        "europe-west1",
        "us-east1",
    ]
    assert any(
        s.labels.get("proxy") == "hello" and s.value >= 1
        for s in families["haproxy_backend_http_responses"].samples
    )


def test_glb_status_shows_each_pop_pools_in_order_with_health_rtt_and_who_serves(w: EdgeWorld) -> None:
    far, near = w.region("us-east1", FAR), w.region("europe-west1", NEAR)
    w.cp.set_services([service_config([far, near])])
    edge = w.edge()
    wait_served_by(edge, "europe-west1", within=5)

    def reported_in_order() -> bool:
        body = w.cp.latest()
        return body is not None and [p["region"] for p in body["services"][0]["pools"]] == [
            "europe-west1",
            "us-east1",
        ]

    wait_for(reported_in_order, within=5, what="the steered order to be reported")
    runner = CliRunner()
    env = {"TAXIWAY_TOKEN": w.cp.token, "TAXIWAY_CONFIG": str(w.root / "none.yaml")}
    as_json = runner.invoke(edge_commands.glb, ["status", "hello", "--json", "--url", w.cp.url], env=env)
    assert as_json.exit_code == 0, as_json.output
    import json

    [entry] = json.loads(as_json.output)
    assert (entry["pop"], entry["service"], entry["serving"], entry["stale"]) == (
        "iad",
        "hello",
        "europe-west1",
        False,
    )
    assert [p["region"] for p in entry["pools"]] == ["europe-west1", "us-east1"]
    assert all(p["healthy"] and p["rtt_ms"] is not None for p in entry["pools"])

    table = runner.invoke(edge_commands.glb, ["status", "--url", w.cp.url], env=env)
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0] == "hello (dynamic_latency, fallback us-east1)"
    assert lines[1].split() == ["POP", "ORDER", "POOL", "HEALTH", "RTT", "SERVING", "REPORTED"]
    assert lines[2].split()[:4] == ["iad", "1", "europe-west1", "up"]
    assert "yes" in lines[2].split()
    assert lines[3].split()[:3] == ["2", "us-east1", "up"]
    print("\n" + table.output)
    assert REGION_HEADER  # the regions answered with their header throughout


def test_an_haproxy_that_died_is_started_again_on_the_current_config(w: EdgeWorld) -> None:
    east = w.region("us-east1")
    w.cp.set_services([service_config([east])])
    edge = w.edge()
    wait_served_by(edge, "us-east1", within=5)
    wait_for(lambda: edge.controller.applied is not None, within=5, what="the config to be applied")

    def processes() -> answers.Processes | None:
        try:  # the master CLI may be between two lives right after a reload
            return edge.haproxy.processes()
        except TaxiwayError:
            return None

    procs = wait_for(processes, within=5, what="the master CLI")
    for pid in (procs.master, *procs.workers):
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: edge.haproxy.master_pid() not in (None, procs.master), within=10, what="a new HAProxy")
    wait_served_by(edge, "us-east1", within=5)

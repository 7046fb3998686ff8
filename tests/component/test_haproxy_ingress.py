"""A real HAProxy region ingress in front of loopback origins, driven through its runtime API.

Each test starts the ingress under a fresh short state directory; the ``scene`` fixture
stops it and fails the test if any HAProxy process survives. Traffic is bounded
sequential requests on fresh connections, and every failed one is counted.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from taxiway.haproxy import membership, process
from taxiway.haproxy.errors import ServerBusy
from taxiway.plan.edge import rtt
from taxiway.plan.haproxy import config
from tests.fixtures.haproxy_world import Origin, Reply, World, request, world
from tests.fixtures.sockets import free_port
from tests.fixtures.waiting import wait_for

LOCAL = "127.0.0.1"
DOMAIN = "example.test"
FAST_CHECK = config.InstanceCheck(path="/ready", interval=0.2, timeout=1.0, rise=1, fall=2)


@pytest.fixture
def scene() -> Iterator[World]:
    with world() as created:
        yield created


class Ingress:
    """One started ingress and what a test needs to talk to it."""

    def __init__(self, scene: World, services: dict[str, list[Origin]]) -> None:
        self.port = free_port()
        self.metrics_port = free_port()
        self.proxy = scene.haproxy("ingress")
        self.services = services
        self.proxy.apply(self.render())
        self.api = self.proxy.api

    def render(self, services: dict[str, list[Origin]] | None = None) -> str:
        chosen = self.services if services is None else services
        return config.render(
            config.Ingress(
                region="us-east1",
                domain=DOMAIN,
                bind=config.Endpoint(LOCAL, self.port),
                control=self.proxy.layout.control(config.Endpoint(LOCAL, self.metrics_port)),
                services=tuple(
                    config.IngressService(name, tuple(instance(o) for o in origins), FAST_CHECK)
                    for name, origins in chosen.items()
                ),
            )
        )

    def get(self, service: str, path: str = "/", **headers: str) -> Reply:
        return request(self.port, f"{service}.{DOMAIN}", path, headers=headers)

    def wait_up(self, backend: str, *servers: str) -> None:
        def all_up() -> bool:
            rows = self.api.servers(backend)
            return all(name in rows and rows[name].status == "UP" for name in servers)

        wait_for(all_up, within=10, what=f"{servers} UP in {backend}")


def instance(origin: Origin) -> config.Instance:
    return config.Instance(origin.name, origin.port)


def test_routes_by_host_and_by_the_service_header(scene: World) -> None:
    alpha, beta = scene.origin("alpha-0"), scene.origin("beta-0")
    ingress = Ingress(scene, {"alpha": [alpha], "beta": [beta]})
    ingress.wait_up("alpha", "alpha-0")
    ingress.wait_up("beta", "beta-0")

    reply = ingress.get("alpha")
    assert (reply.status, reply.body, reply.headers["x-taxiway-region"]) == (200, "alpha-0", "us-east1")
    assert request(ingress.port, f"ALPHA.{DOMAIN}:{ingress.port}").body == "alpha-0"
    assert ingress.get("alpha", **{"X-Taxiway-Service": "beta"}).body == "beta-0"
    unknown = ingress.get("gamma")
    assert (unknown.status, unknown.body, unknown.headers["x-taxiway-region"]) == (
        404,
        "unknown service",
        "us-east1",
    )


def test_membership_changes_through_the_runtime_api_drop_no_request(scene: World) -> None:
    a, b = scene.origin("hello-production-r1-0"), scene.origin("hello-production-r2-0")
    ingress = Ingress(scene, {"hello": [a]})
    ingress.wait_up("hello", a.name)
    replies: list[Reply] = []

    def converge(wanted: list[Origin], since: dict[str, float]) -> list[membership.Action]:
        actions = membership.plan(
            [instance(o) for o in wanted],
            membership.observe(ingress.api, "hello"),
            draining_since=since,
            now=0.0,
            grace=30.0,
        )
        membership.apply(ingress.api, "hello", FAST_CHECK, actions)
        return actions

    replies += [ingress.get("hello") for _ in range(20)]
    assert {r.body for r in replies} == {a.name}

    assert converge([a, b], {}) == [membership.Add(instance(b))]
    assert ingress.api.show_servers_state("hello")[-1].server == b.name
    added = [ingress.get("hello") for _ in range(40)]
    assert Counter(r.body for r in added).keys() == {a.name, b.name}

    assert converge([b], {}) == [membership.Drain(a.name)]
    drained = [ingress.get("hello") for _ in range(40)]
    assert {r.body for r in drained} == {b.name}

    assert converge([b], {a.name: 0.0}) == [membership.Remove(a.name)]
    assert set(ingress.api.servers("hello")) == {b.name}
    assert converge([b], {}) == []
    after = [ingress.get("hello") for _ in range(20)]

    everything = replies + added + drained + after
    assert [r for r in everything if not r.ok] == []
    assert {r.body for r in after} == {b.name}


def test_a_drained_server_finishes_its_running_request_before_it_can_be_deleted(scene: World) -> None:
    a, b = scene.origin("slow-0"), scene.origin("fast-0")
    ingress = Ingress(scene, {"hello": [a]})
    ingress.wait_up("hello", a.name)
    slow: list[Reply] = []
    running = threading.Thread(target=lambda: slow.append(ingress.get("hello", "/slow?seconds=2")))
    running.start()
    wait_for(lambda: ingress.api.current_sessions("hello", a.name) == 1, within=5, what="the slow request")

    ingress.api.add_server("hello", b.name, LOCAL, b.port, config.instance_options(FAST_CHECK, instance(b)))
    ingress.api.set_server_state("hello", a.name, "drain")
    during = [ingress.get("hello") for _ in range(10)]
    assert {r.body for r in during} == {b.name}
    assert ingress.api.current_sessions("hello", a.name) == 1

    ingress.api.set_server_state("hello", a.name, "maint")
    with pytest.raises(ServerBusy):
        ingress.api.del_server("hello", a.name)
    running.join(timeout=10)
    assert [(r.status, r.body) for r in slow] == [(200, a.name)]

    # The finished request left an idle connection on a server already in maintenance;
    # membership.remove purges it and deletes the server at once.
    membership.apply(ingress.api, "hello", FAST_CHECK, [membership.Remove(a.name)])
    assert set(ingress.api.servers("hello")) == {b.name}


def test_show_stat_reports_check_results_and_durations(scene: World) -> None:
    a, b = scene.origin("i-0"), scene.origin("i-1")
    b.healthy = False
    ingress = Ingress(scene, {"hello": [a, b]})
    ingress.wait_up("hello", a.name)

    def checked() -> bool:
        rows = ingress.api.servers("hello")
        return rows[b.name].status == "DOWN" and rows[a.name].check_duration_ms is not None

    wait_for(checked, within=10, what="both servers checked")
    rows = ingress.api.servers("hello")
    assert (rows[a.name].check_status, rows[a.name].check_code, rows[a.name].check_passed) == (
        "L7OK",
        200,
        True,
    )
    assert (rows[b.name].check_status, rows[b.name].check_code, rows[b.name].check_passed) == (
        "L7STS",
        503,
        False,
    )
    duration = rows[a.name].check_duration_ms
    assert duration is not None
    assert 0 <= duration < 1000
    assert rtt.sample(rows) == {a.name: float(duration)}
    assert a.requests("/ready") >= 1


def test_prometheus_exporter_answers_metrics_that_parse(scene: World) -> None:
    a = scene.origin("i-0")
    ingress = Ingress(scene, {"hello": [a]})
    ingress.wait_up("hello", a.name)
    assert ingress.get("hello").ok
    reply = request(ingress.metrics_port, "localhost", "/metrics")
    assert reply.status == 200
    families = {family.name: family for family in text_string_to_metric_families(reply.body)}
    assert "haproxy_process_start_time_seconds" in families
    statuses = {
        (s.labels["proxy"], s.labels["server"], s.labels["state"]): s.value
        for s in families["haproxy_server_status"].samples
    }
    assert statuses["hello", a.name, "UP"] == 1.0
    assert any(s.labels.get("proxy") == "hello" for s in families["haproxy_backend_http_requests"].samples)
    assert request(ingress.metrics_port, "localhost", "/other").status == 404


@pytest.mark.slow
def test_a_reload_keeps_server_state_and_drops_no_request(scene: World) -> None:
    a, b = scene.origin("i-0"), scene.origin("i-1")
    ingress = Ingress(scene, {"hello": [a, b]})
    ingress.wait_up("hello", a.name, b.name)
    ingress.api.set_server_state("hello", a.name, "drain")
    before = ingress.proxy.processes()

    replies: list[Reply] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set() and len(replies) < 5000:
            replies.append(ingress.get("hello"))

    loader = threading.Thread(target=load)
    loader.start()
    try:
        wait_for(lambda: len(replies) >= 50, within=10, what="load before the reload")
        c = scene.origin("i-2")
        assert ingress.proxy.apply(ingress.render({"hello": [a, b, c], "other": [c]})) == "reloaded"
        mark = len(replies)
        wait_for(lambda: len(replies) >= mark + 100, within=10, what="load after the reload")
    finally:
        stop.set()
        loader.join(timeout=15)

    after = ingress.proxy.processes()
    assert after.reloads == before.reloads + 1
    assert set(after.workers).isdisjoint(before.workers)
    states = {s.server: s for s in ingress.api.show_servers_state("hello")}
    assert states[a.name].draining
    assert not states[b.name].draining
    assert [r for r in replies if not r.ok] == []
    assert a.name not in {r.body for r in replies}
    wait_for(lambda: not process.alive(before.workers[0]), within=15, what="the old worker to leave")

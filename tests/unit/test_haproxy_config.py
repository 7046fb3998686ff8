"""Rendering ingress and edge configs: the exact text for small inputs, and no injection.

That each rendered config is accepted by HAProxy itself (``haproxy -c``, no warnings) is
checked in ``tests/component/test_haproxy_config_check.py``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from taxiway.plan.haproxy import config, tokens
from taxiway.plan.haproxy.tokens import UnsafeValue
from taxiway.spec import manifest

CONTROL = config.Control(
    stats_socket=Path("/run/tw/admin.sock"),
    server_state_file=Path("/run/tw/server-state"),
    metrics=config.Endpoint("127.0.0.1", 9101),
)

GLOBAL_AND_DEFAULTS = """\
global
    master-worker
    mworker-max-reloads 50
    hard-stop-after 30s
    stats socket /run/tw/admin.sock mode 600 level admin expose-fd listeners
    stats timeout 30s
    server-state-file /run/tw/server-state

defaults
    mode http
    log global
    option dontlognull
    option forwardfor
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    timeout http-keep-alive 5s
    timeout queue 5s
    load-server-state-from-file global
"""

TRAILER = """
backend be_unknown
    http-request return status 404 content-type text/plain string "unknown service"

frontend fe_metrics
    bind 127.0.0.1:9101
    no log
    http-request use-service prometheus-exporter if { path /metrics }
    http-request return status 404
"""


def ingress(**changes: Any) -> config.Ingress:
    base = config.Ingress(
        region="us-east1",
        domain="example.test",
        bind=config.Endpoint("127.0.0.1", 8080),
        control=CONTROL,
        services=(
            config.IngressService(
                "hello",
                (
                    config.Instance("hello-production-r3-0", 41001),
                    config.Instance("hello-production-r3-1", 41002),
                ),
                config.InstanceCheck(path="/ready"),
            ),
        ),
    )
    return replace(base, **changes)


def edge(**changes: Any) -> config.Edge:
    service = config.EdgeService(
        "hello",
        pools=(
            config.Pool("us-east1", "127.0.0.1", 8081),
            config.Pool("europe-west1", "127.0.0.1", 8082),
            config.Pool("asia-northeast3", "127.0.0.1", 8083),
        ),
        monitor=config.Monitor(
            protocol="http", path="/health", interval=5.0, timeout=2.0, consecutive_down=2
        ),
        fallback=config.Pool("us-east1", "127.0.0.1", 8081),
        block_health_endpoint=True,
    )
    base = config.Edge(
        pop="iad",
        domain="example.test",
        bind=config.Endpoint("127.0.0.1", 8000),
        control=CONTROL,
        services=(service,),
    )
    return replace(base, **changes)


def test_ingress_renders_exactly() -> None:
    assert config.render(ingress()) == GLOBAL_AND_DEFAULTS + (
        """
frontend fe_main
    bind 127.0.0.1:8080
    http-request set-var(txn.host) req.hdr(host),field(1,:),lower
    http-request set-var(txn.service) req.hdr(X-Taxiway-Service),lower
    use_backend hello if { var(txn.service) -m str hello }
    use_backend hello if { var(txn.host) -m str hello.example.test }
    default_backend be_unknown
    http-after-response set-header X-Taxiway-Region us-east1

backend hello
    balance leastconn
    retries 3
    retry-on conn-failure empty-response
    option redispatch 1
    acl idempotent method GET HEAD OPTIONS TRACE PUT DELETE
    http-request disable-l7-retry unless idempotent
    timeout check 1s
    option httpchk
    http-check send meth GET uri /ready ver HTTP/1.1 hdr Host hello.example.test hdr User-Agent \
Taxiway-check/1
    server hello-production-r3-0 127.0.0.1:41001 check inter 2s rise 1 fall 2 observe layer4 error-limit 1 \
on-error mark-down weight 100
    server hello-production-r3-1 127.0.0.1:41002 check inter 2s rise 1 fall 2 observe layer4 error-limit 1 \
on-error mark-down weight 100
"""
        + TRAILER
    )


def test_edge_renders_exactly() -> None:
    check = "check inter 5s rise 1 fall 2 observe layer4 error-limit 1 on-error mark-down"
    assert config.render(edge()) == GLOBAL_AND_DEFAULTS + (
        f"""
frontend fe_main
    bind 127.0.0.1:8000
    http-request set-var(txn.host) req.hdr(host),field(1,:),lower
    acl host_hello var(txn.host) -m str hello.example.test
    http-request deny deny_status 404 if host_hello {{ path,url_dec,lower -m reg \
^/+(?:[.]/+)*health(?:/+[.]?)*$ }}
    use_backend hello if host_hello
    default_backend be_unknown
    http-after-response set-header X-Taxiway-Pop iad

backend hello
    balance roundrobin
    retries 4
    retry-on conn-failure empty-response response-timeout
    option redispatch 1
    acl idempotent method GET HEAD OPTIONS TRACE PUT DELETE
    http-request disable-l7-retry unless idempotent
    http-request set-header X-Taxiway-Service hello
    http-response set-header X-Taxiway-Pool %s
    timeout check 2s
    option httpchk
    http-check send meth GET uri /health ver HTTP/1.1 hdr Host hello.example.test \
hdr X-Taxiway-Service hello hdr User-Agent Taxiway-check/1
    http-check expect status 200-299
    server us-east1 127.0.0.1:8081 {check}
    server europe-west1 127.0.0.1:8082 {check} backup
    server asia-northeast3 127.0.0.1:8083 {check} backup
    server fallback.us-east1 127.0.0.1:8081 backup
"""
        + TRAILER
    )


def test_pool_order_is_the_order_of_server_lines() -> None:
    service = edge().services[0]
    reordered = replace(service, pools=(service.pools[2], service.pools[0], service.pools[1]))
    text = config.render(edge(services=(reordered,)))
    servers = [line.split() for line in text.splitlines() if line.startswith("    server ")]
    assert [(words[1], words[-1]) for words in servers] == [
        ("asia-northeast3", "mark-down"),
        ("us-east1", "backup"),
        ("europe-west1", "backup"),
        ("fallback.us-east1", "backup"),
    ]


def test_tcp_monitor_is_a_plain_check_and_no_block_rule_without_the_flag() -> None:
    service = replace(
        edge().services[0], monitor=config.Monitor(), block_health_endpoint=False, fallback=None
    )
    text = config.render(edge(services=(service,)))
    assert "httpchk" not in text
    assert "http-check" not in text
    assert "deny" not in text
    assert "fallback" not in text
    assert "    server us-east1 127.0.0.1:8081 check inter 10s rise 1 fall 1 observe layer4" in text


def test_https_monitor_verifies_the_pool_certificate_against_the_service_name() -> None:
    service = replace(edge().services[0], monitor=config.Monitor(protocol="https", expected_codes="2xx,301"))
    text = config.render(edge(services=(service,)))
    assert "check-ssl check-sni hello.example.test verify required ca-file @system-ca" in text
    assert "    http-check expect status 200-299,301" in text


def test_block_rule_compares_the_path_without_its_query() -> None:
    service = replace(edge().services[0], monitor=config.Monitor(protocol="http", path="/healthz?deep=1"))
    text = config.render(edge(services=(service,)))
    assert "if host_hello { path,url_dec,lower -m reg ^/+(?:[.]/+)*healthz(?:/+[.]?)*$ }" in text
    assert "uri /healthz?deep=1 ver HTTP/1.1" in text


def test_retries_leave_room_to_walk_past_every_pool() -> None:
    service = edge().services[0]
    five = replace(service, pools=tuple(config.Pool(f"region{n}", "127.0.0.1", 8100 + n) for n in range(5)))
    assert "    retries 6" in config.render(edge(services=(five,)))


def test_ingress_without_readiness_path_checks_tcp_and_empty_services_render() -> None:
    text = config.render(
        ingress(
            services=(
                config.IngressService("hello", (config.Instance("i-1", 41001),)),
                config.IngressService("quiet"),
            )
        )
    )
    assert "httpchk" not in text
    assert "    server i-1 127.0.0.1:41001 check inter 2s" in text
    assert "\nbackend quiet\n" in text


def test_metrics_frontend_and_stderr_log_are_optional() -> None:
    text = config.render(ingress(control=replace(CONTROL, metrics=None, log_to_stderr=True)))
    assert "prometheus-exporter" not in text
    assert "    log stderr format short local0 notice\n" in text


def test_ipv6_addresses_are_bracketed() -> None:
    text = config.render(
        ingress(
            bind=config.Endpoint("::1", 8080),
            services=(config.IngressService("a", (config.Instance("i", 5, "::1"),)),),
        )
    )
    assert "    bind [::1]:8080\n" in text
    assert "    server i [::1]:5 check" in text


def test_instance_options_are_what_the_config_declares() -> None:
    service = ingress().services[0]
    line = next(line for line in config.render(ingress()).splitlines() if line.startswith("    server "))
    assert line.split()[3:] == list(config.instance_options(service.check, service.instances[0]))


def test_monitor_from_manifest() -> None:
    monitor = manifest.Monitor.model_validate(
        {
            "protocol": "http",
            "path": "/up",
            "interval": "15s",
            "timeout": "500ms",
            "consecutive_up": 2,
            "consecutive_down": 3,
            "expected_codes": "2xx,304",
        }
    )
    assert config.Monitor.from_manifest(monitor) == config.Monitor(
        protocol="http",
        path="/up",
        interval=15.0,
        timeout=0.5,
        consecutive_up=2,
        consecutive_down=3,
        expected_codes="2xx,304",
    )


@pytest.mark.parametrize(
    ("seconds", "rendered"), [(2, "2s"), (2.0, "2s"), (0.25, "250ms"), (1.5, "1500ms"), (0.001, "1ms")]
)
def test_durations(seconds: float, rendered: str) -> None:
    assert tokens.duration(seconds) == rendered


def test_expected_codes() -> None:
    assert tokens.expected_codes("2xx") == "200-299"
    assert tokens.expected_codes("200,3xx,404") == "200,300-399,404"


INJECTIONS = [
    "hello\nfrontend evil",
    "hello world",
    "hello#",
    'hel"lo',
    "hel'lo",
    "hel\\lo",
    "${HOME}",
    "hello;show",
    "Hello",
    "",
]


@pytest.mark.parametrize("name", INJECTIONS)
def test_service_names_that_could_inject_are_rejected(name: str) -> None:
    with pytest.raises(UnsafeValue):
        config.render(ingress(services=(config.IngressService(name),)))
    with pytest.raises(UnsafeValue):
        config.render(edge(services=(replace(edge().services[0], name=name),)))


@pytest.mark.parametrize(
    "bad",
    [
        {"region": "us-east1 #"},
        {"region": "us-east1\nglobal"},
        {"domain": "example.test }"},
        {"domain": 'ex"ample.test'},
        {"bind": config.Endpoint("localhost", 8080)},
        {"bind": config.Endpoint("127.0.0.1 ", 8080)},
        {"bind": config.Endpoint("127.0.0.1", 0)},
        {"bind": config.Endpoint("127.0.0.1", 70000)},
        {"bind": config.Endpoint("127.0.0.1", True)},
        {"control": replace(CONTROL, stats_socket=Path("/run/tw/admin sock"))},
        {"control": replace(CONTROL, stats_socket=Path("/run/" + "x" * 120 + "/admin.sock"))},
        {"control": replace(CONTROL, server_state_file=Path("relative/state"))},
        {"control": replace(CONTROL, hard_stop_after=math.nan)},
        {"timeouts": config.Timeouts(connect=0)},
        {"timeouts": config.Timeouts(server=-1)},
        {"timeouts": config.Timeouts(client=1e12)},
    ],
)
def test_ingress_fields_that_could_inject_are_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(UnsafeValue):
        config.render(ingress(**bad))


@pytest.mark.parametrize(
    "instance",
    [
        config.Instance("i;del server", 41001),
        config.Instance("i 1", 41001),
        config.Instance("-i", 41001),
        config.Instance("i:1", 41001),
        config.Instance("i", 41001, host="10.0.0.1 backup"),
        config.Instance("i", 41001, weight=257),
    ],
)
def test_instances_that_could_inject_are_rejected(instance: config.Instance) -> None:
    with pytest.raises(UnsafeValue):
        config.render(ingress(services=(config.IngressService("hello", (instance,)),)))


@pytest.mark.parametrize(
    "monitor",
    [
        config.Monitor(protocol="http", path="/health ver HTTP/1.0"),
        config.Monitor(protocol="http", path="/health#x"),
        config.Monitor(protocol="http", path='/health"'),
        config.Monitor(protocol="http", path="/$x"),
        config.Monitor(protocol="http", path="health"),
        config.Monitor(protocol="http", expected_codes="2xx or 5xx"),
        config.Monitor(protocol="http", expected_codes="600"),
        config.Monitor(consecutive_up=0),
        config.Monitor(consecutive_down=101),
        config.Monitor(interval=0),
        config.Monitor(protocol="udp"),  # type: ignore[arg-type]
    ],
)
def test_monitors_that_could_inject_are_rejected(monitor: config.Monitor) -> None:
    with pytest.raises(UnsafeValue):
        config.render(edge(services=(replace(edge().services[0], monitor=monitor),)))


def test_pools_must_be_named_once_and_exist() -> None:
    service = edge().services[0]
    with pytest.raises(UnsafeValue, match="appears twice"):
        config.render(edge(services=(replace(service, pools=(service.pools[0], service.pools[0])),)))
    with pytest.raises(UnsafeValue, match="no pools"):
        config.render(edge(services=(replace(service, pools=()),)))
    with pytest.raises(UnsafeValue):
        config.render(edge(pop="IAD"))


def test_services_and_instances_must_be_unique() -> None:
    with pytest.raises(UnsafeValue, match="appears twice"):
        config.render(ingress(services=(config.IngressService("a"), config.IngressService("a"))))
    instance = config.Instance("i", 41001)
    with pytest.raises(UnsafeValue, match="appears twice"):
        config.render(ingress(services=(config.IngressService("a", (instance, instance)),)))

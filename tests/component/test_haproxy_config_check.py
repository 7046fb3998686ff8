"""Every shape of rendered config passes ``haproxy -c`` with no warning at all.

A warning is treated as a failure: HAProxy warns about directives it ignores or reads
differently than written, and a config Taxiway renders should mean exactly what it says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from taxiway.haproxy import layout, process
from taxiway.haproxy.errors import ConfigRejected
from taxiway.plan.haproxy import config
from tests.fixtures.haproxy_world import world

LOCAL = "127.0.0.1"


def _ingress(control: config.Control) -> config.Ingress:
    return config.Ingress(
        region="europe-west1",
        domain="example.test",
        bind=config.Endpoint(LOCAL, 18080),
        control=control,
        services=(
            config.IngressService(
                "hello",
                (
                    config.Instance("hello-production-r3-0", 41001),
                    config.Instance("hello-production-r3-1", 41002, "::1"),
                ),
                config.InstanceCheck(path="/ready?deep=1", interval=0.5, timeout=0.25, rise=2, fall=3),
            ),
            config.IngressService("tcp-checked", (config.Instance("t-0", 41003, weight=0),)),
            config.IngressService("empty"),
        ),
    )


def _edge(control: config.Control) -> config.Edge:
    pools = (
        config.Pool("us-east1", LOCAL, 18081),
        config.Pool("europe-west1", LOCAL, 18082),
        config.Pool("asia-northeast3", "::1", 18083),
    )
    return config.Edge(
        pop="fra",
        domain="example.test",
        bind=config.Endpoint("::1", 18000),
        control=control,
        services=(
            config.EdgeService(
                "hello",
                pools,
                config.Monitor(
                    protocol="http", path="/health", interval=1.0, timeout=0.5, expected_codes="2xx,301"
                ),
                fallback=pools[0],
                block_health_endpoint=True,
            ),
            config.EdgeService("plain", pools[1:], config.Monitor()),
            config.EdgeService("secure", pools[:1], config.Monitor(protocol="https", path="/up?x=1")),
        ),
    )


SHAPES: dict[str, Callable[[config.Control], config.Ingress | config.Edge]] = {
    "ingress": _ingress,
    "ingress without services": lambda control: replace(_ingress(control), services=()),
    "ingress with stderr log, no metrics": lambda control: replace(
        _ingress(control), control=replace(control, metrics=None, log_to_stderr=True)
    ),
    "ingress with a check path per server": lambda control: replace(
        _ingress(control), check_map=control.server_state_file.with_name("checks.map")
    ),
    "edge": _edge,
    "edge without services": lambda control: replace(_edge(control), services=()),
    "edge with a monitor path per pool": lambda control: replace(
        _edge(control), monitor_map=control.server_state_file.with_name("monitors.map")
    ),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_rendered_config_passes_haproxy_check_without_warnings(shape: str) -> None:
    with world() as scene:
        proxy = scene.haproxy("check")
        proxy.prepare()
        control = proxy.layout.control(config.Endpoint(LOCAL, 18099))
        path = proxy.layout.state_dir / "candidate.cfg"
        rendered = SHAPES[shape](control)
        if isinstance(rendered, config.Ingress) and rendered.check_map is not None:
            rendered.check_map.write_text(config.check_map_text(config.check_paths(rendered)))
        if isinstance(rendered, config.Edge) and rendered.monitor_map is not None:
            rendered.monitor_map.write_text(config.check_map_text(config.monitor_paths(rendered)))
        path.write_text(config.render(rendered))
        assert proxy.check(path) == ()


def test_a_rejected_config_carries_haproxys_alert(tmp_path: Path) -> None:
    with world():
        proxy = process.Haproxy(layout.Layout(tmp_path))
        path = tmp_path / "bad.cfg"
        path.write_text("global\n    bogus-keyword 1\n")
        with pytest.raises(ConfigRejected, match="unknown keyword 'bogus-keyword'") as caught:
            proxy.check(path)
        assert any("bad.cfg:2" in alert for alert in caught.value.alerts)

"""The file_sd groups a satellite and the control plane write: the platform's labels on each."""

from __future__ import annotations

import json
from pathlib import Path

from taxiway.plan.observability import prometheus_config, scrape_targets


def test_regional_groups_carry_region_and_instances_their_identity() -> None:
    instance = scrape_targets.InstanceTarget(
        "hello", "production", None, "hello-production-r2-0", "127.0.0.1:5", "/m"
    )
    groups = scrape_targets.regional(
        "us-east1", ingress="127.0.0.1:1", request_log=None, satellite="127.0.0.1:3", instances=[instance]
    )
    assert groups[prometheus_config.REQUEST_LOG_JOB] == []  # absent, not an empty target
    assert groups[prometheus_config.INGRESS_JOB] == [
        {"targets": ["127.0.0.1:1"], "labels": {"region": "us-east1"}}
    ]
    (group,) = groups[prometheus_config.INSTANCES_JOB]
    assert group["labels"] == {
        "region": "us-east1",
        "service": "hello",
        "environment": "production",
        "revision": "none",
        "instance": "hello-production-r2-0",
        "__metrics_path__": "/m",
    }
    assert json.loads(scrape_targets.render(groups[prometheus_config.INSTANCES_JOB])) == [group]


def test_global_groups_name_each_pop() -> None:
    groups = scrape_targets.global_(
        [
            scrape_targets.PopTarget("icn", "127.0.0.1:9", None),
            scrape_targets.PopTarget("fra", "127.0.0.1:8", "127.0.0.1:7"),
        ]
    )
    assert [g["labels"]["pop"] for g in groups[prometheus_config.POPS_JOB]] == ["fra", "icn"]
    assert groups[prometheus_config.EDGES_JOB] == [{"targets": ["127.0.0.1:7"], "labels": {"pop": "fra"}}]


def test_regional_config_remote_writes_only_the_request_series() -> None:
    config = prometheus_config.Regional("us-east1", Path("/x"), remote_write="http://g/api/v1/write")
    document = prometheus_config.regional(config)
    (write,) = document["remote_write"]
    (keep,) = write["write_relabel_configs"]
    assert keep["action"] == "keep"
    assert "taxiway_ingress_requests_total" in keep["regex"]
    standalone = prometheus_config.regional(prometheus_config.Regional("us-east1", Path("/x")))
    assert "remote_write" not in standalone
    assert "alerting" not in standalone

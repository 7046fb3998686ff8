"""Which monitor path each PoP pool is checked on: the one of the revision its region serves.

Pure: the control plane's :func:`taxiway.server.glb.pop_config` over records made here,
then the PoP's side (parse, translate, render) of the same answer. The real path, with
HAProxy at both tiers and a failed deploy under load, is tests/e2e/test_failed_deploy.py.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from taxiway.edge import translate
from taxiway.plan.edge import popconfig
from taxiway.plan.haproxy import config
from taxiway.server import glb
from taxiway.store import records

REGIONS = ("us-east1", "europe-west1")
NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


def definition(path: str) -> dict[str, Any]:
    monitor = {"protocol": "http", "path": path, "interval": "2s", "timeout": "1s"}
    return {
        "spec": {
            "regions": list(REGIONS),
            "load_balancing": {
                "global": {"enabled": True, "monitor": monitor, "block_health_endpoint": True}
            },
        }
    }


def published(revision: int, path: str) -> list[records.Published]:
    return [
        records.Published(region, "hello", "production", revision, definition(path), seq)
        for seq, region in enumerate(REGIONS)
    ]


def status(region: str, *revisions: tuple[int, bool]) -> records.Status:
    instances = [{"id": f"i{n}", "revision": r, "in_rotation": up} for n, (r, up) in enumerate(revisions)]
    return records.Status(
        "hello", "production", {"revision": revisions[-1][0], "instances": instances}, region
    )


HEARTBEATS = {
    region: records.Heartbeat(region, NOW, 0, None, f"http://127.0.0.1:{9000 + n}")
    for n, region in enumerate(REGIONS)
}
OLD = {("hello", 1, region): definition("/health") for region in REGIONS}


def build(*statuses: records.Status) -> dict[str, Any]:
    return glb.pop_config(
        "iad", published(2, "/v2/health"), HEARTBEATS, statuses, lambda s, n, r: OLD.get((s, n, r))
    )


def pools(answer: dict[str, Any]) -> dict[str, str | None]:
    (service,) = answer["services"]
    return {pool["region"]: pool.get("monitor_path") for pool in service["pools"]}


def test_a_region_still_serving_the_old_revision_keeps_the_old_monitor_path() -> None:
    answer = build(
        status("us-east1", (1, True), (1, True), (2, False)),  # the new revision failed here
        status("europe-west1", (2, True), (2, True)),  # and made it there
    )
    assert answer["services"][0]["monitor"]["path"] == "/v2/health"
    assert pools(answer) == {"us-east1": "/health", "europe-west1": None}


def test_once_the_new_revision_is_in_rotation_its_path_applies() -> None:
    during = build(status("us-east1", (1, True), (2, True)), status("europe-west1", (2, True)))
    assert pools(during) == {"us-east1": None, "europe-west1": None}
    nothing = build()  # no report yet: nothing serves that a path could break
    assert pools(nothing) == {"us-east1": None, "europe-west1": None}


def test_the_version_changes_when_a_pool_path_does() -> None:
    failed = build(status("us-east1", (1, True), (2, False)))
    done = build(status("us-east1", (2, True)))
    assert failed["version"] != done["version"]


def test_the_pop_checks_each_pool_on_its_own_path() -> None:
    answer = build(status("us-east1", (1, True), (2, False)))
    parsed = popconfig.parse(answer, "iad")
    assert parsed.problems == ()
    (service,) = parsed.config.services
    assert [p.monitor_path for p in service.pools] == ["/health", None]
    assert popconfig.parse(parsed.config.to_json(), "iad").config == parsed.config, "the cache round trip"
    control = config.Control(stats_socket=config_path("admin.sock"), server_state_file=config_path("state"))
    frame = translate.Frame(
        "iad", "taxiway.test", config.Endpoint("127.0.0.1", 8000), control, monitor_map=config_path("m.map")
    )
    edge = translate.build(parsed.config, {}, frame).edge
    assert config.monitor_paths(edge) == {"hello/us-east1": "/health", "hello/europe-west1": "/v2/health"}
    text = config.render(edge)
    assert "http-check set-var(check.taxiway_pool) be_name,concat(/,check.taxiway_pool)" in text
    assert f"uri-lf %[var(check.taxiway_pool),map({config_path('m.map')},/v2/health)]" in text
    assert "hdr User-Agent Taxiway-check/1" in text
    assert (
        "path,url_dec,lower -m reg "
        + config.health_path_pattern("/health")
        + " "
        + config.health_path_pattern("/v2/health")
        in text
    ), "block_health_endpoint covers both paths"


def test_a_malformed_monitor_path_leaves_only_that_service_out() -> None:
    answer = build(status("us-east1", (1, True), (2, False)))
    answer["services"][0]["pools"][0]["monitor_path"] = "/bad path"
    parsed = popconfig.parse(answer, "iad")
    assert parsed.config.services == ()
    assert "monitor_path" in parsed.problems[0]


def config_path(name: str) -> Path:
    return Path("/run/taxiway-test") / name

"""Waiting for a revision in every region, in virtual time; and the small decisions around it."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from taxiway.client import http, nodes, regions, waiting
from taxiway.plan import readiness

REGIONS = ["asia-northeast3", "europe-west1", "us-east1"]


def report(revision: int, phase: str, ready: int = 0, wanted: int = 2, **extra: Any) -> dict[str, Any]:
    return {
        "revision": revision,
        "phase": phase,
        "desired_instances": wanted,
        "ready_instances": ready,
        "message": f"{ready}/{wanted} instances ready",
        "instances": [],
        **extra,
    }


def rows(**by_region: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"service": "hello", "environment": "production", "region": r, "report": rep, "reported_at": None}
        for r, rep in by_region.items()
    ]


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def scripted(answers: list[Any]) -> tuple[http.ControlPlane, list[str]]:
    """A control plane answering ``GET /v1/status`` from a script (the last answer repeats)."""
    asked: list[str] = []
    script: Iterator[Any] = iter(answers)
    last: list[Any] = []

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        answer = next(script, last[0] if last else [])
        last[:] = [answer]
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)

    return http.ControlPlane("http://cp.test", "twy_t", transport=httpx.MockTransport(handle)), asked


def wait(
    cp: http.ControlPlane, seen: list[readiness.Progress], clock: VirtualTime, timeout: float = 60
) -> Any:
    return waiting.wait_until_ready(
        cp,
        "hello",
        "production",
        3,
        REGIONS,
        timeout=timeout,
        on_progress=seen.append,
        clock=clock.clock,
        sleep=clock.sleep,
    )


def test_waits_through_older_revisions_and_progress_to_ready() -> None:
    cp, asked = scripted(
        [
            rows(**{"us-east1": report(2, "ready", 2)}),
            rows(**{r: report(3, "progressing", 1) for r in REGIONS}),
            httpx.Response(503, json={"code": "transient", "detail": "restarting"}),
            rows(**{r: report(3, "ready", 2) for r in REGIONS}),
        ]
    )
    seen: list[readiness.Progress] = []
    clock = VirtualTime()
    final = wait(cp, seen, clock)
    assert final.done
    assert [[r.state for r in p.regions] for p in seen] == [
        ["waiting", "waiting", "waiting"],
        ["progressing"] * 3,
        ["ready"] * 3,
    ]
    assert seen[0].regions[2].reported_revision == 2
    assert "service=hello" in asked[0]
    assert clock.now == 3.0  # one poll a second; no busy loop


def test_a_failed_region_ends_the_wait_with_its_instance_and_logs() -> None:
    instance = {
        "id": "hello-production-r3-0",
        "revision": 3,
        "datacenter": "us-east1-b",
        "node": "node-1",
        "state": "exited",
        "ready": False,
        "restarts": 3,
        "reason": "readiness probe GET /health: connection refused",
        "log_tail": ["Traceback (most recent call last):", "ImportError: no module named flask"],
    }
    old = dict(instance, id="hello-production-r2-0", revision=2, ready=True, reason=None, log_tail=[])
    failed = report(
        3, "failed", 0, message="hello-production-r3-0 crashed 3 times", instances=[old, instance]
    )
    cp, _ = scripted([rows(**{"us-east1": failed, "europe-west1": report(3, "ready", 2)})])
    with pytest.raises(waiting.RolloutFailed) as caught:
        wait(cp, [], VirtualTime())
    assert "us-east1" in str(caught.value)
    [region] = caught.value.progress.failed
    [culprit] = region.culprits
    assert culprit.id == "hello-production-r3-0"
    assert culprit.placement == "us-east1-b/node-1"
    assert culprit.log_tail[-1] == "ImportError: no module named flask"


def test_a_failure_of_an_older_revision_is_not_this_deploys() -> None:
    progress = readiness.assess(
        "hello", "production", 3, ["us-east1"], rows(**{"us-east1": report(2, "failed")})
    )
    assert [r.state for r in progress.regions] == ["waiting"]


def test_timeout_names_the_regions_not_ready() -> None:
    cp, _ = scripted(
        [rows(**{"us-east1": report(3, "ready", 2), "europe-west1": report(3, "progressing", 1)})]
    )
    clock = VirtualTime()
    with pytest.raises(waiting.RolloutTimedOut) as caught:
        wait(cp, [], clock, timeout=5)
    assert "not ready: asia-northeast3, europe-west1" in str(caught.value)
    assert clock.now == 5.0


@pytest.mark.parametrize("text", ["us-east1", "us-east1/us-east1-b", "a/b/c/d", "US/x/y", "a//b", ""])
def test_node_refs_must_have_three_parts(text: str) -> None:
    with pytest.raises(ValueError, match="REGION/DATACENTER/NODE"):
        nodes.NodeRef.parse(text)


def test_node_ref_parts() -> None:
    ref = nodes.NodeRef.parse("us-east1/us-east1-b/node-1")
    assert (ref.region, ref.datacenter, ref.node) == ("us-east1", "us-east1-b", "node-1")


def test_a_satellite_is_stale_after_three_silent_report_periods() -> None:
    now = datetime.datetime(2026, 11, 22, 10, 0, 0, tzinfo=datetime.UTC)

    def seen(seconds_ago: float, every: float = regions.REPORT_SECONDS) -> regions.Region:
        last = now - datetime.timedelta(seconds=seconds_ago)
        return regions.Region("us-east1", "americas", "local", last, 1, None, (), every)

    assert not seen(3 * regions.REPORT_SECONDS).stale(now)
    assert seen(3 * regions.REPORT_SECONDS + 0.1).stale(now)
    assert not seen(20, every=10).stale(now)
    never = regions.Region("us-east1", "americas", "local", None, None, None, ())
    assert not never.stale(now)

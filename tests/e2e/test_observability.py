"""Observability units in the dev world: every request counted by its region's Prometheus,
seen by the global one, and alerts that fire with the global stack and the control plane dead.

Real processes throughout: ``taxiway dev up`` starts the control plane, a satellite per
region (its ingress HAProxy, hello's instances and the request log sink), an edge per PoP,
a Prometheus per region, the global Prometheus and the Alertmanager. The test counts every
request it sends through the PoPs by the region that answered (``X-Taxiway-Region``) and
compares each regional Prometheus's counters and latency histogram with that count; then
it stops the dev supervisor (so nothing restarts what it kills), kills -9 the global
Prometheus and the control plane, injects errors into europe-west1's traffic, and expects
europe-west1's Prometheus to fire the page alert — and no other region's. Restarted, the
global Prometheus catches up on the errors it missed (remote write replays them) and the
control plane records the alert Alertmanager kept for it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from taxiway.client import http
from taxiway.client.prometheus_api import PrometheusApi
from taxiway.dev import private_file, processes
from taxiway.runtime import process
from tests.e2e.world import REGIONS, World, wait_for

pytestmark = [pytest.mark.slow]

HOST = "hello.taxiway.test"
NEAREST = {"iad": "us-east1", "fra": "europe-west1", "icn": "asia-northeast3"}
LOAD_PER_POP = 150
ERRORS = 120
SELECT = 'service="hello",environment="production"'


class Counted:
    """GETs through the PoPs, each counted by the region that answered it."""

    def __init__(self) -> None:
        self.client = httpx.Client(trust_env=False, timeout=10)
        self.answered: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()

    def get(self, pop_url: str, path: str = "/") -> tuple[int, str | None]:
        response = self.client.get(pop_url + path, headers={"Host": HOST})
        region = response.headers.get("X-Taxiway-Region")
        if region is not None:
            self.answered[region] += 1
            if response.status_code >= 500:
                self.errors[region] += 1
        return response.status_code, region

    def served_by(self, pop_url: str, region: str) -> bool:
        return self.get(pop_url) == (200, region)


def value(api: PrometheusApi, expr: str) -> float:
    """The sum of what ``expr`` answers; NaN while that Prometheus does not answer."""
    try:
        samples = api.query(expr)
    except http.Unreachable:
        return math.nan
    return sum(s.value for s in samples)


def counts(api: PrometheusApi, expr: str, expected: float) -> bool:
    return value(api, expr) == expected


def by_region(api: PrometheusApi, expr: str) -> dict[str, float]:
    return {s.labels.get("region", ""): s.value for s in api.query(f"sum by (region) ({expr})")}


def within_one_percent(observed: float, expected: float) -> bool:
    return abs(observed - expected) <= 0.01 * expected


def firing(api: PrometheusApi, region: str, severity: str = "page") -> bool:
    expr = f'ALERTS{{alertstate="firing",{SELECT},region="{region}",severity="{severity}"}}'
    return bool(api.query(expr))


def child(dev_dir: Path, name: str) -> process.ProcessId:
    record = (private_file.read_json(dev_dir / "supervisor.json") or {})["children"][name]
    identity = processes.from_record(record)
    assert identity is not None, f"{name} is not running"
    return identity


def supervisor_of(dev_dir: Path) -> process.ProcessId:
    identity = processes.from_record(
        (private_file.read_json(dev_dir / "supervisor.json") or {})["supervisor"]
    )
    assert identity is not None
    return identity


def all_ready(world: World, env: dict[str, str]) -> bool:
    result = world.taxiway("status", "hello", "--json", admin=False, env=env)
    rows = [r for r in json.loads(result.stdout) if r["environment"] == "production"]
    return len(rows) == len(REGIONS) and all(r["phase"] == "ready" for r in rows)


@pytest.mark.timeout(240)
def test_regional_prometheus_counts_every_request_and_alerts_alone(bare_world: World) -> None:
    world = bare_world
    dev_dir = world.root / "dev"
    env = {"TAXIWAY_DEV_DIR": str(dev_dir)}
    traffic = Counted()
    stopped: process.ProcessId | None = None
    apis: list[PrometheusApi] = []
    try:
        up = world.dev_up(env, observability=True)
        assert up.returncode == 0, up.stdout + up.stderr + world.logs()
        dev: dict[str, Any] = json.loads((dev_dir / "dev.json").read_text())
        regional = {r: PrometheusApi(dev["regions"][r]["prometheus"]) for r in REGIONS}
        central = PrometheusApi(dev["prometheus"]["global"])
        apis += [*regional.values(), central]
        assert dev["alertmanager"].startswith("http://127.0.0.1:")
        shown = world.taxiway("dev", "status", admin=False, env=env)
        assert all(dev["regions"][r]["prometheus"] in shown.stdout for r in REGIONS), shown.stdout

        deployed = world.taxiway("deploy", "examples/hello", "--env", "production", admin=False, env=env)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        wait_for(lambda: all_ready(world, env), within=60, what="hello ready in every region")
        pops: dict[str, str] = dev["pops"]
        for pop, region in NEAREST.items():
            wait_for(
                functools.partial(traffic.served_by, pops[pop], region), within=30, what=f"{pop} by {region}"
            )

        # A bounded load through every PoP; each answer counted by the region that gave it.
        for pop in NEAREST:
            for _ in range(LOAD_PER_POP):
                status, _region = traffic.get(pops[pop])
                assert status == 200
        sent = dict(traffic.answered)
        for region, api in regional.items():
            wait_for(
                functools.partial(
                    counts, api, f"taxiway_ingress_requests_total{{{SELECT}}}", sent.get(region, 0)
                ),
                within=30,
                what=f"{region}'s Prometheus counting {sent.get(region)} requests",
            )
            counted = value(api, f"taxiway_ingress_requests_total{{{SELECT}}}")
            timed = value(api, f"taxiway_ingress_request_duration_seconds_count{{{SELECT}}}")
            assert within_one_percent(counted, sent[region])
            assert within_one_percent(timed, sent[region])
            buckets = {
                s.labels["le"]: s.value
                for s in api.query(
                    f"sum by (le) (taxiway_ingress_request_duration_seconds_bucket{{{SELECT}}})"
                )
            }
            assert {"0.005", "0.3", "10.0", "+Inf"} <= set(buckets), (
                buckets
            )  # 5 ms to 10 s, and the SLO's 300 ms
            ordered = [buckets[le] for le in sorted(buckets, key=lambda le: float(le))]
            assert ordered == sorted(ordered)
            assert ordered[-1] == counted
            assert set(by_region(api, f"taxiway_ingress_requests_total{{{SELECT}}}")) == {region}
            print(f"\n{region}: sent {sent[region]}, counted {counted:.0f}, timed {timed:.0f}")
        wait_for(
            lambda: (
                by_region(central, f"taxiway_ingress_requests_total{{{SELECT}}}")
                == {r: float(n) for r, n in sent.items()}
            ),
            within=45,
            what="the global Prometheus holding every region's counts",
        )

        # The global stack and the control plane die; nothing restarts them meanwhile.
        stopped = supervisor_of(dev_dir)
        os.kill(stopped.pid, signal.SIGSTOP)
        victims = [child(dev_dir, "prometheus-global"), child(dev_dir, "control-plane")]
        for victim in victims:
            os.kill(victim.pid, signal.SIGKILL)
        assert processes.wait_gone(victims, 10) == []

        for _ in range(ERRORS):
            assert traffic.get(pops["fra"], "/status/500") == (500, "europe-west1")
        errors = traffic.errors["europe-west1"]
        west = regional["europe-west1"]
        wait_for(
            lambda: value(west, f'taxiway_ingress_requests_total{{{SELECT},code_class="5xx"}}') == errors,
            within=30,
            what="europe-west1's Prometheus counting the errors alone",
        )
        wait_for(lambda: firing(west, "europe-west1"), within=60, what="europe-west1's page alert")
        for region in ("us-east1", "asia-northeast3"):
            assert not firing(regional[region], region)
            assert not firing(regional[region], region, "ticket")
        assert not firing(west, "us-east1")

        # `slo status` reads the regional Prometheus servers alone: it needs neither the
        # control plane nor the global Prometheus, and names the one that does not answer.
        shown = world.taxiway("slo", "status", "hello", "--json", admin=False, env=env)
        assert shown.returncode == 0, shown.stdout + shown.stderr
        standing = json.loads(shown.stdout)
        assert set(standing["unreachable"]) == {"global"}
        rows = {(r["slo"], r["where"]): r for r in standing["slos"]}
        assert rows["availability", "europe-west1"]["alerts_firing"] == ["page", "ticket"]
        assert rows["availability", "europe-west1"]["error_budget_left"] < 0
        for region in ("us-east1", "asia-northeast3"):
            assert rows["availability", region]["alerts_firing"] == []
            assert rows["availability", region]["error_budget_left"] == 1.0
        table = world.taxiway("slo", "status", "hello", "--trend", "5m", admin=False, env=env)
        assert "page,ticket" in table.stdout, table.stdout

        # Back: the supervisor restarts both; the global view catches up on what it missed.
        os.kill(stopped.pid, signal.SIGCONT)
        stopped = None
        wait_for(
            lambda: (
                value(
                    central,
                    f'taxiway_ingress_requests_total{{{SELECT},code_class="5xx",region="europe-west1"}}',
                )
                == errors
            ),
            within=90,
            what="the restarted global Prometheus catching up on europe-west1's errors",
        )
        shown_alerts = wait_for(
            lambda: [
                a
                for a in json.loads(world.taxiway("alerts", "hello", "--json", admin=False, env=env).stdout)
                if a.get("labels", {}).get("region") == "europe-west1"
                and a.get("labels", {}).get("severity") == "page"
            ],
            within=60,
            what="the control plane recording europe-west1's page alert from Alertmanager",
        )
        assert shown_alerts
    finally:
        if stopped is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(stopped.pid, signal.SIGCONT)
        traffic.client.close()
        for api in apis:
            api.close()
        down = world.taxiway("dev", "down", "--purge", admin=False, timeout=120, env=env)
        assert down.returncode == 0, down.stdout + down.stderr
    assert not dev_dir.exists()
    assert world.processes() == []

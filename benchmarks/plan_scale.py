"""Scale benchmark for derivation and planning: 10,000 services × 20 regions by default.

Issue 2's aim, on a 2-core machine: derive and plan the whole fleet (200,000 regional
definitions) in under 5 s and 1.5 GB; derive and plan one changed service against that
whole state in under 50 ms. Every phase runs in this one process, side by side, so the
ratios compare like with like. This is a script, not a test: it prints figures and exits
0 whatever they are (a smoke test runs its generator and phases at a tiny size).

    .venv/bin/python benchmarks/plan_scale.py                  # 10,000 × 20
    .venv/bin/python benchmarks/plan_scale.py --quick          # 500 × 20, seconds
    .venv/bin/python benchmarks/plan_scale.py --services 2000 --regions 10

Memory is the process's peak resident set (``ru_maxrss``) after each phase, and how much
the phase raised it; ``--tracemalloc`` re-runs each phase under tracemalloc for the peak
of Python allocations the phase itself made (slower, so it never touches the timings).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

if __package__ in (None, ""):  # run as a script: make `taxiway` importable from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from taxiway.plan import derive as derivation
from taxiway.plan import diff, secret_digest
from taxiway.plan.regional import RegionalDefinition
from taxiway.spec.inventory import Inventory
from taxiway.spec.manifest import Manifest
from taxiway.spec.topology import Topology

KEYER = secret_digest.Keyer(b"benchmark key")
"""Digests secret env values as a control plane would (the key is no secret here)."""

ENVIRONMENT = "production"
REVISION = 1
AIM_FULL_SECONDS = 5.0
AIM_FULL_BYTES = 1.5 * 1024**3
AIM_ONE_SECONDS = 0.050
# The area names real clouds use, numbered: 5 areas × 4 = 20 regions, more wrap around.
_AREAS = ("us-east", "europe-west", "asia-northeast", "southamerica-east", "australia-southeast")
CHANGED_FIELDS = ("spec.env.LOG_LEVEL", "spec.scalability.max_instances")
"""What :func:`changed` alters in every region of the changed service."""

T = TypeVar("T")
State = dict[diff.Key, RegionalDefinition]


@dataclass(frozen=True)
class World:
    """The generated fleet: a topology, an inventory, and one manifest per service."""

    topology: Topology
    inventory: Inventory
    manifests: list[Manifest]

    @property
    def regions(self) -> list[str]:
        return list(self.topology.regions)


def region_names(count: int) -> list[str]:
    names = [f"{area}{number}" for number in range(1, count + 1) for area in _AREAS]
    return names[:count]


def make_topology(regions: list[str]) -> Topology:
    """Two datacenters of two roomy nodes per region: capacity never limits the fleet."""
    node = {"capacity": {"cpu": 64, "memory": "256Gi", "max_instances": 500}}
    continents: dict[str, list[dict[str, Any]]] = {}
    for name in regions:
        datacenters = [
            {"name": f"{name}-{zone}", "nodes": [{"name": f"node-{n}", **node} for n in (1, 2)]}
            for zone in ("a", "b")
        ]
        continent = name.rstrip("0123456789").split("-")[0]
        continents.setdefault(continent, []).append({"name": name, "datacenters": datacenters})
    return Topology.model_validate(
        {
            "apiVersion": "taxiway/v1",
            "kind": "Topology",
            "continents": [{"name": c, "regions": r} for c, r in continents.items()],
            "pops": [{"name": "iad", "location": "Ashburn, US", "continent": "us"}],
        }
    )


def manifest_data(index: int, regions: list[str]) -> dict[str, Any]:
    """Service ``index``'s manifest as a user would write it; features vary with the index."""
    name = f"svc-{index:05d}"
    spec: dict[str, Any] = {
        "regions": list(regions),
        "scalability": {"min_instances": 1 + index % 2, "max_instances": 4 + index % 7},
        "resources": {
            "cpu": ("250m", "500m", "1")[index % 3],
            "memory": ("256Mi", "512Mi", "1Gi")[index % 3],
        },
        "env": {"LOG_LEVEL": "info", "WORKERS": 2 + index % 4, "FEATURE_FLAGS": f"flag-{index % 11}"},
        "secrets": ["DATABASE_PASSWORD"],
    }
    if index % 2:
        spec["run"] = {"command": ["python3", "app.py", "--service", name]}
    else:
        spec["image"] = f"registry.example.com/{name}:1.{index % 10}.0"
    if index % 5 == 0:
        spec["env"]["API_TOKEN"] = {"value": f"token-{index}", "secret": True}
    if index % 4 == 0:
        spec["slos"] = [
            {"name": "availability", "objective": 99.9, "indicator": {"type": "availability"}},
            {"name": "latency", "objective": 99, "indicator": {"type": "latency", "threshold": "300ms"}},
        ]
    if index % 3 == 0:
        spec["overrides"] = [
            {"regions": regions[:2], "scalability": {"min_instances": 3}},
            {"regions": regions[1:3], "resources": {"cpu": 2, "memory": "4Gi"}},
        ]
    if index % 7 == 0:
        spec["probes"] = {"readiness": {"path": "/ready", "period_seconds": 2}}
        spec["request_timeout"] = "30s"
        spec["load_balancing"] = {
            "global": {"enabled": True, "steering": "failover", "monitor": {"protocol": "http"}}
        }
    return {
        "apiVersion": "taxiway/v1",
        "kind": "Service",
        "metadata": {"name": name, "owner": f"team-{index % 50}", "labels": {"tier": "bench"}},
        "spec": spec,
    }


def make_inventory(manifests: list[Manifest], regions: list[str]) -> Inventory:
    return Inventory.model_validate(
        {
            "apiVersion": "taxiway/v1",
            "kind": "Inventory",
            "services": [
                {
                    "name": m.metadata.name,
                    "owners": [m.metadata.owner],
                    "regions": regions,
                    "quota": {"max_instances": 1_000_000},
                    "global_load_balancing": True,
                }
                for m in manifests
            ],
        }
    )


def make_world(services: int, regions: int) -> World:
    names = region_names(regions)
    manifests = [Manifest.model_validate(manifest_data(i, names)) for i in range(services)]
    return World(make_topology(names), make_inventory(manifests, names), manifests)


def changed(manifest: Manifest) -> Manifest:
    """The manifest with one more max instance and another log level: every region changes."""
    data = manifest.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["spec"]["scalability"]["max_instances"] += 1
    data["spec"]["env"]["LOG_LEVEL"] = "debug"
    return Manifest.model_validate(data)


def derive_all(world: World, *, revision: int = REVISION) -> State:
    """Phase (a): every service's regional definitions in one environment, keyed for plan."""
    state: State = {}
    for manifest in world.manifests:
        for definition in derivation.derive(
            manifest, ENVIRONMENT, world.topology, world.inventory, revision=revision, secret_digest=KEYER
        ).values():
            state[definition.key] = definition
    return state


def plan_one(world: World, manifest: Manifest, state: Mapping[diff.Key, RegionalDefinition]) -> diff.Plan:
    """Phase (c): derive one service and plan it against the fleet's state, as the CLI does."""
    definitions = derivation.derive(
        manifest, ENVIRONMENT, world.topology, world.inventory, revision=REVISION + 1, secret_digest=KEYER
    )
    desired = {d.key: d for d in definitions.values()}
    service = manifest.metadata.name
    actual = {k: v for k, v in state.items() if k[0] == service and k[1] == ENVIRONMENT}
    return diff.plan(desired, actual)


@dataclass(frozen=True)
class Figure:
    phase: str
    seconds: float
    rss_peak: int  # bytes, the process's peak so far
    rss_growth: int  # bytes this phase added to that peak
    traced_peak: int | None = None  # bytes, tracemalloc's peak during a re-run


def _rss_peak() -> int:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def timed(phase: str, run: Callable[[], T]) -> tuple[T, Figure]:
    gc.collect()
    before = _rss_peak()
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    after = _rss_peak()
    return result, Figure(phase, seconds, after, after - before)


def traced_peak(run: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _mib(size: int | None) -> str:
    return "-" if size is None else f"{size / 1024**2:,.0f} MiB"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def report(figures: list[Figure]) -> None:
    print(f"{'phase':<44} {'wall':>11} {'rss peak':>11} {'rss +':>10} {'traced peak':>12}")
    for f in figures:
        print(
            f"{f.phase:<44} {_ms(f.seconds):>11} {_mib(f.rss_peak):>11} "
            f"{_mib(f.rss_growth):>10} {_mib(f.traced_peak):>12}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--regions", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="500 services: a smoke run in seconds.")
    parser.add_argument("--repeat", type=int, default=20, help="Runs of the one-service phase (best kept).")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="Also re-run each phase under tracemalloc."
    )
    args = parser.parse_args(argv)
    services = 500 if args.quick else args.services
    regions = args.regions

    start = time.perf_counter()
    world = make_world(services, regions)
    print(
        f"generated {services:,} services × {regions} regions = {services * regions:,} "
        f"regional definitions in {time.perf_counter() - start:.1f} s "
        f"(Python {sys.version.split()[0]}, {_cpus()} CPUs)\n"
    )
    index = services // 2
    edited = changed(world.manifests[index])

    state, derived = timed("(a) derive all services", lambda: derive_all(world))
    same = derive_all(world)  # an equal but separate state: nothing shared with `state`
    created, plan_create = timed("(b) plan vs empty state (all create)", lambda: diff.plan(state, {}))
    plan_create_count = created.count("create")
    del created
    gc.collect()
    unchanged, plan_same = timed("(b) plan vs identical state (no change)", lambda: diff.plan(state, same))
    one: diff.Plan | None = None
    best: Figure | None = None
    for _ in range(max(1, args.repeat)):
        one, figure = timed("(c) one changed service: derive + plan", lambda: plan_one(world, edited, state))
        best = figure if best is None or figure.seconds < best.seconds else best
    assert one is not None
    assert best is not None
    figures = [derived, plan_create, plan_same, best]

    if args.tracemalloc:
        runs: list[Callable[[], object]] = [
            lambda: derive_all(world),
            lambda: diff.plan(state, {}),
            lambda: diff.plan(state, same),
            lambda: plan_one(world, edited, state),
        ]
        figures = [
            Figure(f.phase, f.seconds, f.rss_peak, f.rss_growth, traced_peak(run))
            for f, run in zip(figures, runs, strict=True)
        ]

    report(figures)
    full_create = derived.seconds + plan_create.seconds
    full_same = derived.seconds + plan_same.seconds
    peak = max(f.rss_peak for f in figures)
    changed_paths = ", ".join(sorted({c.path for r in one.changes for c in r.fields}))
    per = 1e6 / len(state)
    print()
    print(
        f"checks: {len(state):,} definitions; {plan_create_count:,} created; {len(unchanged.changes)} changes"
    )
    print(f"        against an identical state; one service changes {one.count('change')} regions")
    print(f"        ({changed_paths})")
    print()
    print("ratios")
    print(
        f"  per definition: derive {derived.seconds * per:.1f} µs, plan all-create "
        f"{plan_create.seconds * per:.1f} µs, plan no-change {plan_same.seconds * per:.1f} µs"
    )
    print(f"  plan no-change / plan all-create: {plan_same.seconds / plan_create.seconds:.2f}")
    print(f"  one service / full derive + plan (no change): {best.seconds / full_same:.5f}")
    print()
    print("against the aim (2-core machine)")
    aims = [
        ("full derive + plan, all create", _ms(full_create), full_create / AIM_FULL_SECONDS, "5 s"),
        ("full derive + plan, no change", _ms(full_same), full_same / AIM_FULL_SECONDS, "5 s"),
        ("peak resident memory", _mib(peak), peak / AIM_FULL_BYTES, "1.5 GB"),
        ("one changed service", _ms(best.seconds), best.seconds / AIM_ONE_SECONDS, "50 ms"),
    ]
    for label, shown, ratio, aim in aims:
        print(f"  {label + ':':<32} {shown:>10} = {ratio:.2f} × {aim}")
    return 0


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main())

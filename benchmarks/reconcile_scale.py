"""Scale benchmark for a satellite's reconcile: 1,000 services × 10 instances on the fake driver.

What one region's satellite does per tick, measured on the in-memory driver so the
figures are the satellite's own work (placement, specs, supervision, status reports),
not process starts. One process, phases side by side, so the ratios compare like with
like. This is a script, not a test: it prints figures and exits 0 whatever they are.

    .venv/bin/python benchmarks/reconcile_scale.py                    # 1,000 × 10 = 10,000
    .venv/bin/python benchmarks/reconcile_scale.py --quick            # 100 × 10
    .venv/bin/python benchmarks/reconcile_scale.py --services 500 --instances 20

Phases:

1. *store*: the feed's first answer (every definition) written to the local store in
   one transaction, secrets sealed;
2. *first reconcile*: one reconciler step from nothing to every instance started
   (definitions parsed, every instance placed, specs built, the supervisor's tick, reports);
3. *no-change reconcile*: a step when everything runs (what every tick costs), the median
   of several;
4. *one-service change*: a new revision of one service stored, then the step that starts
   its instances (surge), and the steps until the old revision is gone.
"""

from __future__ import annotations

import argparse
import copy
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

if __package__ in (None, ""):  # run as a script: make `taxiway` importable from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from taxiway.plan.region import instance_spec
from taxiway.runtime import fake
from taxiway.satellite import artifacts, localstore, reconcile_loop
from taxiway.satellite.settings import SatelliteSettings
from taxiway.sealing.keys import Sealer
from taxiway.spec import topology
from taxiway.wire import feed

REGION = "bench-east1"
ENVIRONMENT = "production"
T = TypeVar("T")


def make_region(instances: int) -> topology.Region:
    """Ten datacenters of ten nodes with room for twice the instances asked for."""
    per_node = max(1, (2 * instances) // 100 + 1)
    capacity = {"cpu": "256", "memory": "1024Gi", "max_instances": per_node}
    return topology.Region.model_validate(
        {
            "name": REGION,
            "datacenters": [
                {
                    "name": f"{REGION}-{dc}",
                    "nodes": [{"name": f"node-{n}", "capacity": capacity} for n in range(10)],
                }
                for dc in "abcdefghij"
            ],
        },
        strict=False,
    )


def definition(service: str, revision: int, instances: int) -> dict[str, Any]:
    """A regional definition as the feed carries it (one secret, with its value)."""
    return {
        "apiVersion": "taxiway/v1",
        "kind": "RegionalDefinition",
        "service": service,
        "environment": ENVIRONMENT,
        "region": REGION,
        "revision": revision,
        "metadata": {"name": service, "owner": "team-bench"},
        "spec": {
            "run": {"command": ["python3", "app.py"]},
            "regions": [REGION],
            "scalability": {"min_instances": instances, "max_instances": instances},
            "resources": {"cpu": "100m", "memory": "64Mi"},
            "env": {
                "GREETING": f"hello from {service} r{revision}",
                "API_TOKEN": {"secret": True, "digest": "sha256:" + "0" * 64, "value": f"token-{service}"},
            },
        },
    }


def timed(what: Callable[[], T]) -> tuple[T, float]:
    began = time.perf_counter()
    result = what()
    return result, time.perf_counter() - began


def running(fake_driver: fake.FakeDriver) -> int:
    return sum(1 for i in fake_driver.list() if i.state is instance_spec.InstanceState.RUNNING)


def run(services: int, instances: int, *, no_change_steps: int = 5) -> dict[str, float]:
    """Every phase once; answers the figures (seconds) by phase name."""
    logging.getLogger("taxiway").setLevel(logging.WARNING)
    total = services * instances
    names = [f"svc-{index:05d}" for index in range(services)]
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="taxiway-reconcile-bench-") as tmp:
        root = Path(tmp)
        services_root = root / "services"
        for name in names:
            (services_root / name).mkdir(parents=True)
        settings = SatelliteSettings(
            region=REGION, control_plane="http://127.0.0.1:9", token="-", state_dir=root / "state",
            services_root=services_root,
        )  # fmt: skip
        store = localstore.LocalStore(settings.database, Sealer.from_file(settings.key_file, create=True))
        fake_driver = fake.FakeDriver(time.monotonic, record_calls=False)
        cache = artifacts.ArtifactCache(settings.artifacts_dir)
        loop = reconcile_loop.Reconciler(settings, make_region(total), fake_driver, store, cache)

        items = tuple(
            feed.Item(
                service=name,
                environment=ENVIRONMENT,
                revision=1,
                seq=index + 1,
                artifact=None,
                definition=definition(name, 1, instances),
            )
            for index, name in enumerate(names)
        )
        _, figures["store"] = timed(
            lambda: store.apply(feed.Batch(cursor=len(items), items=items, failed_nodes=frozenset()))
        )
        loop.request_reload()

        snapshot, figures["first"] = timed(loop.step)
        assert running(fake_driver) == total, f"{running(fake_driver)} of {total} started"
        loop.step()  # the supervisor notes every instance up: the last step with news
        samples = []
        for _ in range(no_change_steps):
            snapshot, seconds = timed(loop.step)
            samples.append(seconds)
        figures["no_change"] = statistics.median(samples)
        assert all(r["report"]["phase"] == "ready" for r in snapshot.reports)

        changed = names[services // 2]
        newer = copy.deepcopy(definition(changed, 2, instances))
        newer["spec"]["env"]["GREETING"] = "changed"
        item = feed.Item(
            service=changed,
            environment=ENVIRONMENT,
            revision=2,
            seq=len(items) + 1,
            artifact=None,
            definition=newer,
        )
        change = feed.Batch(cursor=len(items) + 1, items=(item,), failed_nodes=None)

        def one_change() -> None:
            applied = store.apply(change)
            loop.request_reload(applied.changed)
            loop.step()

        _, figures["one_change"] = timed(one_change)
        assert running(fake_driver) == total + instances, "the new revision surges beside the old"
        steps = 0

        def converge() -> None:
            nonlocal steps
            while running(fake_driver) != total:
                loop.step()
                steps += 1

        _, figures["one_change_converge"] = timed(converge)
        figures["converge_steps"] = steps
        store.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--instances", type=int, default=10, help="instances per service")
    parser.add_argument("--quick", action="store_true", help="100 services")
    args = parser.parse_args(argv)
    services = 100 if args.quick else args.services
    total = services * args.instances
    print(f"reconcile scale: {services} services × {args.instances} instances = {total:,} instances")
    figures = run(services, args.instances)
    rows = [
        ("store the first feed answer (1 transaction)", figures["store"], services, "definition"),
        ("first reconcile (all started)", figures["first"], total, "instance"),
        ("no-change reconcile (one tick)", figures["no_change"], total, "instance"),
        ("one-service change (stored, first step)", figures["one_change"], total, "instance"),
        (
            f"one-service change converged ({int(figures['converge_steps'])} more steps)",
            figures["one_change_converge"],
            total,
            "instance",
        ),
    ]
    width = max(len(row[0]) for row in rows)
    for label, seconds, count, unit in rows:
        print(f"  {label:<{width}}  {seconds * 1000:10.1f} ms  {seconds / count * 1e6:9.1f} µs per {unit}")
    print(
        f"  ratios: no-change / first = {figures['no_change'] / figures['first']:.2f}, "
        f"one-service / no-change = {figures['one_change'] / figures['no_change']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

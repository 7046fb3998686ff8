"""Semantic checks on a schema-valid manifest: rules that relate one field to another.

Each check yields located problems and never raises, so a user sees every problem in one
run. Checks that need the platform's topology or inventory live in
:mod:`taxiway.plan.derive`, which is where those inputs meet a manifest.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pydantic

from taxiway.spec import overrides
from taxiway.spec.document import Document
from taxiway.spec.manifest import RESERVED_ENV, Manifest, Spec
from taxiway.spec.problem import Path, Problem
from taxiway.spec.validation import problems_from

SPEC: Path = ("spec",)


def _at(doc: Document, path: Path, message: str, **kw: str | None) -> Problem:
    return Problem(doc.locate(path), path, message, **kw)


def _spec_rules(spec: Spec, doc: Document, base: Path) -> Iterator[Problem]:
    """Rules that must hold for the spec as written and as each region sees it."""
    scale = spec.scalability
    if scale.min_instances > scale.max_instances:
        yield _at(
            doc,
            (*base, "scalability", "min_instances"),
            "min_instances is above max_instances",
            found=str(scale.min_instances),
            expected=f"at most max_instances ({scale.max_instances})",
        )
    steps = spec.deployment.traffic_steps
    if any(b <= a for a, b in itertools.pairwise(steps)) or steps[-1] != 100:
        yield _at(
            doc,
            (*base, "deployment", "traffic_steps"),
            "traffic steps must increase and end at 100",
            found=str(steps),
            expected="e.g. [10, 50, 100]",
        )
    monitor = spec.load_balancing.global_.monitor
    if monitor.timeout > monitor.interval:
        yield _at(
            doc,
            (*base, "load_balancing", "global", "monitor", "timeout"),
            "monitor timeout is longer than its interval",
            expected=f"at most the interval ({monitor.interval:g}s)",
        )
    for name in spec.env:
        if name in RESERVED_ENV:
            yield _at(
                doc,
                (*base, "env", name),
                "environment variable is set by the platform",
                found=name,
                expected=f"a name other than {', '.join(RESERVED_ENV)}",
            )
        elif name in spec.secrets:
            yield _at(doc, (*base, "env", name), "name is both an env variable and a secret", found=name)


def check_manifest(manifest: Manifest, doc: Document) -> Iterator[Problem]:
    spec = manifest.spec
    if spec.run is None and spec.image is None:
        yield _at(doc, SPEC, "nothing to run", expected="spec.run.command or spec.image (or both)")
    yield from _spec_rules(spec, doc, SPEC)

    regions = set(spec.regions)
    lb = spec.load_balancing.global_
    lb_path = (*SPEC, "load_balancing", "global")
    for index, region in enumerate(lb.failover_order or []):
        if region not in regions:
            yield _at(
                doc,
                (*lb_path, "failover_order", index),
                "failover_order names a region the service does not run in",
                found=region,
                expected=f"one of {sorted(regions)}",
            )
    if lb.fallback_region is not None and lb.fallback_region not in regions:
        yield _at(
            doc,
            (*lb_path, "fallback_region"),
            "fallback region is not one of the service's regions",
            found=lb.fallback_region,
            expected=f"one of {sorted(regions)}",
        )

    seen: set[str] = set()
    for index, slo in enumerate(spec.slos):
        path = (*SPEC, "slos", index)
        if slo.name in seen:
            yield _at(doc, (*path, "name"), "duplicate SLO name", found=slo.name)
        seen.add(slo.name)
        kind, threshold = slo.indicator.type, slo.indicator.threshold
        if kind == "latency" and threshold is None:
            yield _at(
                doc,
                (*path, "indicator"),
                "latency SLO needs a threshold",
                expected="threshold: 300ms",
            )
        if kind == "availability" and threshold is not None:
            yield _at(
                doc,
                (*path, "indicator", "threshold"),
                "availability SLOs take no threshold",
                expected="no threshold, or type: latency",
            )

    yield from _check_overrides(spec, doc)


def _check_overrides(spec: Spec, doc: Document) -> Iterator[Problem]:
    regions = set(spec.regions)
    for index, override in enumerate(spec.overrides):
        for position, region in enumerate(override.regions):  # type: ignore[attr-defined]
            if region not in regions:
                yield _at(
                    doc,
                    (*SPEC, "overrides", index, "regions", position),
                    "override names a region the service does not run in",
                    found=region,
                    expected=f"one of {sorted(regions)}",
                )
    # Each region's effective spec must be valid too; blame the last override that
    # touched it, which is the one a user would edit.
    for region in spec.regions:
        applied = overrides.overrides_for(spec, region)
        if not applied:
            continue
        last: Path = (*SPEC, "overrides", applied[-1][0])
        try:
            effective = overrides.apply(spec, region)
        except pydantic.ValidationError as exc:
            schema = Spec.model_json_schema(by_alias=True)
            for problem in problems_from(exc, doc, schema, prefix=last):
                yield Problem(
                    problem.location,
                    problem.path,
                    f"{problem.message} in region {region}",
                    problem.found,
                    problem.expected,
                    problem.hint,
                )
            continue
        for problem in _spec_rules(effective, doc, last):
            yield Problem(
                problem.location,
                problem.path,
                f"{problem.message} (in region {region}, after overrides)",
                problem.found,
                problem.expected,
                problem.hint,
            )

"""Semantic checks on a schema-valid manifest: rules that relate one field to another.

Each check yields located problems and never raises, so a user sees every problem in one
run. The rules hold for the spec as written and for the spec each region sees once its
``overrides`` are applied; a problem an override brings in points at that override.
Checks that need the platform's topology or inventory live in :mod:`taxiway.plan.derive`,
which is where those inputs meet a manifest. A manifest the schema rejected in part is
checked as far as it parsed: a rule reading a field the schema rejected is skipped
(:mod:`taxiway.spec.salvage`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import NamedTuple

import pydantic

from taxiway.spec import overrides, units
from taxiway.spec.document import Document
from taxiway.spec.manifest import RESERVED_ENV, Manifest, Spec
from taxiway.spec.problem import Path, Problem
from taxiway.spec.salvage import NOTHING, Unsure
from taxiway.spec.validation import json_schema, problems_from

SPEC: Path = ("spec",)


class Finding(NamedTuple):
    """A broken rule, with its path relative to the spec it was found in."""

    path: Path
    message: str
    found: str | None = None
    expected: str | None = None


def _at(doc: Document, path: Path, message: str, **kw: str | None) -> Problem:
    return Problem(doc.locate(path), path, message, **kw)


def _rules(spec: Spec, unsure: Unsure = NOTHING) -> Iterator[Finding]:
    """Rules that must hold for the spec as written and as each region sees it; those
    reading a field in ``unsure`` (relative to the spec) are skipped."""
    if spec.run is None and spec.image is None and not unsure.touches(("run",), ("image",)):
        yield Finding((), "nothing to run", expected="spec.run.command or spec.image (or both)")
    scale = spec.scalability
    if scale.min_instances > scale.max_instances and not unsure.touches(
        ("scalability", "min_instances"), ("scalability", "max_instances")
    ):
        yield Finding(
            ("scalability", "min_instances"),
            "min_instances is above max_instances",
            found=str(scale.min_instances),
            expected=f"at most max_instances ({scale.max_instances})",
        )
    steps = spec.deployment.traffic_steps
    wrong = any(b <= a for a, b in itertools.pairwise(steps)) or steps[-1] != 100
    if wrong and not unsure.touches(("deployment", "traffic_steps")):
        yield Finding(
            ("deployment", "traffic_steps"),
            "traffic steps must increase and end at 100",
            found=str(steps),
            expected="e.g. [10, 50, 100]",
        )
    yield from _load_balancing_rules(spec, unsure)
    if not unsure.touches(("env",), ("secrets",)):
        yield from _env_rules(spec)
    if not unsure.touches(("slos",)):
        yield from _slo_rules(spec)


def _load_balancing_rules(spec: Spec, unsure: Unsure) -> Iterator[Finding]:
    lb = spec.load_balancing.global_
    base: Path = ("load_balancing", "global")
    timing = ((*base, "monitor", "timeout"), (*base, "monitor", "interval"))
    if lb.monitor.timeout > lb.monitor.interval and not unsure.touches(*timing):
        yield Finding(
            (*base, "monitor", "timeout"),
            "monitor timeout is longer than its interval",
            found=units.format_duration(lb.monitor.timeout),
            expected=f"at most the interval ({units.format_duration(lb.monitor.interval)})",
        )
    regions = sorted(set(spec.regions))
    seen: set[str] = set()
    order = [] if unsure.touches((*base, "failover_order")) else lb.failover_order or []
    for index, region in enumerate(order):
        if region not in spec.regions:
            yield Finding(
                (*base, "failover_order", index),
                "failover_order names a region the service does not run in",
                found=region,
                expected=f"one of {regions}",
            )
        elif region in seen:
            yield Finding(
                (*base, "failover_order", index),
                "region listed twice in failover_order",
                found=region,
                expected="each region once",
            )
        seen.add(region)
    fallback = None if unsure.touches((*base, "fallback_region")) else lb.fallback_region
    if fallback is not None and fallback not in spec.regions:
        yield Finding(
            (*base, "fallback_region"),
            "fallback region is not one of the service's regions",
            found=lb.fallback_region,
            expected=f"one of {regions}",
        )


def _env_rules(spec: Spec) -> Iterator[Finding]:
    reserved = f"a name other than {', '.join(RESERVED_ENV)}"
    for name in spec.env:
        if name in RESERVED_ENV:
            yield Finding(
                ("env", name), "environment variable is set by the platform", found=name, expected=reserved
            )
        elif name in spec.secrets:
            yield Finding(("env", name), "name is both an env variable and a secret", found=name)
    for index, name in enumerate(spec.secrets):
        if name in RESERVED_ENV:
            yield Finding(
                ("secrets", index), "secret name is set by the platform", found=name, expected=reserved
            )


def _slo_rules(spec: Spec) -> Iterator[Finding]:
    seen: set[str] = set()
    for index, slo in enumerate(spec.slos):
        path: Path = ("slos", index)
        if slo.name in seen:
            yield Finding((*path, "name"), "duplicate SLO name", found=slo.name, expected="unique SLO names")
        seen.add(slo.name)
        kind, threshold = slo.indicator.type, slo.indicator.threshold
        if kind == "latency" and threshold is None:
            yield Finding((*path, "indicator"), "latency SLO needs a threshold", expected="threshold: 300ms")
        if kind == "availability" and threshold is not None:
            yield Finding(
                (*path, "indicator", "threshold"),
                "availability SLOs take no threshold",
                found=units.format_duration(threshold),
                expected="no threshold, or type: latency",
            )


def check_manifest(manifest: Manifest, doc: Document, unsure: Unsure = NOTHING) -> Iterator[Problem]:
    """Every rule broken by ``manifest`` (or by what parsed of it, ``unsure`` naming the
    fields the schema rejected), located in ``doc``."""
    spec = manifest.spec
    in_spec = unsure.under(SPEC)
    found = list(_rules(spec, in_spec))
    for item in found:
        yield _at(doc, (*SPEC, *item.path), item.message, found=item.found, expected=item.expected)
    yield from _check_overrides(spec, doc, set(found), in_spec)


def _blame(doc: Document, applied: list[int], path: Path) -> Path:
    """The override a user would edit: the last one setting ``path``, else the last one."""
    for index in reversed(applied):
        if (*SPEC, "overrides", index, *path) in doc.positions:
            return (*SPEC, "overrides", index)
    return (*SPEC, "overrides", applied[-1])


def _check_overrides(spec: Spec, doc: Document, in_base: set[Finding], unsure: Unsure) -> Iterator[Problem]:
    for index, override in enumerate(spec.overrides):
        for position, region in enumerate(override.regions):  # type: ignore[attr-defined]
            if region not in spec.regions and not unsure.touches(("overrides", index, "regions")):
                yield _at(
                    doc,
                    (*SPEC, "overrides", index, "regions", position),
                    "override names a region the service does not run in",
                    found=region,
                    expected=f"one of {sorted(set(spec.regions))}",
                )
    # Each region's effective spec must be valid too. A problem the spec as written
    # already has is reported once, above; one that several regions share, once here.
    by_problem: dict[Problem, list[str]] = {}
    for region in dict.fromkeys(spec.regions):
        applied = [index for index, _ in overrides.overrides_for(spec, region)]
        if not applied:
            continue
        # What the region sees is unsure where the spec or an override naming it is.
        seen_unsure = unsure
        for index in applied:
            seen_unsure |= unsure.under(("overrides", index))
        data = overrides.merged(spec, region)
        try:
            effective = Spec.model_validate(data)
        except pydantic.ValidationError as exc:
            if seen_unsure.paths:
                continue  # the merge may fail on a default standing in for a rejected field
            last: Path = (*SPEC, "overrides", applied[-1])
            for problem in problems_from(exc, doc, json_schema(Spec), prefix=last, data=data):
                by_problem.setdefault(problem, []).append(region)
            continue
        for item in _rules(effective, seen_unsure):
            if item in in_base:
                continue
            path = (*_blame(doc, applied, item.path), *item.path)
            problem = _at(doc, path, item.message, found=item.found, expected=item.expected)
            by_problem.setdefault(problem, []).append(region)
    for problem, regions in by_problem.items():
        where = f"region{'s' if len(regions) > 1 else ''} {', '.join(regions)}"
        yield Problem(
            problem.location,
            problem.path,
            f"{problem.message} (in {where}, after overrides)",
            problem.found,
            problem.expected,
            problem.hint,
        )

"""Derivation: a manifest, an environment and the platform's files → regional definitions.

``derive`` is deterministic (same inputs, same bytes out) and checks the manifest against
the topology (the regions exist and can hold ``min_instances``) and the inventory (the
service is known, its owner, regions, environment, quota and edge load balancing are
allowed). Every violation is a located problem; all are reported together.
:func:`platform_problems` runs the same checks on what parsed of a manifest the schema
rejected in part, so ``taxiway validate`` reports those problems in the same run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pydantic

from taxiway.errors import ValidationFailed
from taxiway.plan.regional import RegionalDefinition, RegionalSpec, SecretEnv
from taxiway.plan.secret_digest import Digester, SecretValue
from taxiway.spec import overrides, ownership
from taxiway.spec.document import Document
from taxiway.spec.inventory import Inventory
from taxiway.spec.manifest import EnvValue, Manifest, Metrics, Observability, Spec
from taxiway.spec.problem import Location, Path, Problem
from taxiway.spec.salvage import NOTHING, Unsure
from taxiway.spec.topology import Topology, instance_capacity

DEFAULT_FALLBACK_REGION = "us-east1"
ASSIGNED_PORT = "assigned by the local runtime (a free 127.0.0.1 port)"
"""``PORT`` in a region whose runtime is ``local``: each instance gets its own port when it
starts, so no number in a definition would be true (docs/runtime-local.md). Container
runtimes listen on ``container_port``, and their definitions say so."""


def _port(spec: Spec, topology: Topology, region: str) -> str:
    known = topology.regions.get(region)
    if known is not None and known.runtime.driver == "local":
        return ASSIGNED_PORT
    return str(spec.container_port)


def _at(source: Document | None, path: Path, message: str, **kw: str | None) -> Problem:
    location = source.locate(path) if source is not None else Location("<manifest>")
    return Problem(location, path, message, **kw)


def _check_platform(
    manifest: Manifest,
    environment: str,
    effective: dict[str, Spec],
    topology: Topology,
    inventory: Inventory | None,
    source: Document | None,
    unsure: Unsure = NOTHING,
) -> Iterator[Problem]:
    """Each rule is skipped when it reads a field in ``unsure`` (rejected by the schema)."""
    spec = manifest.spec
    overridden = unsure.touches(("spec", "overrides"))
    for index, region in enumerate(spec.regions):
        if region not in topology.regions:
            yield _at(
                source,
                ("spec", "regions", index),
                "unknown region",
                found=region,
                expected=f"a region of the topology: {', '.join(topology.regions)}",
            )
            continue
        wanted = effective.get(region)
        sizing = (("spec", "resources"), ("spec", "scalability", "min_instances"))
        if wanted is None or overridden or unsure.touches(*sizing):
            continue
        fits = instance_capacity(topology.regions[region], wanted.resources.cpu, wanted.resources.memory)
        if wanted.scalability.min_instances > fits:
            yield _at(
                source,
                _blame(manifest.spec, region, ("scalability", "min_instances")),
                f"region {region} cannot hold min_instances",
                found=str(wanted.scalability.min_instances),
                expected=f"at most {fits} instances of this size in {region}",
            )
    if inventory is None:
        return
    entry = inventory.by_name.get(manifest.metadata.name)
    if entry is None:
        yield _at(
            source,
            ("metadata", "name"),
            "service is not in the inventory",
            found=manifest.metadata.name,
            expected="a service the platform team has listed in the inventory",
            hint=inventory.registration_hint(manifest.metadata.name, manifest.metadata.owner, spec.regions),
        )
        return
    owner = manifest.metadata.owner
    if owner is not None and owner not in entry.owners:
        yield _at(
            source,
            ("metadata", "owner"),
            "owner is not one of the service's owners in the inventory",
            found=owner,
            expected=f"one of {entry.owners}, as {inventory.owners_location(entry.name)} lists them",
            hint=f"write one of them, or leave metadata.owner out to take {entry.owners[0]}",
        )
    if environment not in entry.environments:
        yield _at(
            source,
            (),
            f"environment {environment} is not allowed for this service",
            expected=f"one of {entry.environments}",
            hint=inventory.change_hint(
                entry.name, "--environments " + ",".join([*entry.environments, environment])
            ),
        )
    for index, region in enumerate(spec.regions):
        if region not in entry.regions:
            yield _at(
                source,
                ("spec", "regions", index),
                "region not allowed for this service by the inventory",
                found=region,
                expected=f"one of {entry.regions}",
                hint=inventory.change_hint(entry.name, "--regions " + ",".join([*entry.regions, region])),
            )
    total = sum(s.scalability.max_instances for s in effective.values())
    counted = not overridden and not unsure.touches(("spec", "scalability", "max_instances"))
    if total > entry.quota.max_instances and counted:
        yield _at(
            source,
            ("spec", "scalability", "max_instances"),
            "instance quota exceeded",
            found=f"{total} max instances across {len(effective)} regions",
            expected=f"at most {entry.quota.max_instances} (inventory quota)",
        )
    enabling = [region for region, s in effective.items() if s.load_balancing.global_.enabled]
    known = not overridden and not unsure.touches(("spec", "load_balancing", "global", "enabled"))
    if enabling and not entry.global_load_balancing and known:
        yield _at(
            source,
            _blame(spec, enabling[0], ("load_balancing", "global", "enabled")),
            "global load balancing is not enabled for this service in the inventory",
            expected="enabled: false, or ask the platform team to enable it",
            hint=inventory.change_hint(entry.name, "--global-load-balancing"),
        )


def _resolve_env(
    spec: Spec, service: str, environment: str, region: str, revision: int | None, digest: Digester
) -> dict[str, str | SecretEnv]:
    env: dict[str, str | SecretEnv] = {}
    for name, value in sorted(spec.env.items()):
        if isinstance(value, EnvValue) and value.secret:
            env[name] = SecretEnv.of(
                value.value, digest(SecretValue(service, environment, name, value.value))
            )
        elif isinstance(value, EnvValue):
            env[name] = value.value
        else:
            env[name] = value
    env["PORT"] = str(spec.container_port)
    env["TAXIWAY_ENVIRONMENT"] = environment
    env["TAXIWAY_REGION"] = region
    env["TAXIWAY_SERVICE"] = service
    if revision is not None:
        env["TAXIWAY_REVISION"] = str(revision)
    return dict(sorted(env.items()))


def _blame(spec: Spec, region: str, field: tuple[str, ...]) -> tuple[str | int, ...]:
    """Where a region's value of ``field`` comes from: the last override setting it, or the base."""
    blamed: tuple[str | int, ...] = ("spec", *field)
    for index, patch in overrides.overrides_for(spec, region):
        node: object = patch
        for part in field:
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            blamed = ("spec", "overrides", index, *field)
    return blamed


def _effective_specs(spec: Spec, *, skip_invalid: bool = False) -> dict[str, Spec]:
    """Each region's spec after its overrides, in manifest order; with ``skip_invalid``,
    without the regions whose overrides make it invalid (a problem reported elsewhere).

    Applying overrides re-validates a whole spec, the costliest step of derivation, and
    its result depends only on which overrides name the region. So regions named by the
    same overrides (most often: by none) share one effective spec object, built once.
    """
    by_overrides: dict[tuple[int, ...], Spec] = {}
    effective = {}
    invalid: set[tuple[int, ...]] = set()
    for region in spec.regions:
        applied = overrides.naming(spec, region)
        if applied in invalid:
            continue
        if applied not in by_overrides:
            try:
                by_overrides[applied] = overrides.apply(spec, region)
            except pydantic.ValidationError:
                if not skip_invalid:
                    raise
                invalid.add(applied)
                continue
        effective[region] = by_overrides[applied]
    return effective


# RegionalSpec carries Spec's fields; these two it fills differently (env) or leaves empty.
_COPIED_FIELDS = tuple(name for name in Spec.model_fields if name not in {"env", "overrides"})


def _regional_spec(spec: Spec, env: dict[str, str | SecretEnv]) -> RegionalSpec:
    """``spec`` as a region runs it: defaults resolved, ``env`` in place of the manifest's.

    ``spec`` is already validated (it comes from a validated manifest or from
    ``overrides.apply``), so this assembles the result from its frozen parts rather than
    dumping and validating it again, which cost 300 µs a region. The parts are shared
    with the manifest and with the other regions; they are frozen, so sharing is safe,
    and a plan compares shared parts once.
    """
    lb = spec.load_balancing.global_
    fallback = lb.fallback_region or (
        DEFAULT_FALLBACK_REGION if DEFAULT_FALLBACK_REGION in spec.regions else spec.regions[0]
    )
    resolved_lb = lb.model_copy(
        update={
            "fallback_region": fallback,
            "failover_order": lb.failover_order or list(spec.regions),
        }
    )
    metrics = spec.observability.metrics
    values = {name: getattr(spec, name) for name in _COPIED_FIELDS}
    values["load_balancing"] = spec.load_balancing.model_copy(update={"global_": resolved_lb})
    values["observability"] = Observability(
        metrics=Metrics(path=metrics.path, port=metrics.port or spec.container_port)
    )
    values["env"] = env
    # Overrides are already applied: the field stays empty and, as when it was validated
    # from data without it, unset. Passing it saves model_construct from calling the
    # default factory, which it inspects first, at a cost of milliseconds.
    return RegionalSpec.model_construct(set(values), **values, overrides=[])


def _regional_definitions(
    manifest: Manifest,
    effective: dict[str, Spec],
    environment: str,
    revision: int | None,
    topology: Topology,
    digest: Digester,
) -> dict[str, RegionalDefinition]:
    service = manifest.metadata.name
    # Regions that share an effective spec differ only in TAXIWAY_REGION: build the
    # regional spec once per effective spec and copy it per region with its own env.
    shared: dict[int, RegionalSpec] = {}
    definitions = {}
    for region, spec in effective.items():
        template = shared.get(id(spec))
        if template is None:
            env = _resolve_env(spec, service, environment, region, revision, digest)
            template = shared[id(spec)] = _regional_spec(spec, env)
        # Updating the value of a key keeps the key's (sorted) place in the dict.
        env = {**template.env, "PORT": _port(spec, topology, region), "TAXIWAY_REGION": region}
        definitions[region] = RegionalDefinition(
            service=service,
            environment=environment,  # type: ignore[arg-type]
            region=region,
            revision=revision,
            metadata=manifest.metadata,
            spec=template.model_copy(update={"env": env}),
        )
    return definitions


def derive(
    manifest: Manifest,
    environment: str,
    topology: Topology,
    inventory: Inventory | None = None,
    *,
    secret_digest: Digester,
    revision: int | None = None,
    source: Document | None = None,
) -> dict[str, RegionalDefinition]:
    """What each region must run, keyed by region in manifest order.

    ``manifest`` must already be resolved for ``environment`` (overlay and env file
    merged, see :func:`taxiway.spec.service_files.load`). ``source`` locates problems.
    A manifest without ``metadata.owner`` takes its owner from the inventory
    (:mod:`taxiway.spec.ownership`).
    Without an inventory, every region of the topology is allowed. ``secret_digest``
    digests each secret env value (a :class:`taxiway.plan.secret_digest.Keyer`): whoever
    derives chooses the key, since no digest is safe to show without one.
    """
    effective = _effective_specs(manifest.spec)
    problems = list(_check_platform(manifest, environment, effective, topology, inventory, source))
    if problems:
        raise ValidationFailed(sorted(set(problems)))
    owner = ownership.owner(manifest.metadata, inventory)
    if owner != manifest.metadata.owner:
        metadata = manifest.metadata.model_copy(update={"owner": owner})
        manifest = manifest.model_copy(update={"metadata": metadata})
    return _regional_definitions(manifest, effective, environment, revision, topology, secret_digest)


def platform_problems(
    manifest: Manifest,
    environment: str,
    topology: Topology,
    inventory: Inventory | None,
    *,
    source: Document,
    unsure: Unsure,
) -> list[Problem]:
    """The problems :func:`derive` would raise, for what parsed of a manifest the schema
    rejected in part: rules reading a field in ``unsure`` are skipped, and so are regions
    whose overrides do not validate (:mod:`taxiway.spec.checks` reports those)."""
    effective = _effective_specs(manifest.spec, skip_invalid=True)
    return sorted(set(_check_platform(manifest, environment, effective, topology, inventory, source, unsure)))

"""Derivation: a manifest, an environment and the platform's files → regional definitions.

``derive`` is deterministic (same inputs, same bytes out) and checks the manifest against
the topology (the regions exist and can hold ``min_instances``) and the inventory (the
service is known, its owner, regions, environment, quota and edge load balancing are
allowed). Every violation is a located problem; all are reported together.
"""

from __future__ import annotations

from collections.abc import Iterator

from taxiway.errors import ValidationFailed
from taxiway.plan.regional import RegionalDefinition, RegionalSpec, SecretEnv
from taxiway.spec import overrides
from taxiway.spec.document import Document
from taxiway.spec.inventory import Inventory
from taxiway.spec.manifest import EnvValue, Manifest, Spec
from taxiway.spec.problem import Location, Path, Problem
from taxiway.spec.topology import Topology, instance_capacity

DEFAULT_FALLBACK_REGION = "us-east1"


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
) -> Iterator[Problem]:
    spec = manifest.spec
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
        wanted = effective[region]
        fits = instance_capacity(topology.regions[region], wanted.resources.cpu, wanted.resources.memory)
        if wanted.scalability.min_instances > fits:
            yield _at(
                source,
                ("spec", "scalability", "min_instances"),
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
        )
        return
    if manifest.metadata.owner not in entry.owners:
        yield _at(
            source,
            ("metadata", "owner"),
            "owner is not one of the service's owners in the inventory",
            found=manifest.metadata.owner,
            expected=f"one of {entry.owners}",
        )
    if environment not in entry.environments:
        yield _at(
            source,
            (),
            f"environment {environment} is not allowed for this service",
            expected=f"one of {entry.environments}",
        )
    for index, region in enumerate(spec.regions):
        if region not in entry.regions:
            yield _at(
                source,
                ("spec", "regions", index),
                "region not allowed for this service by the inventory",
                found=region,
                expected=f"one of {entry.regions}",
            )
    total = sum(s.scalability.max_instances for s in effective.values())
    if total > entry.quota.max_instances:
        yield _at(
            source,
            ("spec", "scalability", "max_instances"),
            "instance quota exceeded",
            found=f"{total} max instances across {len(effective)} regions",
            expected=f"at most {entry.quota.max_instances} (inventory quota)",
        )
    if spec.load_balancing.global_.enabled and not entry.global_load_balancing:
        yield _at(
            source,
            ("spec", "load_balancing", "global", "enabled"),
            "global load balancing is not enabled for this service in the inventory",
            expected="enabled: false, or ask the platform team to enable it",
        )


def _resolve_env(
    spec: Spec, service: str, environment: str, region: str, revision: int | None
) -> dict[str, str | SecretEnv]:
    env: dict[str, str | SecretEnv] = {}
    for name, value in sorted(spec.env.items()):
        if isinstance(value, EnvValue):
            env[name] = SecretEnv.of(value.value) if value.secret else value.value
        else:
            env[name] = value
    env["PORT"] = str(spec.container_port)
    env["TAXIWAY_ENVIRONMENT"] = environment
    env["TAXIWAY_REGION"] = region
    env["TAXIWAY_SERVICE"] = service
    if revision is not None:
        env["TAXIWAY_REVISION"] = str(revision)
    return dict(sorted(env.items()))


def _regional(
    manifest: Manifest, spec: Spec, environment: str, region: str, revision: int | None
) -> RegionalDefinition:
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
    # JSON mode: units go through their text form, which is what validation parses.
    data = spec.model_dump(mode="json", by_alias=True, exclude={"env", "overrides"})
    data["load_balancing"] = {"global": resolved_lb.model_dump(mode="json", by_alias=True)}
    data["observability"] = {"metrics": {"path": metrics.path, "port": metrics.port or spec.container_port}}
    data["env"] = _resolve_env(spec, manifest.metadata.name, environment, region, revision)
    regional_spec = RegionalSpec.model_validate(data)
    return RegionalDefinition(
        service=manifest.metadata.name,
        environment=environment,  # type: ignore[arg-type]
        region=region,
        revision=revision,
        metadata=manifest.metadata,
        spec=regional_spec,
    )


def derive(
    manifest: Manifest,
    environment: str,
    topology: Topology,
    inventory: Inventory | None = None,
    *,
    revision: int | None = None,
    source: Document | None = None,
) -> dict[str, RegionalDefinition]:
    """What each region must run, keyed by region in manifest order.

    ``manifest`` must already be resolved for ``environment`` (overlay and env file
    merged, see :func:`taxiway.spec.service_files.load`). ``source`` locates problems.
    Without an inventory, every region of the topology is allowed.
    """
    effective = {region: overrides.apply(manifest.spec, region) for region in manifest.spec.regions}
    problems = list(_check_platform(manifest, environment, effective, topology, inventory, source))
    if problems:
        raise ValidationFailed(sorted(set(problems)))
    return {
        region: _regional(manifest, effective[region], environment, region, revision)
        for region in manifest.spec.regions
    }

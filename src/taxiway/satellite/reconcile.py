"""What a region must run, decided from what it should run and what runs: pure, no I/O.

The satellite's reconciler calls :func:`plan` on every tick with

- the desired state: one :class:`Desired` per (service, environment) the local store
  holds, tombstones included, each already resolved to a service directory (or to the
  reason it cannot run yet);
- what the runtime driver lists (``observed``), and what the supervisor was last told to
  keep running (``managed``);
- the region's topology and its failed nodes,

and carries out the :class:`Plan`: ``Supervisor.ensure`` every spec in ``ensure``,
``Supervisor.remove`` every id in ``remove``, then ``Supervisor.tick``.

The rules:

- Instance ids are ``{service}-{environment}-r{revision}-{index}``, index ``0`` to
  ``min_instances - 1`` of the definition; a definition that names platform secrets
  (``spec.secrets``) adds a short digest of their values' digests after the revision
  (``r3s1a2b3c4d``), so a changed secret is a new set of ids that the surge rollout below
  starts beside the old ones. Ids are stable, so a restarted satellite that
  re-adopted its instances asks for exactly the same ids, on the nodes they run on, with
  the same specs (the driver picks the port; specs never fix one), and nothing restarts.
- Placement is :func:`taxiway.plan.placement.place` over the region's nodes, grouped by
  ``service/environment``; everything observed or managed counts against capacity.
  Failed nodes get nothing; an instance on one is placed elsewhere under the same id (its
  spec then names the new node, so the supervisor replaces it at once), or, if no node
  has room, stopped and reported.
- Surge rollout: a new revision's instances start beside the old ones; the old revision's
  instances are removed only once *every* new one is ready (and, in production, in the
  region ingress's rotation: its check passes too). While a new revision cannot
  start (it fails, it has no room, its artifact is still on the way) the old keep running.
- Only an explicit change removes anything: a tombstone removes all instances of its
  (service, environment); a newer definition removes what it no longer asks for. An
  instance of a (service, environment) the store does not know is left alone.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import defaultdict
from collections.abc import Collection, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from taxiway import errors
from taxiway.plan import placement, regional
from taxiway.runtime import driver
from taxiway.spec import manifest, topology
from taxiway.wire import feed

Key = feed.Key
ROUTED_ENVIRONMENT = "production"
"""The environment the region ingress serves (see :mod:`taxiway.satellite.rotation`)."""
DEFAULT_RESOURCES = manifest.Resources()
"""Size assumed for an instance whose definition is gone (an old revision, an orphan)."""


def instance_id(service: str, environment: str, revision: int, index: int, generation: str = "") -> str:
    return f"{service}-{environment}-r{revision}{generation}-{index}"


def generation(definition: regional.RegionalDefinition | None) -> str:
    """``s`` + 8 hex digits identifying the values of the platform secrets ``definition``
    names (by their digests), or ``""`` when it names none."""
    if definition is None or not definition.spec.secrets:
        return ""
    parts = []
    for name in sorted(definition.spec.secrets):
        value = definition.spec.env.get(name)
        parts.append(f"{name}={value.digest if isinstance(value, regional.SecretEnv) else ''}")
    return "s" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:8]


def group(key: Key) -> str:
    return f"{key[0]}/{key[1]}"


@dataclass(frozen=True)
class Desired:
    """One (service, environment) of the local store, resolved for this machine."""

    service: str
    environment: str
    revision: int
    removed: bool = False
    """A tombstone: run nothing of it."""
    definition: regional.RegionalDefinition | None = None
    service_dir: Path | None = None
    waiting: str | None = None
    """Why its instances cannot start *yet* (its artifact is being fetched): progressing."""
    problem: str | None = None
    """Why its instances cannot run here at all: failed, and the old revision keeps running."""

    @property
    def key(self) -> Key:
        return (self.service, self.environment)

    @property
    def instances(self) -> int:
        if self.removed or self.definition is None:
            return 0
        return self.definition.spec.scalability.min_instances

    @property
    def generation(self) -> str:
        return generation(self.definition)

    @property
    def runnable(self) -> bool:
        return (
            not self.removed
            and self.definition is not None
            and self.service_dir is not None
            and self.waiting is None
            and self.problem is None
        )


@dataclass(frozen=True)
class Removal:
    instance_id: str
    reason: str


@dataclass(frozen=True)
class KeyPlan:
    """What the plan decided for one (service, environment), for its status report."""

    wanted: tuple[str, ...] = ()
    """Ids of the desired revision, in index order (empty when it cannot run)."""
    specs: Mapping[str, driver.InstanceSpec] = field(default_factory=dict)
    """The placed ones among ``wanted``."""
    ready: frozenset[str] = frozenset()
    """Wanted ids running the desired spec and passing readiness."""
    unplaced: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    """Instances of other revisions kept running until every wanted one is ready."""
    problem: str | None = None


@dataclass(frozen=True)
class Plan:
    ensure: tuple[driver.InstanceSpec, ...]
    remove: tuple[Removal, ...]
    keys: Mapping[Key, KeyPlan]
    moved: tuple[str, ...] = ()


class MemoSpec(driver.InstanceSpec):
    """An instance spec that computes its digest once.

    Specs are immutable, so a spec's digest never changes; the plan hands the supervisor
    the same spec objects tick after tick, and the supervisor compares digests on every
    tick, so at 10,000 instances this saves two JSON encodings and hashes per instance
    per tick (about 70 µs each). A subclass without fields of its own: equality, ``replace``
    and every driver treat it as the spec it is.
    """

    def digest(self) -> str:
        cached: str | None = self.__dict__.get("_digest")
        if cached is None:
            cached = super().digest()
            object.__setattr__(self, "_digest", cached)  # frozen, but a cache is not state
        return cached


_TEMPLATE_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(driver.InstanceSpec)
    if f.name not in ("instance_id", "datacenter", "node")
)


def _memo(spec: driver.InstanceSpec) -> MemoSpec:
    return MemoSpec(**{f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)})


def _same_template(spec: driver.InstanceSpec, template: driver.InstanceSpec) -> bool:
    """``spec`` is ``template`` but for its id and node (parts shared with it compare fast)."""
    for name in _TEMPLATE_FIELDS:
        mine, theirs = getattr(spec, name), getattr(template, name)
        if mine is not theirs and mine != theirs:
            return False
    return True


def is_ready(instance: driver.Instance | None, spec: driver.InstanceSpec) -> bool:
    """Running the very spec asked for, and passing readiness."""
    return (
        instance is not None
        and instance.state is driver.InstanceState.RUNNING
        and instance.ready
        and instance.datacenter == spec.datacenter
        and instance.node == spec.node
        and instance.spec_digest == spec.digest()
    )


def _size(desired: Desired | None) -> manifest.Resources:
    if desired is None or desired.definition is None:
        return DEFAULT_RESOURCES
    return desired.definition.spec.resources


def _existing(
    desired: Mapping[Key, Desired],
    observed: Sequence[driver.Instance],
    managed: Mapping[str, driver.InstanceSpec],
) -> list[placement.Placement]:
    """Every placement that holds capacity now: observed instances, then managed ones not
    started yet (so a placement stays put between the plan and the start)."""
    result = []
    seen = set()
    for instance in observed:
        key = (instance.service, instance.environment)
        size = _size(desired.get(key))
        result.append(
            placement.Placement(
                instance.instance_id, group(key), instance.datacenter, instance.node, size.cpu, size.memory
            )
        )
        seen.add(instance.instance_id)
    for spec in managed.values():
        if spec.instance_id in seen:
            continue
        key = (spec.service, spec.environment)
        size = _size(desired.get(key))
        result.append(
            placement.Placement(
                spec.instance_id, group(key), spec.datacenter, spec.node, size.cpu, size.memory
            )
        )
    return result


def _template(desired: Desired) -> MemoSpec | str:
    """The spec every instance of ``desired`` shares, or why there is none."""
    assert desired.definition is not None
    assert desired.service_dir is not None
    try:
        made = driver.spec_for(
            desired.definition,
            instance_id=instance_id(
                desired.service, desired.environment, desired.revision, 0, desired.generation
            ),
            datacenter="",
            node="",
            service_dir=desired.service_dir,
        )
    except errors.ConfigurationError as exc:
        return str(exc)
    return _memo(made)


def plan(
    desired: Mapping[Key, Desired],
    observed: Sequence[driver.Instance],
    managed: Mapping[str, driver.InstanceSpec],
    region: topology.Region,
    failed_nodes: Collection[placement.NodeRef] = frozenset(),
    cache: MutableMapping[Key, tuple[Desired, MemoSpec | str]] | None = None,
    serving: Collection[str] | None = None,
) -> Plan:
    """Decide what to ensure and what to remove; see the module docstring.

    ``serving``: the instances the region ingress takes traffic to (``None``: there is no
    ingress, or it could not be read). A production revision then replaces the one before
    only once every one of its instances is in it too: ready by the satellite's probe is
    not enough when the ingress's own check turns the instance away.

    A spec in ``managed`` that is still what the plan asks for is handed back as the same
    object, so its digest is computed once (:class:`MemoSpec`). ``cache`` is one a
    caller that plans often may keep between calls: each (service, environment)'s shared
    spec, valid for as long as its :class:`Desired` is the very same object.
    """
    cache = {} if cache is None else cache
    failed = frozenset(failed_nodes)
    observed_by_id = {instance.instance_id: instance for instance in observed}
    members: dict[Key, set[str]] = defaultdict(set)
    for instance in observed:
        members[(instance.service, instance.environment)].add(instance.instance_id)
    for spec in managed.values():
        members[(spec.service, spec.environment)].add(spec.instance_id)

    templates: dict[Key, MemoSpec] = {}
    problems: dict[Key, str] = {}
    wanted: dict[Key, tuple[str, ...]] = {}
    requests: list[placement.Request] = []
    for key, item in sorted(desired.items()):
        if not item.runnable:
            continue
        cached = cache.get(key)
        if cached is not None and cached[0] is item:
            made = cached[1]
        else:
            made = _template(item)
            cache[key] = (item, made)
        if isinstance(made, str):
            problems[key] = made
            continue
        templates[key] = made
        size = _size(item)
        ids = tuple(
            instance_id(*key, item.revision, index, item.generation) for index in range(item.instances)
        )
        wanted[key] = ids
        requests.extend(placement.Request(i, group(key), size.cpu, size.memory) for i in ids)

    placed = placement.place(region, requests, _existing(desired, observed, managed), failed)
    where = {p.instance_id: p for p in placed.placements}
    unplaced = set(placed.unplaced)

    ensure: list[driver.InstanceSpec] = []
    remove: list[Removal] = []
    keys: dict[Key, KeyPlan] = {}
    for key, item in sorted(desired.items()):
        ids = wanted.get(key, ())
        specs: dict[str, driver.InstanceSpec] = {}
        template = templates.get(key)
        if template is not None:
            for wanted_id in ids:
                spot = where.get(wanted_id)
                if spot is None:
                    continue
                current = managed.get(wanted_id)
                if (
                    current is not None
                    and (current.datacenter, current.node) == spot.node_ref
                    and _same_template(current, template)
                ):
                    specs[wanted_id] = current
                else:
                    specs[wanted_id] = replace(
                        template, instance_id=wanted_id, datacenter=spot.datacenter, node=spot.node
                    )
        ensure.extend(specs.values())
        ready = frozenset(i for i, spec in specs.items() if is_ready(observed_by_id.get(i), spec))
        key_unplaced = tuple(i for i in ids if i in unplaced)
        all_ready = template is not None and not key_unplaced and len(ready) == len(ids)
        if serving is not None and key[1] == ROUTED_ENVIRONMENT:
            all_ready = all_ready and all(i in serving for i in ids)
        stale = []
        # Another generation of the same revision (its secrets changed) rolls like a revision.
        same_generation = instance_id(*key, item.revision, 0, item.generation).removesuffix("0")
        for member in sorted(members.get(key, set()) - set(ids)):
            running = observed_by_id.get(member)
            if item.removed:
                remove.append(Removal(member, f"{group(key)} was removed from the region"))
            elif running is None:
                remove.append(Removal(member, "no longer wanted and not running"))
            elif (running.datacenter, running.node) in failed:
                remove.append(Removal(member, f"node {running.datacenter}/{running.node} failed"))
            elif template is None:
                stale.append(member)  # the desired revision cannot run here: keep what runs
            elif running.revision == item.revision and member.startswith(same_generation):
                remove.append(Removal(member, f"revision {item.revision} asks for {len(ids)} instances"))
            elif all_ready:
                remove.append(Removal(member, f"revision {item.revision}{item.generation} is ready"))
            else:
                stale.append(member)
        for lost in key_unplaced:
            if lost in observed_by_id or lost in managed:
                remove.append(Removal(lost, "its node failed and no healthy node has room"))
        keys[key] = KeyPlan(
            wanted=ids,
            specs=specs,
            ready=ready,
            unplaced=key_unplaced,
            stale=tuple(stale),
            problem=problems.get(key),
        )
    return Plan(tuple(ensure), tuple(remove), keys, placed.moved)

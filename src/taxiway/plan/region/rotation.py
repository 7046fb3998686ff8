"""Which instances a region's ingress should send traffic to, and which are still its
servers: the decision half of :mod:`taxiway.satellite.rotation`, pure (its docstring says
who is in rotation and how an instance leaves it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from taxiway.plan.haproxy import answers, config, membership, tokens
from taxiway.plan.haproxy.tokens import UnsafeValue
from taxiway.plan.region import instance_spec, reconcile

ENVIRONMENT = reconcile.ROUTED_ENVIRONMENT
"""The one environment the region ingress routes to."""


Shape = tuple[tuple[str, config.InstanceCheck], ...]
"""The backends a config declares, with their checks, sorted by name: what needs a reload."""


@dataclass(frozen=True)
class Server:
    """One server of an ingress backend, as HAProxy reports it."""

    address: str
    port: int | None
    admin: answers.AdminState
    up: bool
    """HAProxy's checks say it is up."""
    sessions: int
    checked: bool = True
    """Its last check passed (or it has none): a server HAProxy added is ``up`` before
    its first check, and only a passed one shows the instance answers the ingress."""

    @property
    def observed(self) -> membership.Observed:
        return membership.Observed(self.address, self.port, self.admin, self.sessions)

    @property
    def admitted(self) -> bool:
        """Neither draining nor in maintenance."""
        return self.observed.in_rotation

    @property
    def draining(self) -> bool:
        return self.observed.draining


Backends = Mapping[str, Mapping[str, Server]]
"""Backend (service) name -> server (instance id) name -> server."""


@dataclass(frozen=True)
class Seen:
    """What the ingress holds after a step, by instance id (ids are unique across services)."""

    known: bool = True
    """False: the ingress could not be read; nobody knows who is still a server."""
    present: frozenset[str] = frozenset()
    """Servers of a backend, in any state: the instances that must not be stopped yet."""
    serving: frozenset[str] = frozenset()
    """Admitted, not draining, up, and its last check passed: taking traffic."""
    draining: frozenset[str] = frozenset()
    held: tuple[tuple[str, str], ...] = ()
    """(service, why): services whose new check the ingress cannot carry, held back so the
    rest still converge (their previous check, if any, stays)."""

    @classmethod
    def of(cls, backends: Backends) -> Seen:
        servers = [(name, server) for members in backends.values() for name, server in members.items()]
        return cls(
            known=True,
            present=frozenset(name for name, _ in servers),
            serving=frozenset(name for name, s in servers if s.admitted and s.up and s.checked),
            draining=frozenset(name for name, s in servers if s.draining),
        )


UNKNOWN = Seen(known=False)


def check_for(item: reconcile.Desired | None, interval: float) -> config.InstanceCheck | None:
    """The ingress's check of a service's instances: its readiness probe, on our period."""
    if item is None or item.definition is None:
        return None
    readiness = item.definition.spec.probes.readiness
    path = readiness.path if readiness.protocol == "http" else None
    if path is not None:
        tokens.http_path(path, f"{item.service}: readiness path")  # UnsafeValue: held back
    return config.InstanceCheck(
        path=path,
        interval=interval,
        timeout=float(readiness.timeout_seconds),
    )


def routed(desired: Mapping[reconcile.Key, reconcile.Desired]) -> dict[str, reconcile.Desired]:
    """The services the ingress has a backend for by definition: production, not removed."""
    return {key[0]: item for key, item in desired.items() if key[1] == ENVIRONMENT and not item.removed}


def shape(
    desired: Mapping[reconcile.Key, reconcile.Desired],
    backends: Backends,
    previous: Shape | None,
    interval: float,
) -> Shape:
    """The backends the config must declare: each routed service, and each backend that
    still has servers (draining after a removal). A service whose definition cannot be
    read keeps the check it had."""
    services = routed(desired)
    before = dict(previous or ())
    names = set(services) | {name for name, members in backends.items() if members}
    result = []
    for name in sorted(names):
        try:
            check = check_for(services.get(name), interval)
        except UnsafeValue:
            check = None  # see held_back()
        check = check or before.get(name)
        result.append((name, check or config.InstanceCheck(interval=interval)))
    return tuple(result)


def held_back(
    desired: Mapping[reconcile.Key, reconcile.Desired], interval: float
) -> tuple[tuple[str, str], ...]:
    """The routed services whose check the ingress cannot carry, and why: one owner's bad
    path must not leave the region's ingress unable to reload for everyone."""
    problems = []
    for name, item in sorted(routed(desired).items()):
        try:
            check_for(item, interval)
        except UnsafeValue as exc:
            problems.append((name, str(exc)))
    return tuple(problems)


def leaving(plan: reconcile.Plan, observed: Sequence[instance_spec.Instance]) -> frozenset[str]:
    """Instances the plan stops: removed ones, and running ones it replaces (a new spec
    under the same id: moved off a failed node)."""
    running = {i.instance_id: i for i in observed if i.state is instance_spec.InstanceState.RUNNING}
    replaced = {
        spec.instance_id
        for spec in plan.ensure
        if spec.instance_id in running and running[spec.instance_id].spec_digest != spec.digest()
    }
    return frozenset({removal.instance_id for removal in plan.remove} | replaced)


def wanted(
    desired: Mapping[reconcile.Key, reconcile.Desired],
    observed: Sequence[instance_spec.Instance],
    going: frozenset[str],
    backends: Backends,
    host: str,
) -> dict[str, tuple[config.Instance, ...]]:
    """Each routed service's instances that should take traffic (see the module docstring)."""
    services = routed(desired)
    result: dict[str, list[config.Instance]] = {name: [] for name in services}
    for instance in sorted(observed, key=lambda i: i.instance_id):
        if (
            instance.environment != ENVIRONMENT
            or instance.service not in services
            or instance.instance_id in going
            or instance.state is not instance_spec.InstanceState.RUNNING
            or instance.port is None
        ):
            continue
        server = backends.get(instance.service, {}).get(instance.instance_id)
        admitted = (
            server is not None and server.admitted and (server.address, server.port) == (host, instance.port)
        )
        if (instance.ready or admitted) and _checkable(instance.check_path):
            result[instance.service].append(
                config.Instance(instance.instance_id, instance.port, host, check_path=instance.check_path)
            )
    return {name: tuple(members) for name, members in result.items()}


def _checkable(path: str | None) -> bool:
    """The ingress can send a check on this path (an instance it cannot check stays out)."""
    try:
        return path is None or bool(tokens.http_path(path))
    except UnsafeValue:
        return False


def services(
    target: Shape,
    backends: Backends,
    members: Mapping[str, Sequence[config.Instance]],
) -> tuple[config.IngressService, ...]:
    """What to install: a backend that exists keeps its servers as HAProxy has them (the
    reload carries their state over); a new one gets its wanted members."""
    result = []
    for name, check in target:
        if name in backends:
            instances = tuple(
                config.Instance(server_name, server.port, server.address)
                for server_name, server in sorted(backends[name].items())
                if server.port is not None
            )
        else:
            instances = tuple(members.get(name, ()))
        result.append(config.IngressService(name, instances, check))
    return tuple(result)

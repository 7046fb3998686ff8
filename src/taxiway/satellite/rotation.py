"""Which instances the region's ingress sends traffic to, and when one may be stopped.

The decisions (who is wanted, what a config's shape is, which stops to hold) are pure, in
:mod:`taxiway.plan.region.rotation`; this module applies them to the ingress.

The satellite's executor calls :meth:`Gate.converge` on every tick (its second step; the
tick's order is written in :mod:`taxiway.satellite.executor`) with the desired state,
what the driver lists and the ids the plan is about to stop (:func:`leaving`). The gate
keeps the ingress's backends equal to the ready instances and answers a :class:`Seen`:
which instances are still servers of the ingress. The executor stops an instance only
once it is not one any more, so every stop is two phases, spread over ticks and never
blocking the loop:

1. the instance leaves the wanted set: ``set server ... state drain`` (no new requests;
   running ones go on), its drain start remembered here;
2. on a later tick, once HAProxy counts no session on it or ``grace`` seconds have
   passed: ``maint``, close what is left, ``del server`` (see
   :mod:`taxiway.plan.haproxy.membership`) — and only then may the instance be stopped.
   While old workers of a reload still serve (their sessions are not counted), no server
   is removed.

Who is in rotation:

- One backend per service, for its **production** environment only: the ingress routes
  ``Host: <service>.<domain>`` (or the edge's ``X-Taxiway-Service``) there. Staging is
  not served by the ingress (reach its instances directly); its instances never wait.
- An instance *enters* once the driver says it is ready (any revision: during a surge
  both revisions serve). It *stays* while it runs at the same address, even when the
  driver's verdict is unknown (a restarted satellite has re-adopted it and not probed it
  yet): HAProxy's own checks (the readiness path) and passive ``observe`` take a failing
  one out of traffic, and a restarted satellite leaves the membership as it found it.
- It leaves when the plan stops or replaces it (rollout, scale-in, tombstone, failed
  node), when it exited, or when its address changed.
- A backend exists while its service has a production definition, and after that until
  its last server is gone; adding or removing one is the only change that needs a
  reload (:meth:`Dataplane.install`). Everything else goes through the runtime API.

The ingress itself is behind :class:`Dataplane` (HAProxy in
:mod:`taxiway.satellite.ingress`; a dictionary in the unit tests). A gate that cannot
read it answers ``Seen(known=False)`` and the executor holds its stops, up to a bound.
An ingress that does not run serves nothing, so nothing has to wait for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from taxiway.errors import TaxiwayError
from taxiway.haproxy import membership
from taxiway.plan.haproxy import config
from taxiway.plan.observability import latency_thresholds
from taxiway.plan.region import instance_spec, reconcile
from taxiway.plan.region.rotation import (
    ENVIRONMENT,
    UNKNOWN,
    Backends,
    Seen,
    Server,
    Shape,
    check_for,
    held_back,
    leaving,
    routed,
    services,
    shape,
    wanted,
)

__all__ = [
    "ENVIRONMENT",
    "RETRY_SECONDS",
    "UNKNOWN",
    "Backends",
    "Dataplane",
    "Gate",
    "Seen",
    "Server",
    "Shape",
    "check_for",
    "held_back",
    "leaving",
    "routed",
    "services",
    "shape",
    "wanted",
]

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
"""How long after a failed start or reload of the ingress the gate tries again."""


class Dataplane(Protocol):
    """The ingress HAProxy as the gate needs it; every method may raise ``TaxiwayError``."""

    def running(self) -> bool: ...

    def servers(self) -> Backends:
        """Every service backend, with its servers (a backend may have none)."""
        ...

    def apply(self, backend: str, check: config.InstanceCheck, actions: Sequence[membership.Action]) -> None:
        """Carry out membership actions through the runtime API, in order."""
        ...

    def reloading(self) -> bool:
        """Workers of an earlier config still serve (their sessions are not counted)."""
        ...

    def shape(self) -> Shape | None:
        """The backends the running config declares, if known."""
        ...

    def install(self, services: Sequence[config.IngressService]) -> None:
        """Start the ingress with exactly these backends and servers, or reload it so."""
        ...


# ---------------------------------------------------------------------------- the gate


@dataclass
class Gate:
    """Keeps one ingress converged; owned by the reconciler's thread (not thread-safe)."""

    dataplane: Dataplane
    host: str = "127.0.0.1"
    """The address instances listen on, as the ingress reaches them."""
    grace: float = 30.0
    """Longest a drain waits for running requests before the server is removed anyway."""
    check_interval: float = 1.0
    request_metrics: Callable[[latency_thresholds.Thresholds, latency_thresholds.Revisions], None] | None = (
        None
    )
    """Told each round the services' latency SLO thresholds (the request log sink's buckets)."""
    draining_since: dict[str, float] = field(default_factory=dict)
    """Server -> when the gate drained it (HAProxy does not say)."""
    _shape: Shape | None = None
    _shape_read: bool = False
    _retry_at: float = float("-inf")
    _problem: str = ""
    _complained: bool = False
    _backend_problems: dict[str, str] = field(default_factory=dict)

    def converge(
        self,
        desired: Mapping[reconcile.Key, reconcile.Desired],
        observed: Sequence[instance_spec.Instance],
        going: frozenset[str],
        now: float,
    ) -> Seen:
        """One round of membership changes (and a start or reload when needed)."""
        self._complained = False
        if self.request_metrics is not None:
            self.request_metrics(
                latency_thresholds.from_desired(desired), latency_thresholds.revisions_from_desired(desired)
            )
        held = held_back(desired, self.check_interval)
        for name, problem in held:
            if self._backend_problems.get(name) != problem:
                log.warning("ingress %s: its new check is held back: %s", name, problem)
                self._backend_problems[name] = problem
        try:
            seen = replace(self._converge(desired, observed, going, now), held=held)
        except TaxiwayError as exc:
            self._complain(f"cannot converge the ingress: {exc}")
            return UNKNOWN
        except Exception as exc:  # a bug here must not stop the region's supervision
            if repr(exc) != self._problem:
                log.exception("converging the ingress failed")
                self._problem = repr(exc)
            return UNKNOWN
        if self._problem and not self._complained:
            log.info("the ingress converges again")
            self._problem = ""
        return seen

    def _complain(self, problem: str) -> None:
        """Log a problem once, however many ticks in a row it lasts."""
        self._complained = True
        if problem != self._problem:
            log.warning("%s; trying again", problem)
            self._problem = problem

    def _converge(
        self,
        desired: Mapping[reconcile.Key, reconcile.Desired],
        observed: Sequence[instance_spec.Instance],
        going: frozenset[str],
        now: float,
    ) -> Seen:
        plane = self.dataplane
        if not plane.running():
            return self._start(desired, observed, going, now)
        if not self._shape_read:
            self._shape, self._shape_read = plane.shape(), True
        backends = plane.servers()
        present = {server for members in backends.values() for server in members}
        for gone in set(self.draining_since) - present:
            del self.draining_since[gone]
        members = wanted(desired, observed, going, backends, self.host)
        checks = dict(self._shape or ())
        changed = False
        for name, servers in sorted(backends.items()):
            changed |= self._backend(name, servers, members.get(name, ()), checks, now)
        if changed:
            backends = plane.servers()
        target = shape(desired, backends, self._shape, self.check_interval)
        if target != self._shape and now < self._retry_at:
            self._complained = True  # the last reload failed; try again once the wait is over
        elif target != self._shape:
            try:
                plane.install(services(target, backends, members))
            except TaxiwayError as exc:
                # The running config keeps serving; membership changes go on meanwhile.
                self._retry_at = now + RETRY_SECONDS
                self._complain(f"cannot reload the ingress: {exc}")
                return Seen.of(backends)
            log.info("ingress reloaded with backends %s", ", ".join(n for n, _ in target) or "(none)")
            self._shape = target
            backends = plane.servers()
        return Seen.of(backends)

    def _backend(
        self,
        name: str,
        servers: Mapping[str, Server],
        members: Sequence[config.Instance],
        checks: Mapping[str, config.InstanceCheck],
        now: float,
    ) -> bool:
        for server_name, server in servers.items():
            if server.draining:
                # A drain begun before a restart of the satellite gets a full grace period.
                self.draining_since.setdefault(server_name, now)
        actions = membership.plan(
            members,
            {n: s.observed for n, s in servers.items()},
            draining_since=self.draining_since,
            now=now,
            grace=self.grace,
        )
        if any(isinstance(a, membership.Remove) for a in actions) and self.dataplane.reloading():
            # Old workers of a reload may still send requests to a drained server, and
            # their sessions are not counted here: remove nothing until they are gone.
            actions = [a for a in actions if not isinstance(a, membership.Remove)]
        if not actions:
            return False
        check = checks.get(name) or config.InstanceCheck(interval=self.check_interval)
        for action in actions:
            try:
                self.dataplane.apply(name, check, [action])
            except TaxiwayError as exc:  # what came before it is done; the rest waits a tick
                if self._backend_problems.get(name) != str(exc):
                    log.warning("ingress %s: %s; trying again next tick", name, exc)
                    self._backend_problems[name] = str(exc)
                return True
            _log_action(name, action)
            if isinstance(action, membership.Drain):
                self.draining_since[action.server] = now
            elif isinstance(action, membership.Remove | membership.Readmit):
                self.draining_since.pop(action.server, None)
        self._backend_problems.pop(name, None)
        return True

    def _start(
        self,
        desired: Mapping[reconcile.Key, reconcile.Desired],
        observed: Sequence[instance_spec.Instance],
        going: frozenset[str],
        now: float,
    ) -> Seen:
        """The ingress does not run (it was killed, or never started): start it with the
        ready instances. Until it runs it serves nothing, so no stop waits for it."""
        if now < self._retry_at:
            self._complained = True  # still failing: no "converges again" yet
            return Seen()
        target = shape(desired, {}, self._shape, self.check_interval)
        members = wanted(desired, observed, going, {}, self.host)
        self.draining_since.clear()
        try:
            self.dataplane.install(services(target, {}, members))
        except TaxiwayError as exc:
            self._retry_at = now + RETRY_SECONDS
            self._complain(f"cannot start the ingress: {exc}")
            return Seen()
        log.info("ingress started with backends %s", ", ".join(n for n, _ in target) or "(none)")
        self._shape, self._shape_read = target, True
        return Seen.of(self.dataplane.servers())


def _log_action(backend: str, action: membership.Action) -> None:
    match action:
        case membership.Add():
            log.info("ingress %s: %s in rotation", backend, action.instance.name)
        case membership.Readmit():
            log.info("ingress %s: %s back in rotation", backend, action.server)
        case membership.Readdress():
            log.info("ingress %s: %s now at port %d", backend, action.instance.name, action.instance.port)
        case membership.Drain():
            log.info("ingress %s: draining %s", backend, action.server)
        case membership.Remove():
            log.info("ingress %s: %s out of rotation", backend, action.server)

"""What to change in an ingress backend's servers so they equal a service's ready instances,
dropping nothing. Pure: :mod:`taxiway.haproxy.membership` observes and applies.

:func:`plan` compares the instances that should take traffic with what HAProxy reports and
returns actions. An instance leaves in two steps — ``drain`` (no new requests, running ones
finish) then, once it has no connection left or its grace period is over, ``remove``
(``maint``, close what is left, ``del server``) — so a deploy or a scale-in drops no
request. The caller remembers when each drain began (HAProxy does not say), passing it
back as ``draining_since``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from taxiway.plan.haproxy import answers, config


@dataclass(frozen=True)
class Observed:
    """What HAProxy reports for one server of the backend."""

    address: str
    port: int | None
    state: answers.AdminState
    sessions: int

    @property
    def in_rotation(self) -> bool:
        return not (self.state & (answers.AdminState.FORCED_MAINT | answers.AdminState.FORCED_DRAIN))

    @property
    def draining(self) -> bool:
        return bool(self.state & answers.AdminState.FORCED_DRAIN)


@dataclass(frozen=True)
class Add:
    instance: config.Instance


@dataclass(frozen=True)
class Readmit:
    """A server that is wanted again while draining or in maintenance."""

    server: str


@dataclass(frozen=True)
class Readdress:
    instance: config.Instance


@dataclass(frozen=True)
class Drain:
    server: str


@dataclass(frozen=True)
class Remove:
    server: str


Action = Add | Readmit | Readdress | Drain | Remove


def plan(
    wanted: Sequence[config.Instance],
    observed: Mapping[str, Observed],
    *,
    draining_since: Mapping[str, float],
    now: float,
    grace: float,
) -> list[Action]:
    """The actions that move ``observed`` toward ``wanted``; empty when they agree."""
    actions: list[Action] = []
    names = {instance.name for instance in wanted}
    for instance in wanted:
        current = observed.get(instance.name)
        if current is None:
            actions.append(Add(instance))
            continue
        if (current.address, current.port) != (instance.host, instance.port):
            actions.append(Readdress(instance))
        if not current.in_rotation:
            actions.append(Readmit(instance.name))
    for name, current in sorted(observed.items()):
        if name in names:
            continue
        if current.in_rotation:
            actions.append(Drain(name))
            continue
        started = draining_since.get(name)
        if current.sessions == 0 or started is None or now - started >= grace:
            actions.append(Remove(name))
    return actions

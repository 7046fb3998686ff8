"""Keep an ingress backend's servers equal to a service's ready instances, dropping nothing.

For the satellite's reconcile loop: :func:`plan` compares the instances that should take
traffic with what HAProxy reports and returns actions; :func:`apply` performs them
through the runtime API. An instance leaves in two steps — ``drain`` (no new requests,
running ones finish) then, once it has no connection left or its grace period is over,
``remove`` (``maint``, close what is left, ``del server``) — so a deploy or a scale-in
drops no request. The caller stops the instance's process only after its removal, and
remembers when each drain began (HAProxy does not say), passing it back as
``draining_since``.

Servers added this way live only in the running HAProxy; the caller renders them into the
config too (:func:`taxiway.haproxy.config.instance_options` is shared) before any reload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from taxiway.haproxy import answers, config
from taxiway.haproxy.errors import ServerBusy
from taxiway.haproxy.runtime_api import RuntimeApi


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


def observe(api: RuntimeApi, backend: str) -> dict[str, Observed]:
    """Read one backend's servers: admin state from ``show servers state``, sessions from ``show stat``."""
    sessions = {name: row.current_sessions for name, row in api.servers(backend).items()}
    return {
        state.server: Observed(state.address, state.port, state.admin, sessions.get(state.server, 0))
        for state in api.show_servers_state(backend)
    }


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


def apply(api: RuntimeApi, backend: str, check: config.InstanceCheck, actions: Sequence[Action]) -> None:
    """Perform ``actions`` in order. A ``ServerBusy`` from a removal propagates: retry next round."""
    for action in actions:
        if isinstance(action, Add):
            instance = action.instance
            options = config.instance_options(check, instance)
            api.add_server(backend, instance.name, instance.host, instance.port, options)
        elif isinstance(action, Readdress):
            api.set_server_addr(backend, action.instance.name, action.instance.host, action.instance.port)
        elif isinstance(action, Readmit):
            api.set_server_state(backend, action.server, "ready")
        elif isinstance(action, Drain):
            api.set_server_state(backend, action.server, "drain")
        else:
            remove(api, backend, action.server)


def remove(api: RuntimeApi, backend: str, server: str) -> None:
    """Take a server out for good: ``maint``, close what is left, ``del server``.

    HAProxy 2.6 purges a server's idle (keep-alive) connections when it *enters*
    maintenance, but a request that finishes while the server is already in maintenance
    leaves its connection idle, and ``del server`` then refuses. So a busy answer gets one
    drain → maint bounce (no traffic either way) before :class:`ServerBusy` is reported.
    """
    api.set_server_state(backend, server, "maint")
    api.shutdown_sessions(backend, server)
    try:
        api.del_server(backend, server)
    except ServerBusy:
        api.set_server_state(backend, server, "drain")
        api.set_server_state(backend, server, "maint")
        api.del_server(backend, server)

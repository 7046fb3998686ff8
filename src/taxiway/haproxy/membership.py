"""Keep an ingress backend's servers equal to a service's ready instances, dropping nothing.

For the satellite's reconcile loop: :func:`taxiway.plan.haproxy.membership.plan` compares
the instances that should take traffic with what HAProxy reports (:func:`observe`) and
returns actions; :func:`apply` performs them through the runtime API. An instance leaves
in two steps — ``drain`` (no new requests, running ones finish) then, once it has no
connection left or its grace period is over, ``remove`` (``maint``, close what is left,
``del server``) — so a deploy or a scale-in drops no request. The caller stops the
instance's process only after its removal, and remembers when each drain began (HAProxy
does not say), passing it back as ``draining_since``.

Servers added this way live only in the running HAProxy; the caller renders them into the
config too (:func:`taxiway.plan.haproxy.config.instance_options` is shared) before any reload.
"""

from __future__ import annotations

from collections.abc import Sequence

from taxiway.haproxy.errors import ServerBusy
from taxiway.haproxy.runtime_api import RuntimeApi
from taxiway.plan.haproxy import config
from taxiway.plan.haproxy.membership import Action, Add, Drain, Observed, Readdress, Readmit, Remove, plan

__all__ = [
    "Action",
    "Add",
    "Drain",
    "Observed",
    "Readdress",
    "Readmit",
    "Remove",
    "apply",
    "observe",
    "plan",
    "remove",
]


def observe(api: RuntimeApi, backend: str) -> dict[str, Observed]:
    """Read one backend's servers: admin state from ``show servers state``, sessions from ``show stat``."""
    sessions = {name: row.current_sessions for name, row in api.servers(backend).items()}
    return {
        state.server: Observed(state.address, state.port, state.admin, sessions.get(state.server, 0))
        for state in api.show_servers_state(backend)
    }


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

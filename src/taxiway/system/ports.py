"""Ports to listen on: keep the one used before while it is still free, else pick a free one.

Called by the ``local`` driver (an instance restarted keeps its port, so the ingress
finds it where it was), the region ingress and the edge (HAProxy's ports stay put across
restarts, so whoever learned the address keeps using it), and the dev world (its control
plane, WAN links and PoPs). It lives in :mod:`taxiway.system`, below every adapter,
because the runtime adapter needs it as much as the agents do.

"Free" means nothing listens there: the probe binds with ``SO_REUSEADDR`` as HAProxy and
the servers do, so a port in ``TIME_WAIT`` counts as free. A port found free may be taken
by another program before its new owner binds it; callers bind soon after, and report a
clear error if they lose that race.
"""

from __future__ import annotations

import socket
from collections.abc import Collection

ATTEMPTS = 100
"""Kernel picks tried before giving up on finding a port outside ``avoid``."""


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def bindable(host: str, port: int) -> bool:
    """Nothing listens on ``host:port`` now."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def free(host: str) -> int:
    """A port nothing listens on now (the kernel's pick); :class:`OSError` if none."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def free_many(hosts: Collection[str]) -> list[int]:
    """One free port per host in ``hosts``, all distinct: every probe stays bound until
    all are found, so the kernel cannot hand out one port twice."""
    probes: list[socket.socket] = []
    try:
        for host in hosts:
            probe = socket.socket(_family(host), socket.SOCK_STREAM)
            probes.append(probe)
            probe.bind((host, 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def keep_or_pick(previous: int | None, host: str, *, avoid: Collection[int] = (), ours: bool = False) -> int:
    """``previous`` while it is free (or, with ``ours``, held by our own listener, such as
    a running HAProxy this process adopts) and not in ``avoid``; else a free port outside
    ``avoid``. :class:`OSError` when no free port is found."""
    if previous is not None and previous not in avoid and (ours or bindable(host, previous)):
        return previous
    for _ in range(ATTEMPTS):
        port = free(host)
        if port not in avoid:
            return port
    raise OSError(f"no free port on {host} outside the {len(avoid)} already in use")

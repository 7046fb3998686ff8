"""Loopback ports for a dev world: keep the one it had while it is free, else take a free one."""

from __future__ import annotations

import socket

from taxiway.dev.settings import HOST


def bindable(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def free(host: str = HOST) -> int:
    """A port nothing listens on now (the kernel's pick; it may be taken before we bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def keep_or_pick(previous: int | None, host: str = HOST) -> int:
    if previous is not None and bindable(previous, host):
        return previous
    return free(host)


def free_many(count: int, host: str = HOST) -> list[int]:
    """``count`` distinct ports nothing listens on now (all held bound until all are found)."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(probe)
            probe.bind((host, 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for probe in sockets:
            probe.close()

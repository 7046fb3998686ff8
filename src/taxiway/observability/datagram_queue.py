"""How many datagrams a unix socket may queue: the kernel's ``net.unix.max_dgram_qlen``.

The request log sink's socket takes one datagram per request, and the kernel lets a unix
datagram socket queue only this many, whatever its receive buffer: the default, 10, is a
millisecond or two at an ingress's top rate, so a sink that waits for a CPU that long
loses lines (counted, but lost: README, "Request metrics"). The value is read when a
socket is created, so the sink raises it, when it may (root) and it is lower, before it
binds; otherwise it says what to run.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

SYSCTL = Path("/proc/sys/net/unix/max_dgram_qlen")
WANTED = 4096
"""Measured: no line lost at the ingress's top rate on a loaded 2-core machine (README)."""


def ensure(wanted: int = WANTED, sysctl: Path = SYSCTL) -> int | None:
    """Raise the setting to ``wanted`` if it is lower and this process may; answer what it
    is now (``None``: unknown, as on a kernel without the file)."""
    try:
        current = int(sysctl.read_text())
    except (OSError, ValueError):
        return None
    if current >= wanted:
        return current
    if os.geteuid() == 0:
        try:
            sysctl.write_text(f"{wanted}\n")
        except OSError as exc:
            log.warning("could not raise net.unix.max_dgram_qlen from %d to %d: %s", current, wanted, exc)
        else:
            log.info("raised net.unix.max_dgram_qlen from %d to %d for the request log", current, wanted)
            return wanted
    log.warning(
        "net.unix.max_dgram_qlen is %d: a burst of more request lines than that while the sink waits "
        "for a CPU is dropped (and counted); run as root: sysctl -w net.unix.max_dgram_qlen=%d",
        current,
        wanted,
    )
    return current

"""Long polls on the control plane: answer as soon as something changed, or at a deadline.

A satellite's definitions feed (:mod:`taxiway.server.region_routes`) and an edge's PoP
config (:mod:`taxiway.server.pop_routes`) both wait here. :func:`poll` reads the store on
a worker thread until the answer is news or the caller's ``wait`` runs out; between
reads it sleeps on :class:`Changes`, which this process's writes wake at once, for at
most :data:`POLL_SECONDS`, because other control-plane processes may write to a shared
PostgreSQL (and status reports, which carry ingress addresses, do not notify).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TypeVar

from fastapi.concurrency import run_in_threadpool

# How long a satellite's long poll waits for a change before answering "nothing new".
MAX_WAIT_SECONDS = 30.0
# Other control-plane processes may write to a shared PostgreSQL: re-read this often.
POLL_SECONDS = 1.0

Answer = TypeVar("Answer")


class Changes:
    """Wakes long-polling satellites as soon as this process publishes a change."""

    def __init__(self) -> None:
        self._condition = asyncio.Condition()
        self.waiting = 0
        """How many long polls wait right now (observability, and tests wait on it)."""

    async def notify(self) -> None:
        async with self._condition:
            self._condition.notify_all()

    async def wait(self, timeout: float) -> None:
        async with self._condition:
            self.waiting += 1
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._condition.wait(), timeout)
            finally:
                self.waiting -= 1


async def poll(
    read: Callable[[], Answer], news: Callable[[Answer], bool], wait: float, changes: Changes
) -> Answer:
    """``read()`` (on a worker thread) until ``news`` says its answer is, or ``wait``
    seconds have passed; answers the last read. ``wait`` 0 reads once."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        found = await run_in_threadpool(read)
        remaining = deadline - asyncio.get_running_loop().time()
        if news(found) or remaining <= 0:
            return found
        await changes.wait(min(remaining, POLL_SECONDS))

"""The threads of one agent (a satellite, an edge): started one by one, stopped together.

Used by :class:`taxiway.satellite.app.Satellite` and :class:`taxiway.edge.app.Edge`. Every
thread's target gets the group's ``stopping`` event and returns soon after it is set;
:meth:`ThreadGroup.stop` sets it, wakes the threads asleep on other events, and waits. A
thread spawned as a long poll is waited for only briefly: an HTTP long poll in flight
cannot be interrupted, so such a thread must store nothing once ``stopping`` is set, and
it ends when its poll returns (or with the process; every thread is a daemon).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

JOIN_SECONDS = 5.0
LONG_POLL_JOIN_SECONDS = 0.2

log = logging.getLogger(__name__)


class ThreadGroup:
    def __init__(self) -> None:
        self.stopping = threading.Event()
        """Set when the agent stops; every thread's target gets it as its first argument."""
        self._threads: list[threading.Thread] = []
        self._long_polls: list[threading.Thread] = []

    def spawn(self, name: str, target: Callable[..., Any], *args: Any, long_poll: bool = False) -> None:
        """Start ``target(stopping, *args)`` in a daemon thread named ``name``."""
        thread = threading.Thread(target=target, args=(self.stopping, *args), name=name, daemon=True)
        thread.start()
        (self._long_polls if long_poll else self._threads).append(thread)

    def stop(self, *wake: Callable[[], None]) -> None:
        """Set ``stopping``, call each of ``wake`` (for threads asleep on other events), then
        wait for every thread to end, a long poll only briefly."""
        self.stopping.set()
        for call in wake:
            call()
        for thread in self._threads:
            thread.join(JOIN_SECONDS)
            if thread.is_alive():
                log.warning("%s did not stop within %.0fs", thread.name, JOIN_SECONDS)
        for thread in self._long_polls:
            thread.join(LONG_POLL_JOIN_SECONDS)

"""The newest snapshot an agent's worker thread published, read by its other threads.

A satellite's reconciler and an edge's controller publish a snapshot after every step;
the reporter and the API read the newest one. :meth:`Latest.publish` answers whether the
snapshot's ``fingerprint`` (what in it is worth reporting at once) changed, so the agent
can wake its reporter early instead of waiting for the next heartbeat.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar


class Fingerprinted(Protocol):
    @property
    def fingerprint(self) -> Hashable: ...


S = TypeVar("S", bound=Fingerprinted)


class Latest(Generic[S]):
    def __init__(self) -> None:
        self._value: S | None = None
        self._lock = threading.Lock()

    def publish(self, snapshot: S) -> bool:
        """Keep ``snapshot`` as the newest; True when it is the first or says something new."""
        with self._lock:
            previous, self._value = self._value, snapshot
        return previous is None or previous.fingerprint != snapshot.fingerprint

    def get(self) -> S | None:
        with self._lock:
            return self._value

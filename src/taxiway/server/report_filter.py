"""What a status write may store: reports on services of the inventory, and nothing else.

``PUT /v1/regions/{region}/status`` and ``PUT /v1/pops/{pop}/status`` call
:func:`keep_known`. The region or PoP itself must be one of the topology (else 404), the
environment one of the model's (else 422: the set is fixed by the model, so another is a
broken or hostile writer); but a report on a service the inventory does not name is
*dropped*, and the rest of the batch is stored. Refusing the whole batch would be wrong:
an admin who takes a service out of the inventory while a satellite still runs it (until
the explicit tombstone reaches it) or an edge still routes it would have that region's
or PoP's every status write refused, its heartbeat included, for as long as the service
lingers there: the region would look dead to the edges and to ``taxiway status`` because
of one service it was about to stop. Dropping stores no row for the unknown name (a
writer cannot fill the store with junk) and loses nothing anyone can read: status is
only shown for services of the inventory.

:class:`DropWarnings` logs what was dropped once each time the set of dropped names of a
writer changes, not on every report period.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from typing import TypeVar

T = TypeVar("T")


def keep_known(
    items: Sequence[T], service_of: Callable[[T], str], known: Collection[str]
) -> tuple[list[T], list[str]]:
    """The items whose service is in ``known``, and the names of the others (sorted)."""
    kept = [item for item in items if service_of(item) in known]
    dropped = sorted({service_of(item) for item in items} - set(known))
    return kept, dropped


class DropWarnings:
    """A warning when a writer's dropped services change; thread-safe (routes run on a pool)."""

    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self._last: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def note(self, writer: str, dropped: Sequence[str]) -> None:
        now = tuple(dropped)
        with self._lock:
            if self._last.get(writer, ()) == now:
                return
            if now:
                self._last[writer] = now
            else:
                self._last.pop(writer, None)
        if now:
            shown = ", ".join(repr(name) for name in now[:10]) + (" ..." if len(now) > 10 else "")
            self._log.warning(
                "%s reported on %d services that are not in the inventory; those reports were dropped, "
                "the rest stored: %s",
                writer,
                len(now),
                shown,
            )

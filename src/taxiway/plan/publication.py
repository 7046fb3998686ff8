"""Which regions a deploy publishes to, and which it leaves with a tombstone. Pure.

Pointing an environment at a revision (:meth:`taxiway.store.sql.SqlStore.set_desired`)
writes one regional definition row per region; this module decides which. Every region
the revision names gets its new definition. A region that still holds a definition of
the service in that environment but that the revision no longer names gets an explicit,
versioned tombstone: a satellite removes a workload only on such a change, never because
a definition is missing (principle 2). A region whose row already is a tombstone is left
as it is, so a deploy does not wake regions it changes nothing for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Document = Mapping[str, Any]
"""A regional definition, as JSON."""


@dataclass(frozen=True)
class Publication:
    """What one deploy writes: new definitions by region, and the regions it tombstones."""

    definitions: dict[str, Document]
    tombstones: tuple[str, ...]


def decide(wanted: Mapping[str, Document], published: Mapping[str, Document | None]) -> Publication:
    """``wanted``: the revision's definitions by region; ``published``: what each region
    holds now (``None`` for a tombstone; absent where the service never ran there)."""
    return Publication(
        definitions=dict(wanted),
        tombstones=tuple(
            region
            for region, definition in published.items()
            if region not in wanted and definition is not None
        ),
    )

"""Who answers for a service: its manifest's ``metadata.owner``, else the inventory's.

A minimal manifest leaves ``metadata.owner`` out: the platform team's inventory already
lists the service's owners, and the first of them answers for it. When the manifest does
name an owner, it must be one of those (:mod:`taxiway.plan.derive` checks it). With
neither, nobody answers for the service: ``taxiway validate`` warns (:func:`unowned`), and
the control plane, whose inventory must list every service it deploys, refuses it.
"""

from __future__ import annotations

from taxiway.spec.document import Document
from taxiway.spec.inventory import Inventory
from taxiway.spec.manifest import Metadata
from taxiway.spec.problem import Problem

OWNER = ("metadata", "owner")


def owner(metadata: Metadata, inventory: Inventory | None) -> str | None:
    """The manifest's owner, or the first of the inventory's owners of the service, or None."""
    if metadata.owner is not None:
        return metadata.owner
    entry = inventory.by_name.get(metadata.name) if inventory is not None else None
    return entry.owners[0] if entry is not None else None


def unowned(metadata: Metadata, inventory: Inventory | None, doc: Document) -> Problem | None:
    """A warning when nobody answers for the service, saying how to name someone."""
    if owner(metadata, inventory) is not None:
        return None
    listed = (
        f"list it with its owners in {inventory.source}"
        if inventory is not None
        else ("list it with its owners in the inventory (--inventory FILE)")
    )
    return Problem(
        doc.locate(("metadata",)),
        OWNER,
        "no owner",
        expected="metadata.owner, or the service's owners in the inventory",
        hint=f"add `owner: <team>` under metadata, or {listed}; "
        f"`taxiway deploy` refuses a service nobody owns",
    )

"""What the store hands back: plain, frozen records, independent of SQLAlchemy rows."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Literal

Scope = Literal["admin", "owner", "satellite", "edge", "alerts", "metrics"]


@dataclass(frozen=True)
class Region:
    name: str
    continent: str
    driver: str


@dataclass(frozen=True)
class Service:
    name: str
    entry: dict[str, Any]
    version: int
    origin: Literal["file", "api"] = "file"
    """Seeded from the inventory file, or registered (or last changed) through the API."""


@dataclass(frozen=True)
class Revision:
    service: str
    number: int
    digest: str
    definitions: dict[str, Any]
    """Regional definitions (JSON) by environment, then region."""
    created_by: str
    created_at: datetime.datetime
    artifact: str | None = None
    """Digest of the service's files uploaded with the revision, if any."""
    pruned_at: datetime.datetime | None = None
    """When the service's retention pruned it (its definitions and artifact are gone)."""


@dataclass(frozen=True)
class Desired:
    service: str
    environment: str
    revision: int
    version: int
    updated_by: str
    updated_at: datetime.datetime


@dataclass(frozen=True)
class Published:
    """One region's current definition of a service+environment; None means removed."""

    region: str
    service: str
    environment: str
    revision: int
    definition: dict[str, Any] | None
    seq: int
    artifact: str | None = None


@dataclass(frozen=True)
class Changes:
    cursor: int
    items: list[Published] = field(default_factory=list)
    failed_nodes: list[tuple[str, str]] = field(default_factory=list)
    """The region's failed (datacenter, node) pairs now: always the complete set."""
    nodes_changed: bool = False
    """A node of the region changed state after the cursor asked about."""


@dataclass(frozen=True)
class Secret:
    """A platform secret of one service+environment; ``sealed`` is None once unset."""

    service: str
    environment: str
    name: str
    version: int
    digest: str | None
    """The keyed digest of the value (what owners see); None once unset."""
    set_by: str
    set_at: datetime.datetime
    sealed: str | None = field(default=None, repr=False)

    @property
    def live(self) -> bool:
        return self.sealed is not None


@dataclass(frozen=True)
class Heartbeat:
    region: str
    seen_at: datetime.datetime
    cursor: int
    api: str | None
    ingress: str | None = None


@dataclass(frozen=True)
class PopStatus:
    pop: str
    report: dict[str, Any]
    reported_at: datetime.datetime


@dataclass(frozen=True)
class Status:
    service: str
    environment: str
    report: dict[str, Any]
    region: str = ""
    reported_at: datetime.datetime | None = None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime.datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Token:
    id: str
    name: str
    scope: Scope
    services: tuple[str, ...]
    region: str | None
    """The region of a ``satellite`` token, the PoP of an ``edge`` token."""


@dataclass(frozen=True)
class IssuedToken:
    """A token as an admin lists it: what it may do, who made it, whether it is revoked.
    Never its secret, nor the secret's hash."""

    id: str
    name: str
    scope: Scope
    services: tuple[str, ...]
    bound: str | None
    """The region of a ``satellite`` token, the PoP of an ``edge`` token."""
    created_at: datetime.datetime
    created_by: str | None
    revoked_at: datetime.datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class DeliveredAlert:
    """An alert as Alertmanager delivered it, its service resolved against the inventory."""

    fingerprint: str
    starts_at: datetime.datetime
    status: Literal["firing", "resolved"]
    service: str | None
    """The ``service`` label when it names a service of the inventory; None otherwise."""
    labels: dict[str, str]
    annotations: dict[str, str]
    ends_at: datetime.datetime | None
    """When it ended; None while it fires (Alertmanager's zero time)."""
    generator_url: str
    owner: str | None
    """The ``owner`` label: the rules copy the inventory's owner there."""


@dataclass(frozen=True)
class Alert(DeliveredAlert):
    """One alert as recorded: by fingerprint and start time (see ``alert_rows``)."""

    updated_at: datetime.datetime
    """When the control plane last changed or received it."""

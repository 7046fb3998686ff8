"""The inventory's rows: seeded from the inventory file, registered and changed through the API.

:class:`~taxiway.store.sql.SqlStore` calls these inside its transactions. The file seeds
rows (``origin`` ``file``) and keeps them in step on every load; a row registered or
changed through the API (``origin`` ``api``) is the API's from then on, and the file no
longer overrides it. Deleting keeps the row (its revisions and audit trail stay) with
``deleted_at`` set; registering the name again brings it back with a new entry.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from taxiway.errors import Conflict, UnknownService
from taxiway.store import records
from taxiway.store.tables import definitions, services


def to_record(row: Any) -> records.Service:
    return records.Service(row.name, dict(row.entry), row.version, row.origin)


def live(c: sa.Connection, name: str) -> Any:
    """The row of a service that exists (not deleted), or :class:`UnknownService`."""
    row = c.execute(sa.select(services).where(services.c.name == name)).first()
    if row is None or row.deleted_at is not None:
        raise UnknownService(name)
    return row


def seed(c: sa.Connection, entries: Mapping[str, dict[str, Any]]) -> list[str]:
    """Bring the file's services in; answer the names the API has taken over (left as they are)."""
    current = {r.name: r for r in c.execute(sa.select(services))}
    kept = []
    for name, entry in entries.items():
        row = current.get(name)
        if row is None:
            c.execute(services.insert().values(name=name, entry=entry, version=1, origin="file"))
        elif row.origin == "api":
            if row.entry != entry or row.deleted_at is not None:
                kept.append(name)
        elif row.entry != entry or row.deleted_at is not None:
            c.execute(
                services.update()
                .where(services.c.name == name)
                .values(entry=entry, version=row.version + 1, deleted_at=None)
            )
    return kept


def register(c: sa.Connection, name: str, entry: dict[str, Any]) -> records.Service:
    row = c.execute(sa.select(services).where(services.c.name == name)).first()
    if row is not None and row.deleted_at is None:
        raise Conflict(
            f"service {name!r} is in the inventory already (from the {row.origin}); "
            f"change it with `taxiway services update {name}`"
        )
    if row is None:
        c.execute(services.insert().values(name=name, entry=entry, version=1, origin="api"))
    else:
        c.execute(
            services.update()
            .where(services.c.name == name)
            .values(entry=entry, version=row.version + 1, origin="api", deleted_at=None)
        )
    return to_record(live(c, name))


def update(
    c: sa.Connection, name: str, entry: dict[str, Any], expected_version: int | None
) -> records.Service:
    row = live(c, name)
    if expected_version is not None and row.version != expected_version:
        raise Conflict(
            f"service {name!r} changed since version {expected_version} (it is at {row.version}); "
            "nothing was changed: read it again and retry"
        )
    c.execute(
        services.update()
        .where(services.c.name == name, services.c.version == row.version)
        .values(entry=entry, version=row.version + 1, origin="api")
    )
    return to_record(live(c, name))


def running(c: sa.Connection, name: str) -> dict[str, list[str]]:
    """The regions where ``name`` has a live definition, by environment."""
    found: dict[str, list[str]] = {}
    # A tombstone is stored as JSON null, which SQL's IS NOT NULL does not tell from a
    # definition: look at the value.
    for row in c.execute(
        sa.select(definitions.c.environment, definitions.c.region, definitions.c.definition)
        .where(definitions.c.service == name)
        .order_by(definitions.c.environment, definitions.c.region)
    ):
        if row.definition is not None:
            found.setdefault(row.environment, []).append(row.region)
    return found


def delete(c: sa.Connection, name: str, now: datetime.datetime) -> records.Service:
    row = live(c, name)
    still = running(c, name)
    if still:
        where = "; ".join(f"{env} ({', '.join(regions)})" for env, regions in sorted(still.items()))
        steps = " and ".join(f"`taxiway services undeploy {name} --env {env}`" for env in sorted(still))
        raise Conflict(
            f"service {name!r} still has definitions in {where}; nothing was deleted. "
            f"Remove them first with {steps} (its instances stop), then delete it"
        )
    c.execute(
        services.update().where(services.c.name == name).values(deleted_at=now, version=row.version + 1)
    )
    return to_record(row)

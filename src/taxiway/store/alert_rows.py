"""The alerts' rows: record what Alertmanager delivers, and list a service's alerts.

:class:`~taxiway.store.sql.SqlStore` calls these inside its transactions. A row is one
firing of one alert: its fingerprint and its start time (Alertmanager keeps both for as
long as the alert fires, and gives a new start time when it fires again). Recording is
idempotent, as Alertmanager's retries and repeat notifications need:

- an alert not recorded yet is inserted, firing or resolved as it says;
- a firing alert sent again refreshes its annotations, end and ``updated_at``;
- a resolved one resolves the firing row (its ``ends_at`` is when it ended);
- a resolved row stays resolved: a late retry of an older firing notification does not
  bring it back (the next firing has another start time, so another row).

:func:`record` answers which alerts changed state (new or newly resolved): those are the
ones the audit log names.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from taxiway.store import records
from taxiway.store.tables import alerts


def _utc(moment: datetime.datetime) -> datetime.datetime:
    """UTC, with its zone: SQLite keeps no zone, so every time is written in UTC and read back so."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)


def to_record(row: Any) -> records.Alert:
    return records.Alert(
        fingerprint=row.fingerprint,
        starts_at=_utc(row.starts_at),
        status="resolved" if row.status == "resolved" else "firing",
        service=row.service,
        labels=dict(row.labels),
        annotations=dict(row.annotations),
        ends_at=None if row.ends_at is None else _utc(row.ends_at),
        generator_url=row.generator_url,
        owner=row.owner,
        updated_at=_utc(row.updated_at),
    )


def record(
    c: sa.Connection, incoming: Sequence[records.DeliveredAlert], now: datetime.datetime
) -> list[records.DeliveredAlert]:
    """Record ``incoming`` (see the module docstring); answers those that changed state."""
    changed: list[records.DeliveredAlert] = []
    for alert in incoming:
        starts_at = _utc(alert.starts_at)
        ends_at = None if alert.ends_at is None else _utc(alert.ends_at)
        key = (alerts.c.fingerprint == alert.fingerprint) & (alerts.c.starts_at == starts_at)
        row = c.execute(sa.select(alerts.c.status).where(key).with_for_update()).first()
        if row is None:
            c.execute(
                alerts.insert().values(
                    fingerprint=alert.fingerprint,
                    starts_at=starts_at,
                    status=alert.status,
                    service=alert.service,
                    labels=alert.labels,
                    annotations=alert.annotations,
                    ends_at=ends_at,
                    generator_url=alert.generator_url,
                    owner=alert.owner,
                    updated_at=now,
                )
            )
            changed.append(alert)
        elif row.status == "firing":
            c.execute(
                alerts.update()
                .where(key)
                .values(status=alert.status, annotations=alert.annotations, ends_at=ends_at, updated_at=now)
            )
            if alert.status == "resolved":
                changed.append(alert)
    return changed


def listed(c: sa.Connection, service: str | None, status: str | None, limit: int) -> list[records.Alert]:
    """The alerts of ``service`` (None: of every service, and of none), newest first, at
    most ``limit``; only those in ``status`` when given."""
    query = sa.select(alerts)
    if service is not None:
        query = query.where(alerts.c.service == service)
    if status is not None:
        query = query.where(alerts.c.status == status)
    ordered = query.order_by(alerts.c.starts_at.desc(), alerts.c.fingerprint).limit(limit)
    return [to_record(r) for r in c.execute(ordered)]

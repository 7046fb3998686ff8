"""Recording what became of each revision, inside the store's own transactions.

:class:`~taxiway.store.sql.SqlStore` calls :func:`record_deploy` from ``set_desired`` (the
same transaction that points the environment) and :func:`record_reports` from
``report_status`` (the same transaction that stores the reports), so an outcome is
durable exactly when the fact it stands for is. Only reports on the revision an
environment points at count: a satellite still reporting the previous one (it has not
pulled yet, or keeps it serving until the new one is ready) says nothing new about it.
Each region's verdict is its own row, so regions reporting at once never overwrite each
other's.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from taxiway.plan import outcomes
from taxiway.store import records
from taxiway.store.tables import desired, environment_outcomes, region_outcomes, revisions

VERDICTS = frozenset({"progressing", "ready", "failed"})
MAX_MESSAGE = 2000


def _of(table: sa.Table, service: str, environment: str, revision: int) -> sa.ColumnElement[bool]:
    """The rows of ``table`` about one revision of a service in one environment."""
    return sa.and_(
        table.c.service == service, table.c.environment == environment, table.c.revision == revision
    )


def record_deploy(
    c: sa.Connection,
    service: str,
    environment: str,
    revision: int,
    previous: int | None,
    actor: str,
    now: datetime.datetime,
) -> None:
    """``environment`` now points at ``revision`` (it pointed at ``previous``)."""
    key = _of(environment_outcomes, service, environment, revision)
    values = {
        "deployed_at": now,
        "deployed_by": actor,
        "left_at": None,
        "left_for": None,
        "rolled_back": False,
    }
    if c.execute(sa.select(environment_outcomes.c.revision).where(key)).first() is None:
        c.execute(
            environment_outcomes.insert().values(
                service=service, environment=environment, revision=revision, **values
            )
        )
    else:
        c.execute(environment_outcomes.update().where(key).values(**values))
        # Deployed again: each region starts over; when it first became ready is kept.
        c.execute(
            region_outcomes.update()
            .where(_of(region_outcomes, service, environment, revision))
            .values(state="progressing", message="deployed again", updated_at=now)
        )
    if previous is not None and previous != revision:
        record_left(c, service, environment, previous, revision, now)


def record_left(
    c: sa.Connection,
    service: str,
    environment: str,
    revision: int,
    left_for: int | None,
    now: datetime.datetime,
) -> None:
    """``environment`` left ``revision`` for ``left_for`` (None: the service was removed)."""
    c.execute(
        environment_outcomes.update()
        .where(
            _of(environment_outcomes, service, environment, revision),
            environment_outcomes.c.left_at.is_(None),
        )
        .values(left_at=now, left_for=left_for, rolled_back=left_for is not None and left_for < revision)
    )


def record_reports(
    c: sa.Connection, region: str, reports: Sequence[records.Status], now: datetime.datetime
) -> None:
    """Each report's verdict on the revision its environment points at, where it changed."""
    by_key: dict[tuple[str, str], Mapping[str, Any]] = {(r.service, r.environment): r.report for r in reports}
    if not by_key:
        return
    names = sorted({service for service, _ in by_key})
    pointed = {
        (row.service, row.environment): int(row.revision)
        for row in c.execute(
            sa.select(desired.c.service, desired.c.environment, desired.c.revision).where(
                desired.c.service.in_(names)
            )
        )
    }
    wanted: dict[tuple[str, str, int], tuple[str, str]] = {}
    for key, report in by_key.items():
        number = pointed.get(key)
        phase = report.get("phase")
        if number is None or report.get("revision") != number or phase not in VERDICTS:
            continue
        wanted[(*key, number)] = (str(phase), str(report.get("message") or "")[:MAX_MESSAGE])
    if not wanted:
        return
    columns = (region_outcomes.c.service, region_outcomes.c.environment, region_outcomes.c.revision)
    existing = {
        (row.service, row.environment, row.revision): row
        for row in c.execute(
            sa.select(region_outcomes).where(
                region_outcomes.c.region == region, sa.tuple_(*columns).in_(list(wanted))
            )
        )
    }
    for (service, environment, number), (state, message) in wanted.items():
        row = existing.get((service, environment, number))
        ready_at = now if state == "ready" else None
        if row is None:
            c.execute(
                region_outcomes.insert().values(
                    service=service,
                    environment=environment,
                    revision=number,
                    region=region,
                    state=state,
                    message=message,
                    ready_at=ready_at,
                    updated_at=now,
                )
            )
        elif row.state != state or row.message != message or (ready_at and row.ready_at is None):
            c.execute(
                region_outcomes.update()
                .where(_of(region_outcomes, service, environment, number), region_outcomes.c.region == region)
                .values(state=state, message=message, ready_at=row.ready_at or ready_at, updated_at=now)
            )


def read(c: sa.Connection, service: str) -> list[outcomes.Outcome]:
    """Every recorded outcome of ``service``, by revision then environment."""
    pointed = {
        row.environment: int(row.revision)
        for row in c.execute(sa.select(desired).where(desired.c.service == service))
    }
    deployments = [
        outcomes.Deployment(
            row.service,
            row.environment,
            int(row.revision),
            row.deployed_at,
            row.deployed_by,
            row.left_at,
            row.left_for,
            bool(row.rolled_back),
        )
        for row in c.execute(
            sa.select(environment_outcomes)
            .where(environment_outcomes.c.service == service)
            .order_by(environment_outcomes.c.revision, environment_outcomes.c.environment)
        )
    ]
    verdicts: dict[tuple[int, str], list[outcomes.RegionVerdict]] = {}
    for row in c.execute(sa.select(region_outcomes).where(region_outcomes.c.service == service)):
        verdicts.setdefault((int(row.revision), row.environment), []).append(
            outcomes.RegionVerdict(row.region, row.state, row.message, row.ready_at, row.updated_at)
        )
    numbers = sorted({d.revision for d in deployments})
    regions: dict[tuple[int, str], list[str]] = {}
    if numbers:
        for row in c.execute(
            sa.select(revisions.c.number, revisions.c.definitions).where(
                revisions.c.service == service, revisions.c.number.in_(numbers)
            )
        ):
            for environment, by_region in dict(row.definitions).items():
                regions[(int(row.number), environment)] = sorted(by_region)
    return [
        outcomes.summarise(
            d,
            regions.get((d.revision, d.environment), []),
            verdicts.get((d.revision, d.environment), []),
            pointed.get(d.environment),
        )
        for d in deployments
    ]

"""Applying a service's retention (:mod:`taxiway.plan.retention`) inside the store's transactions.

:meth:`~taxiway.store.sql.SqlStore.create_revision` reads the service's kept revisions and
what must stay (:func:`decide`), and prunes in the same transaction that stores the new
revision, so a refused revision stores nothing and prunes nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import sqlalchemy as sa

from taxiway.plan import retention
from taxiway.store import outcome_rows
from taxiway.store.tables import artifacts, desired, revisions, statuses
from taxiway.wire import region_status


def kept(c: sa.Connection, service: str) -> list[retention.Stored]:
    """The service's revisions not pruned, with the size of each one's artifact."""
    rows = c.execute(
        sa.select(revisions.c.number, revisions.c.artifact, artifacts.c.size)
        .select_from(revisions.outerjoin(artifacts, artifacts.c.digest == revisions.c.artifact))
        .where(revisions.c.service == service, revisions.c.pruned_at.is_(None))
        .order_by(revisions.c.number)
    )
    return [retention.Stored(int(r.number), r.artifact, int(r.size or 0)) for r in rows]


def _running(c: sa.Connection, service: str) -> dict[int, str]:
    """Revision → the regions whose latest report names it (the environment's or an
    instance's revision)."""
    where: dict[int, set[str]] = {}
    for row in c.execute(
        sa.select(statuses.c.region, statuses.c.report).where(statuses.c.service == service)
    ):
        report = region_status.Report.model_validate(row.report if isinstance(row.report, dict) else {})
        for number in {report.revision, *(i.revision for i in report.instances)}:
            if number is not None:
                where.setdefault(number, set()).add(row.region)
    return {number: ", ".join(sorted(regions)) for number, regions in where.items()}


def must_keep(c: sa.Connection, service: str) -> dict[int, str]:
    """What retention may never prune of ``service``, each with why."""
    pointed = {
        row.environment: int(row.revision)
        for row in c.execute(
            sa.select(desired.c.environment, desired.c.revision).where(desired.c.service == service)
        )
    }
    return retention.needed(pointed, outcome_rows.read(c, service), _running(c, service))


def decide(
    c: sa.Connection, service: str, incoming: retention.Stored | None, policy: retention.Policy
) -> retention.Decision:
    return retention.decide(service, kept(c, service), incoming, must_keep(c, service), policy)


def prune(c: sa.Connection, service: str, numbers: Sequence[int], now: datetime.datetime) -> int:
    """Prune ``numbers`` of ``service``; delete the artifacts no kept revision uses any
    more. Answers the bytes of artifacts deleted."""
    if not numbers:
        return 0
    chosen = (revisions.c.service == service) & revisions.c.number.in_(list(numbers))
    released = {
        r.artifact for r in c.execute(sa.select(revisions.c.artifact).where(chosen)) if r.artifact is not None
    }
    c.execute(revisions.update().where(chosen).values(pruned_at=now, definitions={}))
    if not released:
        return 0
    still_used = {
        r.artifact
        for r in c.execute(
            sa.select(revisions.c.artifact).where(
                revisions.c.artifact.in_(sorted(released)), revisions.c.pruned_at.is_(None)
            )
        )
    }
    unused = sorted(released - still_used)
    if not unused:
        return 0
    freed = int(
        c.execute(
            sa.select(sa.func.coalesce(sa.func.sum(artifacts.c.size), 0)).where(
                artifacts.c.digest.in_(unused)
            )
        ).scalar_one()
    )
    c.execute(artifacts.delete().where(artifacts.c.digest.in_(unused)))
    return freed

"""The tokens' rows: issue, list and revoke (``taxiway tokens``, ``POST/GET/DELETE /v1/tokens``).

:class:`~taxiway.store.sql.SqlStore` calls these inside its transactions. A row holds the
SHA-256 of the token's secret, never the secret; nothing here answers either. Revoking
sets ``revoked_at`` (the row stays, so the audit trail and ``tokens list`` keep naming
it); :meth:`SqlStore.authenticate` reads the row on every request, so a revoked token is
refused from the very next one. Revoking twice answers the first revocation and changes
nothing. The last admin token that is not revoked cannot be revoked: without one, no one
could reach the admin API again (``taxiway server init --force`` would have to make one
from the database itself).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from taxiway.errors import Conflict, NotFound
from taxiway.store import records
from taxiway.store.tables import tokens


def _utc(moment: datetime.datetime) -> datetime.datetime:
    """SQLite hands times back without their zone; they were written in UTC."""
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=datetime.UTC)


def to_record(row: Any) -> records.IssuedToken:
    return records.IssuedToken(
        id=row.id,
        name=row.name,
        scope=row.scope,
        services=tuple(row.services),
        bound=row.region,
        created_at=_utc(row.created_at),
        created_by=row.created_by,
        revoked_at=None if row.revoked_at is None else _utc(row.revoked_at),
    )


def insert(
    c: sa.Connection,
    issued: records.IssuedToken,
    secret_hash: str,
) -> None:
    c.execute(
        tokens.insert().values(
            id=issued.id,
            name=issued.name,
            secret_hash=secret_hash,
            scope=issued.scope,
            services=list(issued.services),
            region=issued.bound,
            created_at=issued.created_at,
            created_by=issued.created_by,
        )
    )


def listed(c: sa.Connection) -> list[records.IssuedToken]:
    """Every token, revoked ones included, oldest first."""
    query = sa.select(*[col for col in tokens.c if col.name != "secret_hash"])
    return [to_record(r) for r in c.execute(query.order_by(tokens.c.created_at, tokens.c.id))]


def revoke(c: sa.Connection, token_id: str, now: datetime.datetime) -> tuple[records.IssuedToken, bool]:
    """Revoke ``token_id``; answers its row and whether this call revoked it (False: it
    already was). :class:`NotFound` for an unknown id, :class:`Conflict` for the last admin."""
    row = c.execute(sa.select(tokens).where(tokens.c.id == token_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"no token with id {token_id!r}; `taxiway tokens list` shows them")
    if row.revoked_at is not None:
        return to_record(row), False
    if row.scope == "admin":
        # Locked rows: two admins revoking each other at once cannot leave none (PostgreSQL);
        # SQLite's write transaction already serialises them.
        admins: Sequence[Any] = c.execute(
            sa.select(tokens.c.id)
            .where(tokens.c.scope == "admin", tokens.c.revoked_at.is_(None))
            .with_for_update()
        ).all()
        if [a.id for a in admins] == [token_id]:
            raise Conflict(
                f"token {token_id} is the last admin token that is not revoked; nothing was revoked. "
                "Create another first (`taxiway tokens create NAME --scope admin`), then revoke this one"
            )
    c.execute(tokens.update().where(tokens.c.id == token_id).values(revoked_at=now))
    return dataclasses.replace(to_record(row), revoked_at=now), True

"""Revision outcomes per environment and region; services registered through the API.

Revision ID: 0004
Revises: 0003

Existing deployments are carried over: each environment's current revision gets an
outcome row, and each region's latest status report on it becomes that region's verdict,
so ``rollback`` knows what was ready before the upgrade.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
VERDICTS = {"ready", "failed", "progressing"}


def upgrade() -> None:
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("origin", sa.String(8), nullable=False, server_default="file"))
        batch.add_column(sa.Column("deleted_at", Timestamp, nullable=True))
    environment_outcomes = op.create_table(
        "environment_outcomes",
        sa.Column("service", sa.String(63), primary_key=True),
        sa.Column("environment", sa.String(32), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("deployed_at", Timestamp, nullable=False),
        sa.Column("deployed_by", sa.String(128), nullable=False),
        sa.Column("left_at", Timestamp, nullable=True),
        sa.Column("left_for", sa.Integer, nullable=True),
        sa.Column("rolled_back", sa.Boolean, nullable=False),
    )
    region_outcomes = op.create_table(
        "region_outcomes",
        sa.Column("service", sa.String(63), primary_key=True),
        sa.Column("environment", sa.String(32), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("region", sa.String(63), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("ready_at", Timestamp, nullable=True),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    assert environment_outcomes is not None
    assert region_outcomes is not None
    _carry_over(op.get_bind(), environment_outcomes, region_outcomes)


def _carry_over(bind: sa.Connection, environment_outcomes: sa.Table, region_outcomes: sa.Table) -> None:
    meta = sa.MetaData()
    desired = sa.Table("desired", meta, autoload_with=bind)
    statuses = sa.Table("statuses", meta, autoload_with=bind)
    current: dict[tuple[str, str], int] = {}
    for row in bind.execute(sa.select(desired)):
        current[(row.service, row.environment)] = row.revision
        bind.execute(
            environment_outcomes.insert().values(
                service=row.service,
                environment=row.environment,
                revision=row.revision,
                deployed_at=row.updated_at,
                deployed_by=row.updated_by,
                rolled_back=False,
            )
        )
    for row in bind.execute(sa.select(statuses)):
        report: Any = row.report
        number = current.get((row.service, row.environment))
        if not isinstance(report, dict) or number is None or report.get("revision") != number:
            continue
        state = report.get("phase")
        if state not in VERDICTS:
            continue
        bind.execute(
            region_outcomes.insert().values(
                service=row.service,
                environment=row.environment,
                revision=number,
                region=row.region,
                state=state,
                message=str(report.get("message") or "")[:2000],
                ready_at=row.reported_at if state == "ready" else None,
                updated_at=row.reported_at,
            )
        )


def downgrade() -> None:
    op.drop_table("region_outcomes")
    op.drop_table("environment_outcomes")
    with op.batch_alter_table("services") as batch:
        batch.drop_column("deleted_at")
        batch.drop_column("origin")

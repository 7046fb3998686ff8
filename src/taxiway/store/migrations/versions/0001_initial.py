"""The initial store: regions, services, revisions, desired state, definitions, status, audit, tokens.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "counters",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(
        sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger)),
        [{"name": "changes", "value": 0}],
    )
    op.create_table(
        "regions",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("continent", sa.String(63), nullable=False),
        sa.Column("driver", sa.String(32), nullable=False),
    )
    op.create_table(
        "services",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("entry", JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "revisions",
        sa.Column("service", sa.String(63), sa.ForeignKey("services.name"), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("digest", sa.String(80), nullable=False),
        sa.Column("definitions", JSON, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_table(
        "desired",
        sa.Column("service", sa.String(63), sa.ForeignKey("services.name"), primary_key=True),
        sa.Column("environment", sa.String(32), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    op.create_table(
        "definitions",
        sa.Column("region", sa.String(63), primary_key=True),
        sa.Column("service", sa.String(63), primary_key=True),
        sa.Column("environment", sa.String(32), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("definition", JSON, nullable=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_definitions_seq", "definitions", ["seq"])
    op.create_table(
        "statuses",
        sa.Column("region", sa.String(63), primary_key=True),
        sa.Column("service", sa.String(63), primary_key=True),
        sa.Column("environment", sa.String(32), primary_key=True),
        sa.Column("report", JSON, nullable=False),
        sa.Column("reported_at", Timestamp, nullable=False),
    )
    op.create_table(
        "heartbeats",
        sa.Column("region", sa.String(63), primary_key=True),
        sa.Column("seen_at", Timestamp, nullable=False),
        sa.Column("cursor", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(256), nullable=False),
        sa.Column("detail", JSON, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("services", JSON, nullable=False),
        sa.Column("region", sa.String(63), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("revoked_at", Timestamp, nullable=True),
    )


def downgrade() -> None:
    for table in (
        "tokens",
        "audit",
        "heartbeats",
        "statuses",
        "definitions",
        "desired",
        "revisions",
        "services",
        "regions",
        "counters",
    ):
        op.drop_table(table)

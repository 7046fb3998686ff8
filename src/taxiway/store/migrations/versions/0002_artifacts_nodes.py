"""Artifacts of revisions, node states, satellites' API and ingress addresses, PoP status.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "artifacts",
        sa.Column("digest", sa.String(80), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    with op.batch_alter_table("revisions") as batch:
        batch.add_column(sa.Column("artifact", sa.String(80), nullable=True))
    with op.batch_alter_table("heartbeats") as batch:
        batch.add_column(sa.Column("api", sa.String(256), nullable=True))
        batch.add_column(sa.Column("ingress", sa.String(256), nullable=True))
    op.create_table(
        "pop_statuses",
        sa.Column("pop", sa.String(63), primary_key=True),
        sa.Column("report", JSON, nullable=False),
        sa.Column("reported_at", Timestamp, nullable=False),
    )
    op.create_table(
        "node_states",
        sa.Column("region", sa.String(63), primary_key=True),
        sa.Column("datacenter", sa.String(63), primary_key=True),
        sa.Column("node", sa.String(63), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("node_states")
    op.drop_table("pop_statuses")
    with op.batch_alter_table("heartbeats") as batch:
        batch.drop_column("ingress")
        batch.drop_column("api")
    with op.batch_alter_table("revisions") as batch:
        batch.drop_column("artifact")
    op.drop_table("artifacts")

"""Platform secrets: the values ``taxiway secrets set`` stores per service and environment.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "secrets",
        sa.Column("service", sa.String(63), sa.ForeignKey("services.name"), primary_key=True),
        sa.Column("environment", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("sealed", sa.Text, nullable=True),
        sa.Column("digest", sa.String(80), nullable=True),
        sa.Column("set_by", sa.String(128), nullable=False),
        sa.Column("set_at", Timestamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("secrets")

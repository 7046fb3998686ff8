"""Alerts Alertmanager delivers to the control plane (``POST /v1/alerts``).

Revision ID: 0007
Revises: 0006

One row per firing of an alert, keyed by its fingerprint and start time; resolved in place.
Token scopes are free text in ``tokens.scope`` (no constraint to widen): the new ``alerts``
scope needs no change there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("starts_at", Timestamp, primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("service", sa.String(63), nullable=True),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("annotations", JSON, nullable=False),
        sa.Column("ends_at", Timestamp, nullable=True),
        sa.Column("generator_url", sa.Text, nullable=False),
        sa.Column("owner", sa.String(1024), nullable=True),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    op.create_index("ix_alerts_service_status", "alerts", ["service", "status"])


def downgrade() -> None:
    op.drop_index("ix_alerts_service_status", table_name="alerts")
    op.drop_table("alerts")

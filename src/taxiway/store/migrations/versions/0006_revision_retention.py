"""When a revision was pruned by the service's retention (``taxiway.plan.retention``).

Revision ID: 0006
Revises: 0005

A pruned revision keeps its row and number; its definitions are emptied and its
artifact deleted once no kept revision uses it. Nothing is pruned by the migration itself:
the first revision a service stores afterwards applies its retention.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("revisions") as batch:
        batch.add_column(sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("revisions") as batch:
        batch.drop_column("pruned_at")

"""Who created each token (``taxiway tokens list`` shows it).

Revision ID: 0005
Revises: 0004

Tokens created before this migration get their creator from the audit log's
``token.create`` row, which has always named it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("created_by", sa.String(128), nullable=True))
    bind = op.get_bind()
    meta = sa.MetaData()
    tokens = sa.Table("tokens", meta, autoload_with=bind)
    audit = sa.Table("audit", meta, autoload_with=bind)
    created = bind.execute(
        sa.select(audit.c.target, audit.c.actor).where(audit.c.action == "token.create").order_by(audit.c.id)
    )
    for row in created:
        token_id = str(row.target).removeprefix("token:")
        bind.execute(tokens.update().where(tokens.c.id == token_id).values(created_by=row.actor))


def downgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("created_by")

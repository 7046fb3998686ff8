"""Alembic environment: runs migrations on the connection handed in by ``migrate.upgrade``."""

from __future__ import annotations

from alembic import context

from taxiway.store import tables

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=tables.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

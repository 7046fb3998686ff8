"""Alembic migrations of the store; applied by :func:`taxiway.store.migrate.upgrade`."""

"""The control plane's durable store: SQLite by default, PostgreSQL for HA.

Everything the API acknowledges is committed here first (principle 3). Schema changes go
through Alembic migrations shipped in :mod:`taxiway.store.migrations`.
"""

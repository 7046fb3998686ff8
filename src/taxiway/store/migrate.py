"""Bring a database to the newest schema with the shipped Alembic migrations.

Called by ``taxiway server`` at start and by ``taxiway server init``; safe to run on every
start (a current database is left as it is).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        command.upgrade(_config(connection), "head")


def current(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        row = connection.execute(sa.text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])

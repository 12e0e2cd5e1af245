"""Versioned schema migrations (Alembic), applied before any asset writes."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from festival_pipeline.database.connection import ensure_database_exists, to_sqlalchemy_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(database_url: str) -> tuple[str | None, str]:
    """Create the database if needed and migrate it to the newest revision.

    Returns (revision before, revision after); equal when there was nothing to do.
    Concurrent callers are serialised by a transaction-scoped advisory lock.
    """
    ensure_database_exists(database_url)
    engine = sqlalchemy.create_engine(to_sqlalchemy_url(database_url), poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("SELECT pg_advisory_xact_lock(hashtext('festival_pipeline.migrate'))"))
            before = MigrationContext.configure(connection).get_current_revision()
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            after = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    return before, after

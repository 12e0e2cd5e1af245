"""Dagster's PostgreSQL event log, keeping its connection between events.

dagster-postgres opens a new connection for every event-log operation (SQLAlchemy's NullPool,
so that short-lived instances never hold connections). A ranged Oscar run stores ~600
per-partition "materialization planned" events before its first step starts, two connections
each, which made connecting the largest single cost of a backfill (benchmarks/README.md). This
storage is the same class with a small pool: one connection kept per process, more opened only
while several threads write at once. It is what the Dagster webserver does to the same storage
(`optimize_for_webserver`); dagster.yaml names this class for the event log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster._serdes import ConfigurableClassData
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config

POOL_SIZE = 1  # connections kept open per process
MAX_OVERFLOW = 10  # extra connections while threads (daemon, webserver) write concurrently
POOL_RECYCLE_SECONDS = 3600


class PooledPostgresEventLogStorage(PostgresEventLogStorage):
    """`PostgresEventLogStorage` with a kept connection instead of one connection per operation."""

    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True,
                 inst_data: ConfigurableClassData | None = None, token_provider: Any = None) -> None:
        super().__init__(postgres_url, should_autocreate_tables, inst_data, token_provider)
        self._engine.dispose()
        self._engine = create_pg_engine(
            self.postgres_url,
            token_provider,
            isolation_level="AUTOCOMMIT",
            pool_size=POOL_SIZE,
            max_overflow=MAX_OVERFLOW,
            pool_recycle=POOL_RECYCLE_SECONDS,
            pool_pre_ping=True,  # a server restarted between events is reconnected, not an error
        )

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> PooledPostgresEventLogStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )

    def dispose(self) -> None:
        super().dispose()
        self._engine.dispose()  # close the kept connection with the instance

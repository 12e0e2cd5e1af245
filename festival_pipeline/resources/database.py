"""The festival database resource: which PostgreSQL, and transactions on it."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2.extensions
from dagster import ConfigurableResource, InitResourceContext
from psycopg2.extensions import cursor as Cursor
from pydantic import Field, PrivateAttr

from festival_pipeline import settings
from festival_pipeline.database import connection, migrate
from festival_pipeline.settings import DatabaseSettings


@functools.cache
def _started(database: DatabaseSettings) -> str:
    """Start the embedded server if it is the one in use, and migrate, once per process."""
    url = connection.resolve_database_urls(database).festival
    migrate.upgrade(url)
    return url


class FestivalDatabase(ConfigurableResource):
    """The unified festival tables: an external PostgreSQL by URL, else the embedded server.

    `start()` makes the database reachable and migrated (starting the embedded server when it is
    the one in use) — Dagster calls it when a step begins. During a step one connection is kept for
    all its transactions: a ranged step commits hundreds of small transactions, and connecting for
    each cost more than the writes.
    """

    database_url: str | None = Field(
        default=None, description="postgresql://… of the festival database; unset = the embedded server.")
    pipeline_home: str = Field(default=settings.DEFAULT_PIPELINE_HOME,
                               description="The project's home: it names the embedded server.")

    _url: str | None = PrivateAttr(default=None)
    _kept: psycopg2.extensions.connection | None = PrivateAttr(default=None)
    _kept_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _keep_connection: bool = PrivateAttr(default=False)

    def settings(self) -> DatabaseSettings:
        return DatabaseSettings(home=Path(self.pipeline_home), festival_url=self.database_url)

    def start(self) -> str:
        """Make the database reachable and migrated; returns its URL."""
        if self._url is None:
            self._url = _started(self.settings())
        return self._url

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self.start()
        self._keep_connection = True

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        kept, self._kept, self._keep_connection = self._kept, None, False
        if kept is not None:
            kept.close()

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """One transaction: committed when the block ends, rolled back on any error."""
        url = self.start()
        if not self._keep_connection or not self._kept_lock.acquire(blocking=False):
            # outside a step, or the kept connection is busy (a transaction inside another, or
            # another thread): a connection of its own
            with connection.transaction(url) as cursor:
                yield cursor
            return
        try:
            if self._kept is None or self._kept.closed:
                self._kept = connection.connect(url)
            kept = self._kept
            try:
                with kept.cursor() as cursor:
                    yield cursor
                kept.commit()
            except BaseException:
                if not kept.closed:  # a lost connection has nothing to roll back; keep its error
                    kept.rollback()
                raise
            finally:
                if kept.closed or kept.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                    kept.close()  # lost or unusable: the next transaction connects afresh
                    self._kept = None
        finally:
            self._kept_lock.release()

"""Dagster resources: the festival database and the source websites.

Both read the environment when a run starts (not when the code is imported), so one
code location serves the embedded database, an external one, the simulator and the
real sites alike.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2.extensions
from dagster import ConfigurableResource, InitResourceContext
from psycopg2.extensions import cursor as Cursor
from pydantic import PrivateAttr

from festival_pipeline.database import connection, migrate
from festival_pipeline.settings import DEFAULT_IMDB_BASE_URL, DEFAULT_OSCARS_BASE_URL, SourceUrls, fetcher_settings
from festival_pipeline.sources import Fetchers, process_fetchers
from festival_pipeline.sources.fetcher import Fetcher


@functools.cache
def _migrated(url: str) -> str:
    """Migrate each database to head once per process, before the first write."""
    migrate.upgrade(url)
    return url


class FestivalDatabase(ConfigurableResource):
    """The unified festival tables (embedded PostgreSQL unless FESTIVAL_DATABASE_URL is set).

    During a run each step process keeps one connection open for all its transactions: a
    ranged Oscar step commits ~600 small transactions, and connecting for each (finding
    the server, TCP, SCRAM) cost more than the writes. Outside a run (schedules, tests
    calling assets directly) each transaction has a connection of its own.
    """

    _step_url: str | None = PrivateAttr(default=None)
    _step_connection: psycopg2.extensions.connection | None = PrivateAttr(default=None)
    _step_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def url(self) -> str:
        return self._step_url or _migrated(connection.resolve_database_urls().festival)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._step_url = self.url()  # found (and migrated) once for the step

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        kept, self._step_connection, self._step_url = self._step_connection, None, None
        if kept is not None:
            kept.close()

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """One transaction: committed when the block ends, rolled back on any error."""
        if self._step_url is None or not self._step_lock.acquire(blocking=False):
            # outside a run, or the kept connection is busy (a transaction opened inside another,
            # or another thread): a connection of its own, as before
            with connection.transaction(self.url()) as cursor:
                yield cursor
            return
        try:
            if self._step_connection is None or self._step_connection.closed:
                self._step_connection = connection.connect(self._step_url)
            kept = self._step_connection
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
                    self._step_connection = None
        finally:
            self._step_lock.release()


class SourceWebsites(ConfigurableResource):
    """oscars.org and IMDb (or the simulator standing in for them): base URLs and politeness."""

    oscars_base_url: str = DEFAULT_OSCARS_BASE_URL
    imdb_base_url: str = DEFAULT_IMDB_BASE_URL

    def fetchers(self) -> Fetchers:
        """One set of fetchers per process, so the per-host rate limit and the browser are shared
        across the assets of a run."""
        return process_fetchers(fetcher_settings())

    def fetcher(self, site: str) -> Fetcher:
        """The fetcher of ``site`` ("oscars" or "imdb")."""
        return self.fetchers().for_site(site)

    def oscars_ceremony_url(self, year: int) -> str:
        return f"{self.oscars_base_url.rstrip('/')}/oscars/ceremonies/{year}"

    def imdb_edition_url(self, event_id: str, year: int, instance: int) -> str:
        return f"{self.imdb_base_url.rstrip('/')}/event/{event_id}/{year}/{instance}/"

    def imdb_event_url(self, event_id: str) -> str:
        """The event's own URL: IMDb redirects it to the latest edition, whose page lists every edition."""
        return f"{self.imdb_base_url.rstrip('/')}/event/{event_id}/"


def source_websites_from_env() -> SourceWebsites:
    urls = SourceUrls.from_env()
    return SourceWebsites(oscars_base_url=urls.oscars, imdb_base_url=urls.imdb)


__all__ = ["FestivalDatabase", "SourceWebsites", "source_websites_from_env"]

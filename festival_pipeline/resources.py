"""Dagster resources: the festival database and the source websites.

Both read the environment when a run starts (not when the code is imported), so one
code location serves the embedded database, an external one, the simulator and the
real sites alike.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import ConfigurableResource
from psycopg2.extensions import cursor as Cursor

from festival_pipeline.database import connection, migrate
from festival_pipeline.settings import DEFAULT_IMDB_BASE_URL, DEFAULT_OSCARS_BASE_URL, SourceUrls
from festival_pipeline.sources.http_client import HttpSettings, PoliteHttpClient


@functools.cache
def _migrated(url: str) -> str:
    """Migrate each database to head once per process, before the first write."""
    migrate.upgrade(url)
    return url


class FestivalDatabase(ConfigurableResource):
    """The unified festival tables (embedded PostgreSQL unless FESTIVAL_DATABASE_URL is set)."""

    def url(self) -> str:
        return _migrated(connection.resolve_database_urls().festival)

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with connection.transaction(self.url()) as cursor:
            yield cursor


@functools.cache
def _client(settings: HttpSettings) -> PoliteHttpClient:
    return PoliteHttpClient(settings)


class SourceWebsites(ConfigurableResource):
    """oscars.org and IMDb (or the simulator standing in for them): base URLs and politeness."""

    oscars_base_url: str = DEFAULT_OSCARS_BASE_URL
    imdb_base_url: str = DEFAULT_IMDB_BASE_URL

    def http(self) -> PoliteHttpClient:
        """One client per process, so the per-host rate limit holds across the assets of a run."""
        return _client(HttpSettings.from_env())

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

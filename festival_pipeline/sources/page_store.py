"""Fetch a page politely, then archive it — never with a database transaction open while fetching
(a fetch with retries can take minutes; an idle transaction would hold a connection and locks)."""

from __future__ import annotations

from dataclasses import dataclass

from festival_pipeline.database import archive
from festival_pipeline.database.archive import ArchivedPage, FetchContext
from festival_pipeline.resources.database import FestivalDatabase
from festival_pipeline.sources.fetcher import Fetcher


@dataclass(frozen=True)
class StoredPage:
    page: ArchivedPage
    fetched: bool  # False when an earlier run of the same backfill fetched it


def fetch_and_archive(client: Fetcher, festival_db: FestivalDatabase, url: str,
                      fetched_by: FetchContext) -> StoredPage:
    """Fetch `url` (blocked / not found / server errors raise), then store the page in raw_pages with
    the fetcher that got it."""
    fetched = client.fetch(url)
    with festival_db.transaction() as cursor:
        page = archive.store_page(
            cursor, url=url, fetched_at=fetched.fetched_at, status=fetched.status, headers=fetched.headers,
            sha256=fetched.sha256, body=fetched.body, fetched_by=fetched_by, fetcher=fetched.fetcher,
        )
    return StoredPage(page, fetched=True)


def fetch_once_per_backfill(client: Fetcher, festival_db: FestivalDatabase, url: str,
                            fetched_by: FetchContext) -> StoredPage:
    """The page as an earlier run of the same backfill fetched it, else fetched now.

    For pages every chunk of a backfill reads (an event's edition list); outside a backfill it is
    always fetched.
    """
    if fetched_by.backfill_id:
        with festival_db.transaction() as cursor:
            page = archive.page_fetched_in_backfill(cursor, url, fetched_by.backfill_id)
        if page is not None:
            return StoredPage(page, fetched=False)
    return fetch_and_archive(client, festival_db, url, fetched_by)

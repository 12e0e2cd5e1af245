"""Fetch a page politely and archive it, or take it from the archive (reparse)."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2.extensions import cursor as Cursor

from festival_pipeline.database import archive
from festival_pipeline.database.archive import ArchivedPage
from festival_pipeline.sources.fetcher import Fetcher


@dataclass(frozen=True)
class StoredPage:
    page: ArchivedPage
    fetched: bool  # False when taken from the archive


def fetch_and_archive(client: Fetcher, cursor: Cursor, url: str) -> StoredPage:
    """Fetch `url` (blocked / not found / server errors raise) and store the page in raw_pages, with
    the fetcher that got it."""
    fetched = client.fetch(url)
    page_id = archive.store_page(
        cursor,
        url=url,
        fetched_at=fetched.fetched_at,
        status=fetched.status,
        headers=fetched.headers,
        sha256=fetched.sha256,
        body=fetched.body,
        fetcher=fetched.fetcher,
    )
    return StoredPage(
        ArchivedPage(page_id, url, fetched.fetched_at, fetched.status, fetched.headers, fetched.sha256, fetched.body),
        fetched=True,
    )


def page(client: Fetcher, cursor: Cursor, url: str, *, reparse: bool) -> StoredPage:
    """The page at `url`: fetched and archived, or (reparse) the newest archived copy."""
    if reparse:
        return StoredPage(archive.latest_page(cursor, url), fetched=False)
    return fetch_and_archive(client, cursor, url)

"""Archive what was fetched — never with a database transaction open while fetching (a fetch with
retries can take minutes; an idle transaction would hold a connection and locks)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from psycopg2.extensions import cursor as Cursor

from festival_pipeline.database import archive
from festival_pipeline.database.archive import PAGES, ArchivedPage, FetchContext
from festival_pipeline.sources.fetcher import FetchedPage

Transaction = Callable[[], AbstractContextManager[Cursor]]


class PageStore:
    """The raw archive as a step writes to it: each fetch stored right after it returned, with the run
    (and backfill) that fetched it. `transaction` opens one transaction on the festival database."""

    def __init__(self, transaction: Transaction, fetched_by: FetchContext) -> None:
        self.transaction, self.fetched_by = transaction, fetched_by
        self.fetched = 0  # requests made by this store's fetches (pages fetched, answers received)

    def fetch(self, fetch: Callable[[], FetchedPage], *, source: str = PAGES,
              request: dict | None = None) -> ArchivedPage:
        """Call `fetch` (its errors raise), then store what it got with the fetcher that got it (and,
        for an API answer, the request posted)."""
        fetched = fetch()
        self.fetched += 1
        with self.transaction() as cursor:
            return archive.store_page(
                cursor, url=fetched.url, fetched_at=fetched.fetched_at, status=fetched.status,
                headers=fetched.headers, sha256=fetched.sha256, body=fetched.body, fetched_by=self.fetched_by,
                fetcher=fetched.fetcher, source=source, request=request,
            )

    def fetch_once_per_backfill(self, url: str, fetch: Callable[[], FetchedPage], **stored: object) -> ArchivedPage:
        """What an earlier run of the same backfill got for `url`, else fetched now (`fetch`).

        For what every chunk of a backfill reads (an event's edition list); outside a backfill it is
        always fetched.
        """
        if self.fetched_by.backfill_id:
            with self.transaction() as cursor:
                page = archive.page_fetched_in_backfill(cursor, url, self.fetched_by.backfill_id)
            if page is not None:
                return page
        return self.fetch(fetch, **stored)  # type: ignore[arg-type]

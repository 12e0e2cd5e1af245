"""The raw page archive: every fetch, with what identifies it; bodies stored once per content hash.

Pages are archived right after they are fetched (no transaction is open while fetching), so the
archive holds what the sites served even when a later step fails.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from datetime import datetime

import psycopg2
from psycopg2.extensions import cursor as Cursor

from festival_pipeline.parsers.errors import PageParseError

PAGES, GRAPHQL = "pages", "graphql"  # what an archived body is: a site's page, or an API answer


@dataclass(frozen=True)
class ArchivedPage:
    """One archived fetch. The body is kept compressed and decompressed when read, so a
    step holding a whole range of pages holds them at about a tenth of their size."""

    id: int
    url: str
    fetched_at: datetime
    status: int
    headers: dict[str, str]
    sha256: str
    body_zlib: bytes = field(repr=False)
    fetcher: str | None = None  # what got it: direct, browser, zyte, zyte-browser-html, crawlbase, crawlbase-js
    source: str = PAGES  # a site's page, or an answer of IMDb's GraphQL API (GRAPHQL)
    request: dict | None = None  # an answer's query and variables, as posted

    @property
    def body(self) -> bytes:
        return zlib.decompress(self.body_zlib)

    @property
    def text(self) -> str:
        """The body as UTF-8; invalid bytes are an error, never replacement characters in names."""
        body = self.body
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PageParseError(self.url, f"invalid UTF-8 at byte {exc.start}: {exc.reason}") from exc


@dataclass(frozen=True)
class FetchContext:
    """Which run (and backfill) fetched a page."""

    run_id: str | None = None
    backfill_id: str | None = None


def store_page(
    cursor: Cursor, *, url: str, fetched_at: datetime, status: int, headers: dict[str, str], sha256: str,
    body: bytes, fetched_by: FetchContext = FetchContext(), fetcher: str | None = None, source: str = PAGES,
    request: dict | None = None,
) -> ArchivedPage:
    """Record one fetch and the fetcher that got it (for an API answer, the request posted); the body
    is stored once per content hash (an unchanged page adds no body)."""
    compressed = zlib.compress(body, 6)
    cursor.execute(
        """INSERT INTO raw_page_bodies (sha256, size_bytes, body_zlib) VALUES (%s, %s, %s)
           ON CONFLICT (sha256) DO NOTHING""",
        (sha256, len(body), psycopg2.Binary(compressed)),
    )
    cursor.execute(
        """INSERT INTO raw_pages (url, fetched_at, status, headers, sha256, size_bytes, run_id, backfill_id, fetcher,
                                  source, request)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (url, fetched_at, status, json.dumps(headers), sha256, len(body), fetched_by.run_id, fetched_by.backfill_id,
         fetcher, source, None if request is None else json.dumps(request)),
    )
    return ArchivedPage(cursor.fetchone()[0], url, fetched_at, status, headers, sha256, compressed, fetcher, source,
                        request)


_PAGE_COLUMNS = "p.id, p.url, p.fetched_at, p.status, p.headers, p.sha256, b.body_zlib, p.fetcher, p.source, p.request"


def _page(row: tuple) -> ArchivedPage:
    page_id, url, fetched_at, status, headers, sha256, body_zlib, fetcher, source, request = row
    return ArchivedPage(page_id, url, fetched_at, status, headers, sha256, bytes(body_zlib), fetcher, source, request)


def page_fetched_in_backfill(cursor: Cursor, url: str, backfill_id: str) -> ArchivedPage | None:
    """The copy of `url` an earlier run of the same backfill fetched, if any (an event's edition list
    is read by every chunk of a backfill but fetched once)."""
    cursor.execute(
        f"""SELECT {_PAGE_COLUMNS} FROM raw_pages p JOIN raw_page_bodies b ON b.sha256 = p.sha256
            WHERE p.backfill_id = %s AND p.url = %s ORDER BY p.fetched_at DESC, p.id DESC LIMIT 1""",
        (backfill_id, url),
    )
    row = cursor.fetchone()
    return _page(row) if row else None


def pages_by_id(cursor: Cursor, page_ids: list[int]) -> dict[int, ArchivedPage]:
    cursor.execute(
        f"""SELECT {_PAGE_COLUMNS} FROM raw_pages p JOIN raw_page_bodies b ON b.sha256 = p.sha256
            WHERE p.id = ANY(%s)""",
        (page_ids,),
    )
    return {row[0]: _page(row) for row in cursor.fetchall()}

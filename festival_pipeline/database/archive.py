"""The raw page archive: every fetched page, compressed, with what identifies it.

A reparse run reads pages from here and fetches nothing.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import datetime

import psycopg2
from psycopg2.extensions import cursor as Cursor

from festival_pipeline.parsers.errors import PageParseError


class PageNotArchived(LookupError):
    """A reparse asked for a page that was never fetched."""


@dataclass(frozen=True)
class ArchivedPage:
    id: int
    url: str
    fetched_at: datetime
    status: int
    headers: dict[str, str]
    sha256: str
    body: bytes

    @property
    def text(self) -> str:
        """The body as UTF-8; invalid bytes are an error, never replacement characters in names."""
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PageParseError(self.url, f"invalid UTF-8 at byte {exc.start}: {exc.reason}") from exc


def store_page(
    cursor: Cursor,
    *,
    url: str,
    fetched_at: datetime,
    status: int,
    headers: dict[str, str],
    sha256: str,
    body: bytes,
    fetcher: str | None = None,
) -> int:
    """Record one fetch and the fetcher that got it ("direct", "browser", "zyte", ...); the body is
    stored once per content hash (an unchanged page adds no body)."""
    cursor.execute(
        """INSERT INTO raw_page_bodies (sha256, size_bytes, body_zlib) VALUES (%s, %s, %s)
           ON CONFLICT (sha256) DO NOTHING""",
        (sha256, len(body), psycopg2.Binary(zlib.compress(body, 6))),
    )
    cursor.execute(
        """INSERT INTO raw_pages (url, fetched_at, status, headers, sha256, size_bytes, fetcher)
           VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (url, fetched_at, status, json.dumps(headers), sha256, len(body), fetcher),
    )
    return cursor.fetchone()[0]


def latest_page(cursor: Cursor, url: str) -> ArchivedPage:
    """The newest archived copy of `url`; PageNotArchived when there is none."""
    cursor.execute(
        """SELECT p.id, p.url, p.fetched_at, p.status, p.headers, p.sha256, b.body_zlib
           FROM raw_pages p JOIN raw_page_bodies b ON b.sha256 = p.sha256
           WHERE p.url = %s ORDER BY p.fetched_at DESC, p.id DESC LIMIT 1""",
        (url,),
    )
    row = cursor.fetchone()
    if row is None:
        raise PageNotArchived(f"{url} is not in the raw page archive; run without reparse to fetch it")
    page_id, page_url, fetched_at, status, headers, sha256, body = row
    return ArchivedPage(page_id, page_url, fetched_at, status, headers, sha256, zlib.decompress(bytes(body)))


def latest_sha256(cursor: Cursor, url: str) -> str | None:
    cursor.execute(
        "SELECT sha256 FROM raw_pages WHERE url = %s ORDER BY fetched_at DESC, id DESC LIMIT 1", (url,)
    )
    row = cursor.fetchone()
    return row[0] if row else None


def link_partition_page(
    cursor: Cursor, *, organization_id: int, year: int, edition: int, role: str, url: str, raw_page_id: int
) -> None:
    """Record that partition (organization, year, edition) is built from archived page `raw_page_id`."""
    cursor.execute(
        """INSERT INTO partition_pages (organization_id, year, edition, role, url, raw_page_id)
           VALUES (%s, %s, %s, %s, %s, %s)
           ON CONFLICT (organization_id, year, edition, role) DO UPDATE SET
               url = EXCLUDED.url, raw_page_id = EXCLUDED.raw_page_id, linked_at = now()""",
        (organization_id, year, edition, role, url, raw_page_id),
    )


def partition_page(cursor: Cursor, *, organization_id: int, year: int, edition: int, role: str) -> ArchivedPage:
    """The archived page a partition is built from; PageNotArchived when its raw asset never ran."""
    cursor.execute(
        """SELECT p.id, p.url, p.fetched_at, p.status, p.headers, p.sha256, b.body_zlib
           FROM partition_pages l JOIN raw_pages p ON p.id = l.raw_page_id
           JOIN raw_page_bodies b ON b.sha256 = p.sha256
           WHERE l.organization_id = %s AND l.year = %s AND l.edition = %s AND l.role = %s""",
        (organization_id, year, edition, role),
    )
    row = cursor.fetchone()
    if row is None:
        raise PageNotArchived(
            f"no {role} page archived for year {year} edition {edition}; materialize the raw page asset first"
        )
    page_id, page_url, fetched_at, status, headers, sha256, body = row
    return ArchivedPage(page_id, page_url, fetched_at, status, headers, sha256, zlib.decompress(bytes(body)))


def partition_editions(cursor: Cursor, *, organization_id: int, year: int, role: str) -> list[int]:
    """The editions of a year that have a linked page of `role`."""
    cursor.execute(
        "SELECT edition FROM partition_pages WHERE organization_id = %s AND year = %s AND role = %s ORDER BY edition",
        (organization_id, year, role),
    )
    return [edition for (edition,) in cursor.fetchall()]


def unlink_year(cursor: Cursor, *, organization_id: int, year: int, role: str) -> None:
    cursor.execute(
        "DELETE FROM partition_pages WHERE organization_id = %s AND year = %s AND role = %s",
        (organization_id, year, role),
    )

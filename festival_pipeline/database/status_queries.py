"""Read-only queries behind `festival-pipeline status`, the backfill progress and the schedules.

Every value is a query parameter; nothing is formatted into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg2.extensions import cursor as Cursor

from festival_pipeline.database import outcomes


@dataclass(frozen=True)
class EditionState:
    """What the database knows about one festival edition (one import_outcomes row)."""

    year: int
    edition: int
    status: str
    error: str | None
    details: dict[str, Any]
    updated_at: datetime
    run_id: str | None
    has_ceremony: bool
    rows_written: int  # festival_nominations rows of the edition's ceremony
    rows_parsed: int | None  # nominations in the parsed snapshot (what the source listed)
    winners: int
    categories: int
    stale: bool | None  # None when no ceremony was written
    imdb_source: str | None  # what served IMDb's side of the written ceremony: graphql or pages


_EDITION_STATES = """
SELECT i.year, i.edition, i.status, i.error, i.details, i.updated_at, i.run_id,
       c.id IS NOT NULL AS has_ceremony,
       coalesce(n.rows, 0), jsonb_array_length(s.payload -> 'nominations'),
       coalesce(n.winners, 0), coalesce(n.categories, 0),
       CASE WHEN c.id IS NULL THEN NULL ELSE coalesce(st.stale, false) END,
       c.source_metadata ->> 'imdb_source'
FROM import_outcomes i
JOIN festival_organizations o ON o.id = i.organization_id
LEFT JOIN festival_ceremonies c
       ON c.organization_id = i.organization_id AND c.year = i.year AND c.edition = i.edition
LEFT JOIN ceremony_snapshots s
       ON s.organization_id = i.organization_id AND s.year = i.year AND s.edition = i.edition
LEFT JOIN LATERAL (
    SELECT count(*) AS rows, count(*) FILTER (WHERE fn.won) AS winners,
           count(DISTINCT fn.category_id) AS categories
    FROM festival_nominations fn WHERE fn.ceremony_id = c.id
) n ON true
LEFT JOIN LATERAL (
    -- stale: the newest archived copy of a page the partition links differs from the page
    -- the written ceremony was built from (an edition read from several API answers keys the
    -- answer after the first by role/part)
    SELECT bool_or(newest.sha256 IS DISTINCT FROM c.source_metadata -> 'page_sha256'
                   ->> CASE WHEN l.part = 0 THEN l.role ELSE l.role || '/' || l.part END) AS stale
    FROM partition_pages l
    CROSS JOIN LATERAL (
        SELECT p.sha256 FROM raw_pages p WHERE p.url = l.url ORDER BY p.fetched_at DESC, p.id DESC LIMIT 1
    ) newest
    WHERE l.organization_id = i.organization_id AND l.year = i.year AND l.edition = i.edition
) st ON true
WHERE o.slug = %s AND i.year = ANY(%s)
ORDER BY i.year, i.edition
"""


def edition_states(cursor: Cursor, slug: str, years: list[int]) -> list[EditionState]:
    """Every recorded edition of `slug` in `years` (years never imported have no row)."""
    cursor.execute(_EDITION_STATES, (slug, years))
    return [EditionState(*row) for row in cursor.fetchall()]


@dataclass(frozen=True)
class YearOutcome:
    """The recorded editions of one festival year, for the one-line-per-festival summary."""

    slug: str
    year: int
    statuses: list[str]
    updated_at: datetime  # of the latest import of the year
    run_id: str | None  # the run of that import


def year_outcomes(cursor: Cursor) -> list[YearOutcome]:
    """Every festival year with a recorded import: its editions' statuses, the latest import and run."""
    cursor.execute(
        """SELECT o.slug, i.year, array_agg(i.status ORDER BY i.edition), max(i.updated_at),
                  (array_agg(i.run_id ORDER BY i.updated_at DESC))[1]
           FROM import_outcomes i JOIN festival_organizations o ON o.id = i.organization_id
           GROUP BY o.slug, i.year"""
    )
    return [YearOutcome(*row) for row in cursor.fetchall()]


def announced_not_awarded_years(cursor: Cursor, slug: str) -> list[int]:
    """Years whose latest import found nominations but no winners yet."""
    cursor.execute(
        """SELECT DISTINCT i.year FROM import_outcomes i
           JOIN festival_organizations o ON o.id = i.organization_id
           WHERE o.slug = %s AND i.status = %s ORDER BY i.year""",
        (slug, outcomes.ANNOUNCED_NOT_AWARDED),
    )
    return [year for (year,) in cursor.fetchall()]


def no_edition_years(cursor: Cursor, slug: str, since_year: int) -> list[int]:
    """Years from `since_year` on whose latest import found no edition at the source.

    For a schedule that looks at them again: IMDb may list an edition late.
    """
    cursor.execute(
        """SELECT DISTINCT i.year FROM import_outcomes i
           JOIN festival_organizations o ON o.id = i.organization_id
           WHERE o.slug = %s AND i.status = %s AND i.year >= %s ORDER BY i.year""",
        (slug, outcomes.NO_EDITION, since_year),
    )
    return [year for (year,) in cursor.fetchall()]


def database_now(cursor: Cursor) -> datetime:
    """The server's clock: progress compares it with timestamps the server wrote."""
    cursor.execute("SELECT now()")
    return cursor.fetchone()[0]


@dataclass(frozen=True)
class Progress:
    years_done: int  # years with a fresh outcome other than failed
    years_failed: int
    pages_fetched: int
    rows_written: int


def progress_since(cursor: Cursor, slug: str, years: list[int], since: datetime) -> Progress:
    """What a running backfill chunk has done so far (outcomes and pages newer than `since`)."""
    cursor.execute(
        """SELECT count(DISTINCT i.year) FILTER (WHERE i.status <> %s),
                  count(DISTINCT i.year) FILTER (WHERE i.status = %s),
                  coalesce(sum((i.details ->> 'nominations')::int), 0)
           FROM import_outcomes i JOIN festival_organizations o ON o.id = i.organization_id
           WHERE o.slug = %s AND i.year = ANY(%s) AND i.updated_at >= %s""",
        (outcomes.FAILED, outcomes.FAILED, slug, years, since),
    )
    done, failed, rows = cursor.fetchone()
    cursor.execute("SELECT count(*) FROM raw_pages WHERE fetched_at >= %s", (since,))
    (pages,) = cursor.fetchone()
    return Progress(years_done=done, years_failed=failed, pages_fetched=pages, rows_written=int(rows))


def fresh_outcomes(cursor: Cursor, slug: str, years: list[int], since: datetime) -> dict[int, list[str]]:
    """Year → statuses of its editions recorded at or after `since`."""
    cursor.execute(
        """SELECT i.year, i.status FROM import_outcomes i
           JOIN festival_organizations o ON o.id = i.organization_id
           WHERE o.slug = %s AND i.year = ANY(%s) AND i.updated_at >= %s ORDER BY i.year, i.edition""",
        (slug, years, since),
    )
    statuses: dict[int, list[str]] = {}
    for year, status in cursor.fetchall():
        statuses.setdefault(year, []).append(status)
    return statuses

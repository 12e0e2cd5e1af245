"""Writes one ceremony (one partition) into the unified tables, atomically.

The caller owns the transaction (`connection.transaction`): either every row of the
partition is replaced, or nothing changes. Rows are merged, not deleted and
re-inserted, so ids stay stable and a rerun of an unchanged page changes no row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from psycopg2.extensions import cursor as Cursor
from psycopg2.extras import execute_values

from festival_pipeline.database.organizations import organization_id
from festival_pipeline.model import CeremonyRecord, nomination_keys


@dataclass(frozen=True)
class WriteResult:
    ceremony_id: int
    categories: int  # distinct categories this ceremony uses
    nominations: int  # nomination rows the ceremony has after the write
    inserted: int
    updated: int
    deleted: int


_UPSERT_CEREMONY = """
INSERT INTO festival_ceremonies
    (organization_id, year, edition, ceremony_number, name, date, location, data, data_source,
     source_url, source_urls, scraped_at, source_metadata)
VALUES (%(organization_id)s, %(year)s, %(edition)s, %(ceremony_number)s, %(name)s, %(date)s,
        %(location)s, %(data)s, %(data_source)s, %(source_url)s, %(source_urls)s, %(scraped_at)s,
        %(source_metadata)s)
ON CONFLICT (organization_id, year, edition) DO UPDATE SET
    ceremony_number = EXCLUDED.ceremony_number, name = EXCLUDED.name, date = EXCLUDED.date,
    location = EXCLUDED.location, data = EXCLUDED.data, data_source = EXCLUDED.data_source,
    source_url = EXCLUDED.source_url, source_urls = EXCLUDED.source_urls,
    scraped_at = EXCLUDED.scraped_at, source_metadata = EXCLUDED.source_metadata, updated_at = now()
RETURNING id
"""

# Existing metadata wins key by key, so categories shared by many years do not flip
# between the wording of one year and the next on every rerun.
_UPSERT_CATEGORIES = """
INSERT INTO festival_categories (organization_id, prize_name, name, tracks_person, category_type, metadata)
VALUES %s
ON CONFLICT (organization_id, prize_name, name) DO UPDATE SET
    tracks_person = EXCLUDED.tracks_person, category_type = EXCLUDED.category_type,
    metadata = EXCLUDED.metadata || festival_categories.metadata, updated_at = now()
WHERE (festival_categories.tracks_person, festival_categories.category_type, festival_categories.metadata)
    IS DISTINCT FROM
      (EXCLUDED.tracks_person, EXCLUDED.category_type, EXCLUDED.metadata || festival_categories.metadata)
"""

_UPSERT_NOMINATIONS = """
INSERT INTO festival_nominations
    (ceremony_id, category_id, nomination_key, position, won, prize_name, film_title,
     film_imdb_ids, person_imdb_ids, nominee_names, details)
VALUES %s
ON CONFLICT (ceremony_id, nomination_key) DO UPDATE SET
    category_id = EXCLUDED.category_id, position = EXCLUDED.position, won = EXCLUDED.won,
    prize_name = EXCLUDED.prize_name, film_title = EXCLUDED.film_title,
    film_imdb_ids = EXCLUDED.film_imdb_ids, person_imdb_ids = EXCLUDED.person_imdb_ids,
    nominee_names = EXCLUDED.nominee_names, details = EXCLUDED.details, updated_at = now()
WHERE (festival_nominations.category_id, festival_nominations.position, festival_nominations.won,
       festival_nominations.prize_name, festival_nominations.film_title,
       festival_nominations.film_imdb_ids, festival_nominations.person_imdb_ids,
       festival_nominations.nominee_names, festival_nominations.details)
    IS DISTINCT FROM
      (EXCLUDED.category_id, EXCLUDED.position, EXCLUDED.won, EXCLUDED.prize_name,
       EXCLUDED.film_title, EXCLUDED.film_imdb_ids, EXCLUDED.person_imdb_ids,
       EXCLUDED.nominee_names, EXCLUDED.details)
RETURNING (xmax = 0) AS inserted
"""


def lock_partition(cursor: Cursor, org_id: int, year: int, edition: int) -> None:
    """Serialise concurrent writers of the same partition until the transaction ends."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", (org_id, year * 100 + edition))


def _upsert_categories(cursor: Cursor, org_id: int, record: CeremonyRecord) -> dict[tuple[str, str], int]:
    # sorted, so concurrent partitions lock shared category rows in the same order (no deadlock)
    categories = sorted({c.key: c for c in record.categories}.values(), key=lambda c: c.key)
    rows = [
        (org_id, c.prize_name, c.name, c.tracks_person, c.category_type, json.dumps(c.metadata, sort_keys=True))
        for c in categories
    ]
    if rows:
        execute_values(cursor, _UPSERT_CATEGORIES, rows, template="(%s, %s, %s, %s, %s, %s::jsonb)")
    cursor.execute(
        "SELECT prize_name, name, id FROM festival_categories WHERE organization_id = %s", (org_id,)
    )
    return {(prize, name): category_id for prize, name, category_id in cursor.fetchall()}


def write_ceremony(cursor: Cursor, record: CeremonyRecord, scraped_at: datetime) -> WriteResult:
    """Replace the partition (organization, year, edition) with `record`."""
    org_id = organization_id(cursor, record.organization_slug)
    lock_partition(cursor, org_id, record.year, record.edition)
    cursor.execute(
        _UPSERT_CEREMONY,
        {
            "organization_id": org_id,
            "year": record.year,
            "edition": record.edition,
            "ceremony_number": record.ceremony_number,
            "name": record.name,
            "date": record.date,
            "location": record.location,
            "data": json.dumps(record.payload(), ensure_ascii=False, sort_keys=True),
            "data_source": record.data_source,
            "source_url": record.source_urls[0] if record.source_urls else None,
            "source_urls": list(record.source_urls),
            "scraped_at": scraped_at,
            "source_metadata": json.dumps(record.source_metadata, sort_keys=True),
        },
    )
    ceremony_id = cursor.fetchone()[0]
    category_ids = _upsert_categories(cursor, org_id, record)

    keys = nomination_keys(list(record.nominations))
    rows = [
        (
            ceremony_id,
            category_ids[nomination.category_key],
            key,
            position,
            nomination.won,
            nomination.prize_name,
            nomination.film_title,
            list(nomination.film_imdb_ids),
            list(nomination.person_imdb_ids),
            nomination.nominee_names,
            json.dumps(nomination.details, ensure_ascii=False, sort_keys=True),
        )
        for position, (key, nomination) in enumerate(zip(keys, record.nominations, strict=True))
    ]
    changed = (
        execute_values(
            cursor,
            _UPSERT_NOMINATIONS,
            rows,
            template="(%s, %s, %s, %s, %s, %s, %s, %s::text[], %s::text[], %s, %s::jsonb)",
            fetch=True,
            page_size=1000,
        )
        if rows
        else []
    )
    inserted = sum(1 for (was_inserted,) in changed if was_inserted)
    cursor.execute(
        "DELETE FROM festival_nominations WHERE ceremony_id = %s AND NOT (nomination_key = ANY(%s))",
        (ceremony_id, keys),
    )
    deleted = cursor.rowcount
    cursor.execute("SELECT count(*) FROM festival_nominations WHERE ceremony_id = %s", (ceremony_id,))
    return WriteResult(
        ceremony_id=ceremony_id,
        categories=len({n.category_key for n in record.nominations} | {c.key for c in record.categories}),
        nominations=cursor.fetchone()[0],
        inserted=inserted,
        updated=len(changed) - inserted,
        deleted=deleted,
    )

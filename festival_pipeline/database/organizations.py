"""Upsert of the festival registry into festival_organizations."""

from __future__ import annotations

import json

from psycopg2.extensions import cursor as Cursor

from festival_pipeline.registry import FESTIVALS, Festival

_UPSERT = """
INSERT INTO festival_organizations
    (name, abbreviation, slug, country, founded_year, website, imdb_event_id, metadata)
VALUES (%(name)s, %(abbreviation)s, %(slug)s, %(country)s, %(founded_year)s, %(website)s,
        %(imdb_event_id)s, %(metadata)s)
ON CONFLICT (slug) DO UPDATE SET
    name = EXCLUDED.name, abbreviation = EXCLUDED.abbreviation, country = EXCLUDED.country,
    founded_year = EXCLUDED.founded_year, website = EXCLUDED.website,
    imdb_event_id = EXCLUDED.imdb_event_id, metadata = EXCLUDED.metadata, updated_at = now()
WHERE (festival_organizations.name, festival_organizations.abbreviation, festival_organizations.country,
       festival_organizations.founded_year, festival_organizations.website,
       festival_organizations.imdb_event_id, festival_organizations.metadata)
    IS DISTINCT FROM
      (EXCLUDED.name, EXCLUDED.abbreviation, EXCLUDED.country, EXCLUDED.founded_year,
       EXCLUDED.website, EXCLUDED.imdb_event_id, EXCLUDED.metadata)
RETURNING id
"""


def _row(festival: Festival) -> dict[str, object]:
    return {
        "name": festival.name,
        "abbreviation": festival.abbreviation,
        "slug": festival.slug,
        "country": festival.country,
        "founded_year": festival.founded_year,
        "website": festival.website,
        "imdb_event_id": festival.imdb_event_id,
        "metadata": json.dumps(
            {
                "usual_month": festival.usual_month,
                "first_edition_year": festival.first_edition_year,
                "source": festival.source,
            }
        ),
    }


def upsert_organizations(cursor: Cursor, festivals: tuple[Festival, ...] = FESTIVALS) -> int:
    """Insert or update every registry entry; returns how many rows changed (0 on a rerun).

    Serialised by an advisory lock: two first-time callers would otherwise race on the unique
    name/abbreviation keys, which ON CONFLICT (slug) does not cover.
    """
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext('festival_pipeline.festival_organizations'))")
    changed = 0
    for festival in festivals:
        cursor.execute(_UPSERT, _row(festival))
        changed += cursor.rowcount
    return changed


def organization_rows(cursor: Cursor) -> list[tuple[str, str, str | None]]:
    """(slug, name, IMDb event id) of every organization, in the order they were added."""
    cursor.execute("SELECT slug, name, imdb_event_id FROM festival_organizations ORDER BY id")
    return cursor.fetchall()


def organization_id(cursor: Cursor, slug: str) -> int:
    """The id of a registered organization; upserts the registry first if it is missing."""
    cursor.execute("SELECT id FROM festival_organizations WHERE slug = %s", (slug,))
    row = cursor.fetchone()
    if row is None:
        upsert_organizations(cursor)
        cursor.execute("SELECT id FROM festival_organizations WHERE slug = %s", (slug,))
        row = cursor.fetchone()
    if row is None:
        raise KeyError(f"festival {slug!r} is not in the registry")
    return row[0]

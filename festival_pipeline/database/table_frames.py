"""The festival tables of some festival-years as pandas DataFrames (what the table assets load as)."""

from __future__ import annotations

import pandas as pd
from psycopg2.extensions import cursor as Cursor

_NOMINATIONS = """
SELECT o.slug AS festival, c.year, c.edition, n.ceremony_id, n.id, n.nomination_key, n.position,
       n.category_id, cat.prize_name, cat.name AS category, n.won, n.film_title, n.film_imdb_ids,
       n.person_imdb_ids, n.nominee_names, n.details
FROM festival_nominations n
JOIN festival_ceremonies c ON c.id = n.ceremony_id
JOIN festival_organizations o ON o.id = c.organization_id
JOIN festival_categories cat ON cat.id = n.category_id
WHERE c.organization_id = %s AND c.year = ANY(%s)
ORDER BY c.year, c.edition, n.position
"""

_CEREMONIES = """
SELECT o.slug AS festival, c.id, c.year, c.edition, c.ceremony_number, c.name, c.date, c.location,
       c.data_source, c.source_url, c.source_urls, c.scraped_at, c.source_metadata
FROM festival_ceremonies c JOIN festival_organizations o ON o.id = c.organization_id
WHERE c.organization_id = %s AND c.year = ANY(%s)
ORDER BY c.year, c.edition
"""

# a category belongs to the years whose nominations use it; one row per category
_CATEGORIES = """
SELECT o.slug AS festival, cat.id, cat.prize_name, cat.name, cat.category_type, cat.tracks_person,
       cat.metadata, min(c.year) AS first_year, max(c.year) AS last_year, count(n.id) AS nominations
FROM festival_categories cat
JOIN festival_organizations o ON o.id = cat.organization_id
JOIN festival_nominations n ON n.category_id = cat.id
JOIN festival_ceremonies c ON c.id = n.ceremony_id
WHERE cat.organization_id = %s AND c.year = ANY(%s)
GROUP BY o.slug, cat.id
ORDER BY cat.prize_name, cat.name
"""

QUERIES = {"festival_nominations": _NOMINATIONS, "festival_ceremonies": _CEREMONIES,
           "festival_categories": _CATEGORIES}


def table_frame(cursor: Cursor, table: str, organization_id: int, years: list[int]) -> pd.DataFrame:
    """The rows of `table` for one festival's `years`, with the festival slug (and year) on every row."""
    cursor.execute(QUERIES[table], (organization_id, years))
    columns = [column.name for column in cursor.description]
    return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)

"""Which archived pages a partition (organization, year) is built from, per page role.

The storage of the page assets' IO manager: a year's latest page materialization is either
`fetched` (its editions' pages, possibly none when the source lists no edition) or `failed`
(with the error); loading a failed or never-fetched year raises, so nothing downstream builds on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from psycopg2.extensions import cursor as Cursor

from festival_pipeline.database.archive import ArchivedPage, pages_by_id
from festival_pipeline.model import Provenance

FETCHED, FAILED = "fetched", "failed"
# what a page asset loads: year → edition → its archived pages in order (a list: Dagster type-checks
# asset inputs by their annotations and knows no variadic tuples)
YearsPages = dict[int, dict[int, list[ArchivedPage]]]


class PagesUnavailable(LookupError):
    """A year's pages were never fetched, or their latest fetch failed."""


@dataclass(frozen=True)
class YearPages:
    """What a page asset holds for one year: edition → its archived pages (one page, or the API
    answers it was read from, in the order they were asked; no edition when the source lists none
    that year), and the run that fetched them."""

    year: int
    pages: Mapping[int, Sequence[ArchivedPage]]
    provenance: Provenance


def store_year(cursor: Cursor, *, organization_id: int, year_pages: YearPages, role: str) -> None:
    """Replace the year's pages of `role`."""
    year = year_pages.year
    _set_state(cursor, organization_id, year, role, FETCHED, None, year_pages.provenance)
    cursor.execute(
        "DELETE FROM partition_pages WHERE organization_id = %s AND year = %s AND role = %s",
        (organization_id, year, role),
    )
    for edition, pages in sorted(year_pages.pages.items()):
        for part, page in enumerate(pages):
            cursor.execute(
                """INSERT INTO partition_pages (organization_id, year, edition, role, part, url, raw_page_id)
                   VALUES (%s, %s, %s, %s, %s, %s, %s)""",
                (organization_id, year, edition, role, part, page.url, page.id),
            )


def store_failure(
    cursor: Cursor, *, organization_id: int, year: int, role: str, error: str, provenance: Provenance
) -> None:
    """The year's latest fetch failed: loading it raises until a fetch succeeds. The links to the
    pages of the last good fetch stay (status and staleness still read them)."""
    _set_state(cursor, organization_id, year, role, FAILED, error, provenance)


def _set_state(cursor: Cursor, organization_id: int, year: int, role: str, status: str, error: str | None,
               provenance: Provenance) -> None:
    cursor.execute(
        """INSERT INTO partition_page_sets (organization_id, year, role, status, error, run_id, lineage)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (organization_id, year, role) DO UPDATE SET
               status = EXCLUDED.status, error = EXCLUDED.error, run_id = EXCLUDED.run_id,
               lineage = EXCLUDED.lineage, updated_at = now()""",
        (organization_id, year, role, status, error, provenance.run_id, provenance.lineage),
    )


def load_years(cursor: Cursor, *, organization_id: int, years: list[int], role: str,
               what: str) -> YearsPages:
    """year → edition → archived pages, for every year in `years`; PagesUnavailable names the first
    year that was never fetched or whose latest fetch failed (`what` names the asset in the message)."""
    cursor.execute(
        """SELECT year, status, error FROM partition_page_sets
           WHERE organization_id = %s AND role = %s AND year = ANY(%s)""",
        (organization_id, role, years),
    )
    states = {year: (status, error) for year, status, error in cursor.fetchall()}
    for year in sorted(years):
        status, error = states.get(year, (None, None))
        if status is None:
            raise PagesUnavailable(f"{what} {year} was never fetched: materialize it first")
        if status == FAILED:
            raise PagesUnavailable(f"{what} {year}: its latest fetch failed ({error}); materialize it again")
    cursor.execute(
        """SELECT year, edition, raw_page_id FROM partition_pages
           WHERE organization_id = %s AND role = %s AND year = ANY(%s) ORDER BY year, edition, part""",
        (organization_id, role, years),
    )
    links = cursor.fetchall()
    pages = pages_by_id(cursor, [page_id for _, _, page_id in links])
    result: YearsPages = {year: {} for year in years}
    for year, edition, page_id in links:
        result[year].setdefault(edition, []).append(pages[page_id])  # in part order
    return result

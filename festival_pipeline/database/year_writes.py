"""The write step's SQL: replace a year and record its outcome, then read back what the year holds
and what the table checks look at (the assets turn these into metadata and check results)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from psycopg2.extensions import cursor as Cursor

from festival_pipeline.database import outcomes
from festival_pipeline.database.ceremony_writer import YearWriteResult, write_year
from festival_pipeline.database.organizations import organization_id
from festival_pipeline.model import ParsedYear


def write_and_record(cursor: Cursor, slug: str, parsed: ParsedYear, run_id: str,
                     accept_shrink: bool) -> YearWriteResult:
    """Replace the year's rows with `parsed` (the caller's transaction) and record its outcome.

    A year whose source lists no edition is `no-edition` — only when it never had rows: otherwise
    `write_year` refuses it as a shrink, like an edition that lost its awards.
    """
    written = write_year(cursor, slug, parsed.year, parsed.ceremonies, accept_shrink=accept_shrink)
    org_id = organization_id(cursor, slug)
    nominations = {edition.edition: edition for edition in written.editions}
    for record in parsed.ceremonies:
        edition = nominations[record.edition]
        outcomes.record_outcome(
            cursor, organization_id=org_id, year=record.year, edition=record.edition,
            status=outcomes.written_status(record),
            details={"nominations": edition.nominations, "categories": edition.categories,
                     "winners": sum(n.won for n in record.nominations),
                     **{k: v for k, v in record.match_stats.items() if not isinstance(v, list | dict)}},
            run_id=run_id,
        )
    if not parsed.ceremonies:
        outcomes.record_outcome(cursor, organization_id=org_id, year=parsed.year, edition=1,
                                status=outcomes.NO_EDITION, run_id=run_id)
    return written


@dataclass(frozen=True)
class YearCounts:
    """A written year's nominations as they are in the database."""

    nominations: int
    winners: int
    categories: int


def year_counts(cursor: Cursor, written: YearWriteResult) -> YearCounts:
    cursor.execute(
        """SELECT count(*), count(*) FILTER (WHERE won), count(DISTINCT category_id)
           FROM festival_nominations WHERE ceremony_id = ANY(%s)""",
        (list(written.ceremony_ids),),
    )
    return YearCounts(*cursor.fetchone())


@dataclass(frozen=True)
class TableFacts:
    """What the table checks look at after a step wrote its years."""

    nomination_rows: int
    distinct_nomination_rows: int  # by ceremony, category, films, nominees, title and song
    ceremony_rows: dict[int, int]  # year → ceremony rows
    orphan_categories: list[str]  # "prize / name" of the festival's categories without nominations


def table_facts(cursor: Cursor, slug: str, written: Sequence[YearWriteResult]) -> TableFacts:
    cursor.execute(
        """SELECT count(*), count(DISTINCT (ceremony_id, category_id, film_imdb_ids, nominee_names,
                                            film_title, details->>'song'))
           FROM festival_nominations WHERE ceremony_id = ANY(%s)""",
        ([ceremony_id for w in written for ceremony_id in w.ceremony_ids],),
    )
    rows, distinct_rows = cursor.fetchone()
    org_id = organization_id(cursor, slug)
    cursor.execute(
        """SELECT c.year, count(*) FROM festival_ceremonies c
           WHERE c.organization_id = %s AND c.year = ANY(%s) GROUP BY c.year""",
        (org_id, [w.year for w in written]),
    )
    ceremony_rows = dict(cursor.fetchall())
    cursor.execute(
        """SELECT cat.prize_name || ' / ' || cat.name FROM festival_categories cat
           WHERE cat.organization_id = %s
             AND NOT EXISTS (SELECT 1 FROM festival_nominations n WHERE n.category_id = cat.id)
           ORDER BY 1""",
        (org_id,),
    )
    return TableFacts(rows, distinct_rows, ceremony_rows, [name for (name,) in cursor.fetchall()])

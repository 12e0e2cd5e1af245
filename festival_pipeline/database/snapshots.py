"""The parsed ceremonies of each festival-year, between the parse step and the write step.

The storage of the parsed-ceremony assets' IO manager: per (organization, year) the latest parse
either succeeded (`parsed_years.status = 'parsed'`, one `ceremony_snapshots` row per edition, none
when the source lists no edition) or failed (with the error). Loading a failed or never-parsed year
raises, so the write step can never write "nothing" for a year it has no parse of.
"""

from __future__ import annotations

import json

from psycopg2.extensions import cursor as Cursor

from festival_pipeline.model import CeremonyRecord, ParsedYear, Provenance

PARSED, FAILED = "parsed", "failed"


class ParseUnavailable(LookupError):
    """A year was never parsed, or its latest parse failed."""


def store_year(cursor: Cursor, organization_id: int, parsed: ParsedYear) -> None:
    """Replace the year's parse with `parsed` (all editions at once)."""
    provenance = parsed.provenance
    _set_state(cursor, organization_id, parsed.year, PARSED, None, len(parsed.ceremonies), provenance)
    cursor.execute("DELETE FROM ceremony_snapshots WHERE organization_id = %s AND year = %s",
                   (organization_id, parsed.year))
    for record in parsed.ceremonies:
        cursor.execute(
            """INSERT INTO ceremony_snapshots (organization_id, year, edition, payload, page_sha256s, run_id, lineage)
               VALUES (%s, %s, %s, %s, %s, %s, %s)""",
            (organization_id, record.year, record.edition, json.dumps(record.payload(), ensure_ascii=False),
             json.dumps(record.source_metadata.get("page_sha256", {})), provenance.run_id, provenance.lineage),
        )


def store_failure(cursor: Cursor, organization_id: int, year: int, error: str, provenance: Provenance) -> None:
    """The year's latest parse failed: loading it raises until a parse succeeds."""
    _set_state(cursor, organization_id, year, FAILED, error, 0, provenance)


def _set_state(cursor: Cursor, organization_id: int, year: int, status: str, error: str | None, editions: int,
               provenance: Provenance) -> None:
    cursor.execute(
        """INSERT INTO parsed_years (organization_id, year, status, error, editions, run_id, lineage)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (organization_id, year) DO UPDATE SET
               status = EXCLUDED.status, error = EXCLUDED.error, editions = EXCLUDED.editions,
               run_id = EXCLUDED.run_id, lineage = EXCLUDED.lineage, updated_at = now()""",
        (organization_id, year, status, error, editions, provenance.run_id, provenance.lineage),
    )


def load_years(cursor: Cursor, organization_id: int, years: list[int], what: str) -> dict[int, ParsedYear]:
    """year → its latest parse; ParseUnavailable names the first year never parsed or whose parse failed."""
    cursor.execute(
        """SELECT year, status, error, run_id, lineage FROM parsed_years
           WHERE organization_id = %s AND year = ANY(%s)""",
        (organization_id, years),
    )
    states = {year: (status, error, Provenance(run_id, lineage)) for year, status, error, run_id, lineage
              in cursor.fetchall()}
    for year in sorted(years):
        if year not in states:
            raise ParseUnavailable(f"{what} {year} was never parsed: materialize it first")
        status, error, _ = states[year]
        if status == FAILED:
            raise ParseUnavailable(f"{what} {year}: its latest parse failed ({error}); materialize it again")
    cursor.execute(
        """SELECT year, payload FROM ceremony_snapshots
           WHERE organization_id = %s AND year = ANY(%s) ORDER BY year, edition""",
        (organization_id, years),
    )
    ceremonies: dict[int, list[CeremonyRecord]] = {year: [] for year in years}
    for year, payload in cursor.fetchall():
        ceremonies[year].append(CeremonyRecord.from_payload(payload))
    return {year: ParsedYear(year, tuple(ceremonies[year]), states[year][2]) for year in years}

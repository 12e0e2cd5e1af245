"""The latest import outcome per festival edition, for `festival-pipeline status`.

`nothing-to-import` and `no-edition` describe editions that never had rows: the writer
(`ceremony_writer.write_year`) refuses, as a shrink, to empty or drop an edition that has rows,
so these statuses are recorded only after a successful write (or an accepted shrink).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from psycopg2.extensions import cursor as Cursor

from festival_pipeline.model import CeremonyRecord

COMPLETE = "complete"
ANNOUNCED_NOT_AWARDED = "announced-not-awarded"
NOTHING_TO_IMPORT = "nothing-to-import"
FAILED = "failed"
NO_EDITION = "no-edition"


def written_status(record: CeremonyRecord) -> str:
    """The status of an edition `write_year` has just written."""
    if record.nothing_to_import:
        return NOTHING_TO_IMPORT
    return ANNOUNCED_NOT_AWARDED if record.announced_not_awarded else COMPLETE


def record_outcome(
    cursor: Cursor,
    *,
    organization_id: int,
    year: int,
    edition: int,
    status: str,
    error: str | None = None,
    details: dict[str, Any] | None = None,
    run_id: str | None = None,
) -> None:
    cursor.execute(
        """INSERT INTO import_outcomes (organization_id, year, edition, status, error, details, run_id)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (organization_id, year, edition) DO UPDATE SET
               status = EXCLUDED.status, error = EXCLUDED.error,
               -- a failed rerun keeps the counts of the rows still in the tables
               details = CASE WHEN EXCLUDED.status = 'failed' THEN import_outcomes.details
                              ELSE EXCLUDED.details END,
               run_id = EXCLUDED.run_id, updated_at = now()""",
        (organization_id, year, edition, status, error, json.dumps(details or {}), run_id),
    )


def record_year_failure(cursor: Cursor, *, organization_id: int, year: int, error: str, run_id: str | None) -> None:
    """Every recorded edition of the year (at least edition 1) failed with `error`; their counts stay."""
    cursor.execute(
        """UPDATE import_outcomes SET status = %s, error = %s, run_id = %s, updated_at = now()
           WHERE organization_id = %s AND year = %s""",
        (FAILED, error, run_id, organization_id, year),
    )
    if cursor.rowcount == 0:
        record_outcome(cursor, organization_id=organization_id, year=year, edition=1, status=FAILED, error=error,
                       run_id=run_id)


def record_dead_run(cursor: Cursor, *, organization_id: int, years: list[int], error: str, run_id: str,
                    since: datetime) -> None:
    """A run that died: its years are failed with `error`, but not those it had already written or
    recorded itself (their outcome carries its run id), nor those another run recorded after the
    dead run was created (`since`): a rerun that landed before the death was noticed keeps its
    outcome. Counts of the rows still in the tables stay."""
    cursor.execute(
        """SELECT DISTINCT year FROM import_outcomes
           WHERE organization_id = %s AND year = ANY(%s) AND (run_id = %s OR updated_at >= %s)""",
        (organization_id, years, run_id, since),
    )
    done = {row[0] for row in cursor.fetchall()}
    for year in years:
        if year not in done:
            record_year_failure(cursor, organization_id=organization_id, year=year, error=error, run_id=run_id)

"""The enhanced ceremony between the parse step and the write step (ceremony_snapshots)."""

from __future__ import annotations

import json

from psycopg2.extensions import cursor as Cursor

from festival_pipeline.model import CeremonyRecord


class SnapshotMissing(LookupError):
    """The write step ran for a partition whose parse step has not produced a ceremony."""


def store_snapshot(cursor: Cursor, organization_id: int, record: CeremonyRecord) -> None:
    cursor.execute(
        """INSERT INTO ceremony_snapshots (organization_id, year, edition, payload, page_sha256s)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (organization_id, year, edition) DO UPDATE SET
               payload = EXCLUDED.payload, page_sha256s = EXCLUDED.page_sha256s, created_at = now()""",
        (
            organization_id,
            record.year,
            record.edition,
            json.dumps(record.payload(), ensure_ascii=False),
            json.dumps(record.source_metadata.get("page_sha256", {})),
        ),
    )


def load_snapshot(cursor: Cursor, organization_id: int, year: int, edition: int) -> CeremonyRecord:
    cursor.execute(
        "SELECT payload FROM ceremony_snapshots WHERE organization_id = %s AND year = %s AND edition = %s",
        (organization_id, year, edition),
    )
    row = cursor.fetchone()
    if row is None:
        raise SnapshotMissing(
            f"no parsed ceremony for year {year} edition {edition}: materialize the enhanced ceremony first"
        )
    return CeremonyRecord.from_payload(row[0])


def load_year(cursor: Cursor, organization_id: int, year: int) -> list[CeremonyRecord]:
    """Every edition parsed for a year (IMDb may hold two editions in one year), by edition."""
    cursor.execute(
        "SELECT payload FROM ceremony_snapshots WHERE organization_id = %s AND year = %s ORDER BY edition",
        (organization_id, year),
    )
    return [CeremonyRecord.from_payload(payload) for (payload,) in cursor.fetchall()]


def delete_year(cursor: Cursor, organization_id: int, year: int) -> None:
    """Forget a year's parsed editions before re-parsing it, so a failed parse leaves none behind."""
    cursor.execute(
        "DELETE FROM ceremony_snapshots WHERE organization_id = %s AND year = %s", (organization_id, year)
    )

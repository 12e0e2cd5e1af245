"""The festival registry as rows: every later write stands on these organizations."""

from __future__ import annotations

from dagster import MaterializeResult, MetadataValue, asset

from festival_pipeline.assets.reporting import column_schema
from festival_pipeline.database.introspection import table_columns
from festival_pipeline.database.organizations import organization_rows, upsert_organizations
from festival_pipeline.registry import FESTIVALS
from festival_pipeline.resources import FestivalDatabase


@asset(group_name="festivals", kinds={"postgres"}, description="Upserts the festival registry (idempotent).")
def festival_organizations(festival_db: FestivalDatabase) -> MaterializeResult:
    with festival_db.transaction() as cursor:
        changed = upsert_organizations(cursor)
        rows = organization_rows(cursor)
        schema = column_schema(table_columns(cursor, "festival_organizations"))
    registered = {festival.slug for festival in FESTIVALS}
    missing = registered - {slug for slug, _, _ in rows}
    if missing:
        raise RuntimeError(f"organizations missing after upsert: {sorted(missing)}")
    header = ["| slug | name | IMDb event |", "|---|---|---|"]
    preview = "\n".join(header + [f"| {s} | {n} | {e} |" for s, n, e in rows])
    return MaterializeResult(
        metadata={
            "dagster/row_count": len(rows),
            "dagster/table_name": "festival_organizations",
            "dagster/column_schema": schema,
            "rows_changed": changed,
            "preview": MetadataValue.md(preview),
        }
    )

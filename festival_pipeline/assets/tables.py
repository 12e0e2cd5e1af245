"""The write stage, shared by every festival: parsed ceremonies → the three festival_* tables."""

from datetime import UTC, datetime

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    multi_asset,
)
from psycopg2.extensions import cursor as Cursor

from festival_pipeline.assets.organizations import festival_organizations
from festival_pipeline.assets.reporting import ceremony_preview
from festival_pipeline.checks import rules
from festival_pipeline.database import outcomes, snapshots
from festival_pipeline.database.ceremony_writer import WriteResult, write_ceremony
from festival_pipeline.database.introspection import table_schema
from festival_pipeline.database.organizations import organization_id
from festival_pipeline.model import CeremonyRecord
from festival_pipeline.partitions import partition_years
from festival_pipeline.resources import FestivalDatabase

TABLES = ("festival_ceremonies", "festival_categories", "festival_nominations")


def _status(record: CeremonyRecord) -> str:
    if record.nothing_to_import:
        return outcomes.NOTHING_TO_IMPORT
    return outcomes.ANNOUNCED_NOT_AWARDED if record.announced_not_awarded else outcomes.COMPLETE


def _write_one(cursor: Cursor, org_id: int, record: CeremonyRecord, require_winners: bool, run_id: str) -> WriteResult:
    label = f"{record.organization_slug} {record.year}/{record.edition}"
    blocking = rules.blocking_failures(rules.evaluate(record, match_rate_floor=0.0, require_winners=require_winners))
    if blocking:
        raise Failure(f"{label}: refusing to write a ceremony that fails {blocking[0].name}")
    result = write_ceremony(cursor, record, scraped_at=datetime.now(UTC))
    if result.nominations != len(record.nominations):  # raising rolls the partition back
        raise Failure(f"{label}: wrote {result.nominations} nominations, parsed {len(record.nominations)}")
    outcomes.record_outcome(
        cursor, organization_id=org_id, year=record.year, edition=record.edition, status=_status(record),
        details={"nominations": result.nominations, "categories": result.categories,
                 "winners": sum(n.won for n in record.nominations),
                 **{k: v for k, v in record.match_stats.items() if not isinstance(v, list | dict)}},
        run_id=run_id,
    )
    return result


def build_table_assets(
    *, prefix: str, slug: str, label: str, partitions_def: PartitionsDefinition, upstream: AssetKey, group: str,
    require_winners: bool,
) -> AssetsDefinition:
    """The three table assets of one festival, written together: one transaction per edition."""
    keys = {table: AssetKey([prefix, table]) for table in TABLES}
    ceremonies, categories, nominations = (keys[t] for t in TABLES)

    @multi_asset(
        name=f"{prefix}_festival_tables",
        specs=[
            AssetSpec(key, deps=[upstream, festival_organizations], group_name=group, kinds={"postgres"},
                      description=f"{label} rows of {table}.",
                      metadata={"dagster/table_name": table})
            for table, key in keys.items()
        ],
        check_specs=[
            AssetCheckSpec("rows_written_equal_rows_parsed", asset=nominations,
                           description="Nomination rows in the table equal the nominations parsed."),
            AssetCheckSpec("no_duplicate_nomination_rows", asset=nominations,
                           description="No two nomination rows share category, films, nominees and song."),
            AssetCheckSpec("one_ceremony_row_per_edition", asset=ceremonies,
                           description="Each parsed edition has exactly one ceremony row."),
            AssetCheckSpec("categories_have_nominations", asset=categories,
                           description="Every category the ceremonies list has nomination rows."),
        ],
        partitions_def=partitions_def,
        backfill_policy=BackfillPolicy.single_run(),
    )
    def festival_tables(context: AssetExecutionContext, festival_db: FestivalDatabase):
        written: list[tuple[CeremonyRecord, WriteResult]] = []
        for year in partition_years(context):
            with festival_db.transaction() as cursor:
                org_id = organization_id(cursor, slug)
                for record in snapshots.load_year(cursor, org_id, year):
                    written.append((record, _write_one(cursor, org_id, record, require_winners, context.run.run_id)))
        yield from _results(festival_db, keys, written)

    return festival_tables


def _results(festival_db: FestivalDatabase, keys: dict[str, AssetKey], written: list):
    ceremony_ids = [result.ceremony_id for _, result in written]
    with festival_db.transaction() as cursor:
        cursor.execute(
            """SELECT count(*), count(DISTINCT (ceremony_id, category_id, film_imdb_ids, nominee_names,
                                                film_title, details->>'song')),
                      count(DISTINCT category_id)
               FROM festival_nominations WHERE ceremony_id = ANY(%s)""",
            (ceremony_ids,),
        )
        nomination_rows, distinct_rows, categories_used = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM festival_ceremonies WHERE id = ANY(%s)", (ceremony_ids,))
        (ceremony_rows,) = cursor.fetchone()
        schemas = {table: table_schema(cursor, table) for table in TABLES}
    records = [record for record, _ in written]
    parsed = sum(len(r.nominations) for r in records)
    categories_listed = len({(r.organization_slug, *c.key) for r in records for c in r.categories})
    changes = {k: sum(getattr(w, k) for _, w in written) for k in ("inserted", "updated", "deleted")}
    common = {table: {"dagster/table_name": table, "dagster/column_schema": schemas[table]} for table in TABLES}
    yield MaterializeResult(
        asset_key=keys["festival_ceremonies"],
        metadata={**common["festival_ceremonies"], "dagster/row_count": ceremony_rows,
                  "editions": MetadataValue.json(sorted({f"{r.year}/{r.edition}" for r in records}))},
        check_results=[AssetCheckResult(
            asset_key=keys["festival_ceremonies"], check_name="one_ceremony_row_per_edition",
            passed=ceremony_rows == len(written), metadata={"ceremony_rows": ceremony_rows, "editions": len(written)})],
    )
    yield MaterializeResult(
        asset_key=keys["festival_categories"],
        metadata={**common["festival_categories"], "dagster/row_count": categories_used},
        check_results=[AssetCheckResult(
            asset_key=keys["festival_categories"], check_name="categories_have_nominations",
            passed=categories_used == categories_listed,
            metadata={"categories_listed": categories_listed, "categories_with_nominations": categories_used})],
    )
    preview = ceremony_preview(records[0]) if len(records) == 1 else None
    yield MaterializeResult(
        asset_key=keys["festival_nominations"],
        metadata={**common["festival_nominations"], "dagster/row_count": nomination_rows, "rows_parsed": parsed,
                  "winners": sum(n.won for r in records for n in r.nominations), **changes,
                  **({"preview": MetadataValue.md(preview)} if preview else {})},
        check_results=[
            AssetCheckResult(asset_key=keys["festival_nominations"], check_name="rows_written_equal_rows_parsed",
                             passed=nomination_rows == parsed,
                             metadata={"rows_written": nomination_rows, "rows_parsed": parsed}),
            AssetCheckResult(asset_key=keys["festival_nominations"], check_name="no_duplicate_nomination_rows",
                             passed=distinct_rows == nomination_rows,
                             metadata={"rows": nomination_rows, "distinct": distinct_rows}),
        ],
    )

"""The write stage, shared by every festival: parsed ceremonies → the three festival_* tables.

One multi-asset per festival writes `festival_ceremonies`, `festival_categories` and
`festival_nominations` together: every edition of a year in ONE transaction across the three
tables (a year is replaced whole or not at all). The assets load as DataFrames through
`FestivalTablesIOManager`.
"""


from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    Config,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    multi_asset,
)
from pydantic import Field

from festival_pipeline.assets.common import RangeResults, provenance, run_of
from festival_pipeline.assets.organizations import festival_organizations
from festival_pipeline.assets.reporting import column_schema
from festival_pipeline.database.ceremony_writer import ShrinkRefused, YearWriteResult
from festival_pipeline.database.introspection import table_columns
from festival_pipeline.database.year_writes import YearCounts, table_facts, write_and_record, year_counts
from festival_pipeline.io_managers.common import FESTIVAL_METADATA
from festival_pipeline.model import ParsedYear, Provenance
from festival_pipeline.partitions import RANGE_POLICY, partition_years
from festival_pipeline.resources import FestivalDatabase
from festival_pipeline.tags import ACCEPT_SHRINK_TAG

TABLES = ("festival_ceremonies", "festival_categories", "festival_nominations")


class WriteConfig(Config):
    """How the write step treats what it is given."""

    accept_shrink: bool = Field(
        default=False,
        description="Write a year even when it removes a whole category, more than 10 % of its nominations, "
                    "all of them, or an edition (the source really changed). Also set by the run tag "
                    f"`{ACCEPT_SHRINK_TAG}: true` (festival-pipeline backfill --accept-shrink).")
    use_stored_parse: bool = Field(
        default=False,
        description="Write the latest stored parse of each year even when neither this run nor its backfill "
                    "made it (materializing only the table assets).")


def parse_is_usable(parsed: ParsedYear, year: int, current: Provenance, use_stored_parse: bool) -> str | None:
    """Why the write step must not write `parsed` as `year`, or None.

    It writes what the parse step of the same run produced — or of the same backfill, so that
    "re-execute failed" can finish a year whose parse landed in an earlier run of it — or a stored
    parse the operator asked for (`use_stored_parse`).
    """
    if any(record.year != year for record in parsed.ceremonies):
        shown = sorted({record.year for record in parsed.ceremonies})
        return f"the stored parse of {year} holds editions of {shown}"
    made_by = parsed.provenance
    same_run = made_by.run_id == current.run_id
    same_backfill = made_by.lineage is not None and made_by.lineage == current.lineage
    if same_run or same_backfill or use_stored_parse:
        return None
    return (f"the stored parse of {year} was made by run {made_by.run_id}, not by this run or its backfill: "
            "materialize the parse asset with the tables, or set use_stored_parse: true")


def _year_metadata(written: YearWriteResult, counts: YearCounts) -> dict[str, dict[str, object]]:
    """Per table, the year's numbers as they are in the database after the write."""
    editions = [f"{written.year}/{edition.edition}" for edition in written.editions]
    removed = [f"{written.year}/{edition.edition}" for edition in written.removed_editions]
    return {
        "festival_ceremonies": {"dagster/row_count": len(editions), "editions": MetadataValue.json(editions),
                                **({"editions_removed": MetadataValue.json(removed)} if removed else {})},
        "festival_categories": {"dagster/row_count": counts.categories, "orphans_removed": written.categories_deleted},
        "festival_nominations": {"dagster/row_count": counts.nominations, "winners": counts.winners,
                                 "inserted": written.inserted, "updated": written.updated, "deleted": written.deleted},
    }


def build_table_assets(
    *, prefix: str, slug: str, label: str, partitions_def: PartitionsDefinition, upstream: AssetKey, group: str,
) -> AssetsDefinition:
    """The three table assets of one festival, written together: one transaction per year."""
    keys = {table: AssetKey([prefix, table]) for table in TABLES}
    ceremonies, categories, nominations = (keys[t] for t in TABLES)

    @multi_asset(
        name=f"{prefix}_festival_tables",
        specs=[
            AssetSpec(key, deps=[upstream, festival_organizations], group_name=group, kinds={"postgres"},
                      description=f"{label} rows of {table} (loads as a pandas DataFrame).",
                      metadata={"dagster/table_name": table, FESTIVAL_METADATA: slug},
                      ).with_io_manager_key("festival_tables_io_manager")
            for table, key in keys.items()
        ],
        ins={"parsed": AssetIn(upstream)},
        check_specs=[
            AssetCheckSpec("no_substantial_shrink", asset=nominations, blocking=True,
                           description="No year loses a whole category, more than 10 % of its nominations, all "
                                       "of them, or an edition, unless the run accepts it (accept_shrink)."),
            AssetCheckSpec("no_duplicate_nomination_rows", asset=nominations,
                           description="No two nomination rows share category, films, nominees and song."),
            AssetCheckSpec("ceremony_rows_match_editions", asset=ceremonies,
                           description="Each year written has exactly one ceremony row per edition the source lists."),
            AssetCheckSpec("no_orphan_categories", asset=categories,
                           description="Every category of the festival has nomination rows."),
        ],
        partitions_def=partitions_def,
        backfill_policy=RANGE_POLICY,
    )
    def festival_tables(
        context: AssetExecutionContext, config: WriteConfig, festival_db: FestivalDatabase,
        parsed: dict[int, ParsedYear],
    ) -> Iterator:
        current = provenance(context)
        accept_shrink = config.accept_shrink or run_of(context)[1].get(ACCEPT_SHRINK_TAG, "").lower() == "true"
        results: RangeResults[YearWriteResult] = RangeResults(context, festival_db, slug, f"writing {label}")
        refused: dict[int, dict] = {}
        for year in partition_years(context):
            if why := parse_is_usable(parsed[year], year, current, config.use_stored_parse):
                results.fail(year, why)
                continue
            try:
                with festival_db.transaction() as cursor:
                    written = write_and_record(cursor, slug, parsed[year], current.run_id, accept_shrink)
                    per_table = _year_metadata(written, year_counts(cursor, written))
            except ShrinkRefused as exc:
                refused[year] = {**exc.report.as_metadata(), "description": exc.report.describe()}
                results.fail(year, str(exc))
                continue
            except Exception as exc:
                results.fail(year, f"{type(exc).__name__}: {exc}")
                continue
            results.ok(year, written, per_asset={keys[table]: metadata for table, metadata in per_table.items()})
        checks = _checks(festival_db, slug, keys, results, refused, accept_shrink)
        common = _table_metadata(festival_db)
        if results.failures:
            yield from results.store_and_report(keys.values(), lambda good, failed: None)
            yield from checks
            raise results.failure()
        results.add_partition_metadata(keys.values())
        for table, key in keys.items():
            yield MaterializeResult(asset_key=key, metadata=common[table],
                                    check_results=[c for c in checks if c.asset_key == key])

    return festival_tables


def _table_metadata(festival_db: FestivalDatabase) -> dict[str, dict[str, object]]:
    with festival_db.transaction() as cursor:
        return {table: {"dagster/column_schema": column_schema(table_columns(cursor, table))} for table in TABLES}


def _checks(festival_db: FestivalDatabase, slug: str, keys: dict[str, AssetKey],
            results: RangeResults[YearWriteResult], refused: dict[int, dict],
            accept_shrink: bool) -> list[AssetCheckResult]:
    written = list(results.values.values())
    with festival_db.transaction() as cursor:
        facts = table_facts(cursor, slug, written)
    rows, distinct_rows, orphans = facts.nomination_rows, facts.distinct_nomination_rows, facts.orphan_categories
    ceremony_rows = facts.ceremony_rows
    mismatched = {w.year: (ceremony_rows.get(w.year, 0), len(w.editions)) for w in written
                  if ceremony_rows.get(w.year, 0) != len(w.editions)}
    return [
        AssetCheckResult(
            asset_key=keys["festival_nominations"], check_name="no_substantial_shrink", passed=not refused,
            severity=AssetCheckSeverity.ERROR,
            description="; ".join(f"{y}: {report['description']}" for y, report in sorted(refused.items())) or None,
            metadata={"refused": MetadataValue.json({str(y): report for y, report in sorted(refused.items())}),
                      "accept_shrink": accept_shrink}),
        AssetCheckResult(
            asset_key=keys["festival_nominations"], check_name="no_duplicate_nomination_rows",
            passed=distinct_rows == rows, severity=AssetCheckSeverity.WARN,
            metadata={"rows": rows, "distinct": distinct_rows}),
        AssetCheckResult(
            asset_key=keys["festival_ceremonies"], check_name="ceremony_rows_match_editions", passed=not mismatched,
            severity=AssetCheckSeverity.WARN,
            metadata={"years_written": len(written),
                      "mismatched": MetadataValue.json({str(y): {"rows": r, "editions": e}
                                                        for y, (r, e) in mismatched.items()})}),
        AssetCheckResult(
            asset_key=keys["festival_categories"], check_name="no_orphan_categories", passed=not orphans,
            severity=AssetCheckSeverity.WARN,
            metadata={"orphans": len(orphans), "examples": MetadataValue.json(orphans[:20])}),
    ]

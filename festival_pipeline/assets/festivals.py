"""Every IMDb-only festival (Cannes, Venice, Berlin, …): one factory, instantiated per festival.

Per festival: `<slug>/imdb_edition_pages` → `<slug>/ceremony` → `<slug>/festival_ceremonies`,
`festival_categories`, `festival_nominations`. Each festival has its own yearly partitions
(starting at its first edition), so a rerun of Cannes 2024 touches nothing else. The stages
are the same code as the Oscars' IMDb side (EditionList, the checks, the table writer).
"""

from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)

from festival_pipeline.assets.common import (
    CEREMONY_CHECKS,
    NON_BLOCKING_CHECKS,
    EditionList,
    check_results,
    describe_failure,
    fail_for_years,
    link_page,
    page_metadata,
    record_failure,
)
from festival_pipeline.assets.oscars import SourcePageConfig
from festival_pipeline.assets.reporting import ceremony_preview, range_summary
from festival_pipeline.assets.tables import build_table_assets
from festival_pipeline.checks import rules
from festival_pipeline.database import archive, outcomes, snapshots
from festival_pipeline.database.organizations import organization_id
from festival_pipeline.enhance.imdb_only import imdb_edition_to_ceremony
from festival_pipeline.model import CeremonyRecord
from festival_pipeline.parsers import parse_imdb_edition_page
from festival_pipeline.partitions import festival_partitions, partition_years
from festival_pipeline.registry import FESTIVALS, Festival
from festival_pipeline.resources import FestivalDatabase, SourceWebsites
from festival_pipeline.sources import page_store

IMDB_ROLE = "imdb"


def asset_prefix(festival: Festival) -> str:
    return festival.slug.replace("-", "_")


def _no_edition(festival_db: FestivalDatabase, context: AssetExecutionContext, slug: str, year: int) -> None:
    with festival_db.transaction() as cursor:
        outcomes.record_outcome(cursor, organization_id=organization_id(cursor, slug), year=year, edition=1,
                                status=outcomes.NO_EDITION, run_id=context.run.run_id)


def _edition_pages_asset(festival: Festival, key: AssetKey, group: str, partitions) -> AssetsDefinition:
    slug = festival.slug

    @asset(key=key, group_name=group, partitions_def=partitions, backfill_policy=BackfillPolicy.single_run(),
           pool="imdb.com", kinds={"html"},
           description=f"IMDb edition pages of the {festival.name} held in the year (raw HTML, archived); "
                       "editions come from the event's own edition list, so new years appear by themselves.")
    def edition_pages(
        context: AssetExecutionContext, config: SourcePageConfig, festival_db: FestivalDatabase, sites: SourceWebsites
    ) -> MaterializeResult:
        editions = EditionList(sites, festival_db, festival.imdb_event_id, config.reparse)
        pages: list[page_store.StoredPage] = []
        no_edition: list[int] = []
        failures: dict[int, str] = {}
        for year in partition_years(context):
            instances = sorted(ref.instance for ref in editions.latest.editions if ref.year == year)
            try:
                with festival_db.transaction() as cursor:
                    org_id = organization_id(cursor, slug)
                    archive.unlink_year(cursor, organization_id=org_id, year=year, role=IMDB_ROLE)
                    for instance in instances:
                        stored = editions.edition_page(cursor, year, instance)
                        link_page(cursor, slug, year, instance, IMDB_ROLE, stored)
                        pages.append(stored)
            except Exception as exc:
                failures[year] = f"{type(exc).__name__}: {exc}"
                record_failure(festival_db, context, slug, year, failures[year])
                continue
            if not instances:
                no_edition.append(year)
                _no_edition(festival_db, context, slug, year)
        if failures:
            raise fail_for_years(f"fetching {festival.name} pages", failures)
        metadata = page_metadata(pages, fetched=editions.fetched)
        metadata.update(editions=len(pages), years_without_edition=MetadataValue.json(no_edition))
        return MaterializeResult(metadata=metadata)

    return edition_pages


def _ceremony_asset(festival: Festival, key: AssetKey, upstream: AssetKey, group: str, partitions) -> AssetsDefinition:
    slug = festival.slug

    def parse_year(festival_db: FestivalDatabase, year: int) -> list[CeremonyRecord]:
        with festival_db.transaction() as cursor:
            org_id = organization_id(cursor, slug)
            snapshots.delete_year(cursor, org_id, year)
            pages = [archive.partition_page(cursor, organization_id=org_id, year=year, edition=e, role=IMDB_ROLE)
                     for e in archive.partition_editions(cursor, organization_id=org_id, year=year, role=IMDB_ROLE)]
        return [imdb_edition_to_ceremony(parse_imdb_edition_page(p.text, p.url), slug, page_hashes={"imdb": p.sha256})
                for p in pages]

    @asset(key=key, group_name=group, partitions_def=partitions, backfill_policy=BackfillPolicy.single_run(),
           deps=[upstream], kinds={"python"},
           check_specs=[AssetCheckSpec(name, asset=key, description=d, blocking=name not in NON_BLOCKING_CHECKS)
                        for name, d in CEREMONY_CHECKS],
           description=f"The {festival.name} editions of the year parsed from IMDb: prizes, categories, "
                       "nominations with title and name ids. An edition listing no awards is recorded as "
                       "nothing to import; a page that does not parse fails the run.")
    def ceremony(context: AssetExecutionContext, festival_db: FestivalDatabase) -> MaterializeResult:
        records: dict[str, CeremonyRecord] = {}
        per_edition: dict[str, list[rules.RuleOutcome]] = {}
        failures: dict[int, str] = {}
        def check_and_store(record: CeremonyRecord) -> None:
            label = f"{record.year}/{record.edition}"
            per_edition[label] = rules.evaluate(record, match_rate_floor=0.0, require_winners=False)
            if blocked := rules.blocking_failures(per_edition[label]):
                record_failure(festival_db, context, slug, record.year, "check failed: " + ", ".join(
                    o.name for o in blocked), edition=record.edition)
                return
            with festival_db.transaction() as cursor:
                snapshots.store_snapshot(cursor, organization_id(cursor, slug), record)
            records[label] = record

        for year in partition_years(context):
            try:
                for record in parse_year(festival_db, year):
                    check_and_store(record)
            except Exception as exc:
                failures[year] = describe_failure(exc)
                record_failure(festival_db, context, slug, year, failures[year])
        if failures:
            raise fail_for_years(f"parsing {festival.name} pages", failures)
        metadata = range_summary(records)
        metadata["nothing_to_import"] = MetadataValue.json(
            sorted(label for label, r in records.items() if r.nothing_to_import))
        if len(records) == 1:
            metadata["preview"] = MetadataValue.md(ceremony_preview(next(iter(records.values()))))
        return MaterializeResult(metadata=metadata, check_results=check_results(key, per_edition))

    return ceremony


def build_festival_assets(festival: Festival) -> list[AssetsDefinition]:
    prefix = asset_prefix(festival)
    partitions = festival_partitions(festival.first_edition_year)
    pages_key, ceremony_key = AssetKey([prefix, "imdb_edition_pages"]), AssetKey([prefix, "ceremony"])
    return [
        _edition_pages_asset(festival, pages_key, prefix, partitions),
        _ceremony_asset(festival, ceremony_key, pages_key, prefix, partitions),
        build_table_assets(prefix=prefix, slug=festival.slug, label=festival.name, partitions_def=partitions,
                           upstream=ceremony_key, group=prefix, require_winners=False),
    ]


festival_assets = [a for f in FESTIVALS if not f.is_oscars for a in build_festival_assets(f)]

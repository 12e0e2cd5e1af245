"""Every IMDb-only festival (Cannes, Venice, Berlin, …): one factory, instantiated per festival.

Per festival: `<slug>/imdb_edition_pages` → `<slug>/ceremony` → `<slug>/festival_ceremonies`,
`festival_categories`, `festival_nominations`. Each festival has its own yearly partitions (from its
first edition), so a rerun of Cannes 2024 touches nothing else. The stages are the same code as the
Oscars' IMDb side (EditionList, the checks, the table writer).
"""


from collections.abc import Iterator

from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetsDefinition,
    MetadataValue,
    PartitionsDefinition,
    asset,
)

from festival_pipeline.assets.common import (
    CEREMONY_CHECKS,
    NON_BLOCKING_CHECKS,
    EditionList,
    RangeResults,
    check_edition_identity,
    check_results,
    describe_failure,
    page_metadata,
    partition_years,
    provenance,
    store_pages,
    store_parses,
)
from festival_pipeline.assets.reporting import ceremony_metadata
from festival_pipeline.assets.tables import build_table_assets
from festival_pipeline.checks import rules
from festival_pipeline.database.archive import ArchivedPage
from festival_pipeline.database.partition_pages import YearPages
from festival_pipeline.enhance.imdb_only import imdb_edition_to_ceremony
from festival_pipeline.groups import asset_prefix
from festival_pipeline.io_managers.common import FESTIVAL_METADATA, PAGE_ROLE_METADATA
from festival_pipeline.model import ParsedYear
from festival_pipeline.parsers import parse_imdb_edition_page
from festival_pipeline.partitions import RANGE_POLICY, festival_partitions
from festival_pipeline.registry import FESTIVALS, Festival
from festival_pipeline.resources import FestivalDatabase, SourceWebsites

IMDB_ROLE = "imdb"


def _edition_pages_asset(festival: Festival, key: AssetKey, group: str,
                         partitions: PartitionsDefinition) -> AssetsDefinition:
    slug = festival.slug

    @asset(key=key, group_name=group, partitions_def=partitions, backfill_policy=RANGE_POLICY, pool="imdb.com",
           kinds={"html"}, io_manager_key="raw_pages_io_manager",
           metadata={FESTIVAL_METADATA: slug, PAGE_ROLE_METADATA: IMDB_ROLE},
           description=f"IMDb edition pages of the {festival.name} held in the year (raw HTML, archived); "
                       "editions come from the event's own edition list, so new years appear by themselves.")
    def edition_pages(context: AssetExecutionContext, festival_db: FestivalDatabase, sites: SourceWebsites) -> Iterator:
        results: RangeResults[YearPages] = RangeResults(context, festival_db, slug, f"fetching {festival.name} pages")
        years, prov = partition_years(context), provenance(context)
        try:
            editions = EditionList(context, sites, festival_db, festival.imdb_event_id)
        except Exception as exc:
            results.fail_all(years, f"the IMDb edition list could not be read: {describe_failure(exc)}")
        else:
            for year in years:
                instances = sorted({ref.instance for ref in editions.latest.editions if ref.year == year})
                try:
                    pages = {instance: editions.edition_page(year, instance) for instance in instances}
                except Exception as exc:
                    results.fail(year, describe_failure(exc))
                    continue
                results.ok(year, YearPages(year, pages, prov), page_metadata(pages, fetched=len(pages)))
        yield from results.finish(key, store_pages(festival_db, slug, IMDB_ROLE, prov))

    return edition_pages


def parse_editions(slug: str, year: int, pages: dict[int, ArchivedPage]) -> list:
    """Every edition page of a year as a CeremonyRecord; a page showing another edition fails."""
    records = []
    for instance, page in sorted(pages.items()):
        parsed = parse_imdb_edition_page(page.text, page.url)
        check_edition_identity(parsed, year, instance)
        records.append(imdb_edition_to_ceremony(parsed, slug, page_hashes={"imdb": page.sha256}))
    return records


def _ceremony_asset(festival: Festival, key: AssetKey, upstream: AssetKey, group: str,
                    partitions: PartitionsDefinition) -> AssetsDefinition:
    slug = festival.slug

    @asset(key=key, group_name=group, partitions_def=partitions, backfill_policy=RANGE_POLICY,
           ins={"pages": AssetIn(upstream)}, kinds={"python"}, io_manager_key="parsed_ceremonies_io_manager",
           metadata={FESTIVAL_METADATA: slug},
           check_specs=[AssetCheckSpec(name, asset=key, description=d, blocking=name not in NON_BLOCKING_CHECKS)
                        for name, d in CEREMONY_CHECKS],
           description=f"The {festival.name} editions of the year parsed from IMDb: prizes, categories, "
                       "nominations with title and name ids. A page that does not parse, or an edition that "
                       "fails a blocking check, fails its year and is never written.")
    def ceremony(context: AssetExecutionContext, festival_db: FestivalDatabase,
                 pages: dict[int, dict[int, ArchivedPage]]) -> Iterator:
        results: RangeResults[ParsedYear] = RangeResults(context, festival_db, slug, f"parsing {festival.name} pages")
        per_edition: dict[str, list[rules.RuleOutcome]] = {}
        prov = provenance(context)
        for year in partition_years(context):
            try:
                records = parse_editions(slug, year, pages[year])
            except Exception as exc:
                results.fail(year, describe_failure(exc))
                continue
            blocked = []
            for record in records:
                label = f"{record.year}/{record.edition}"
                per_edition[label] = rules.evaluate(record, match_rate_floor=0.0, require_winners=False)
                blocked += [f"{label} {o.name}" for o in rules.blocking_failures(per_edition[label])]
            if blocked:
                results.fail(year, "check failed: " + ", ".join(blocked))
                continue
            metadata = ceremony_metadata(records)
            metadata["nothing_to_import"] = MetadataValue.json(
                [f"{r.year}/{r.edition}" for r in records if r.nothing_to_import])
            results.ok(year, ParsedYear(year, tuple(records), prov), metadata)
        yield from results.finish(key, store_parses(festival_db, slug, prov), check_results(key, per_edition))

    return ceremony


def build_festival_assets(festival: Festival) -> list[AssetsDefinition]:
    prefix = asset_prefix(festival)
    partitions = festival_partitions(festival.first_edition_year)
    pages_key, ceremony_key = AssetKey([prefix, "imdb_edition_pages"]), AssetKey([prefix, "ceremony"])
    return [
        _edition_pages_asset(festival, pages_key, prefix, partitions),
        _ceremony_asset(festival, ceremony_key, pages_key, prefix, partitions),
        build_table_assets(prefix=prefix, slug=festival.slug, label=festival.name, partitions_def=partitions,
                           upstream=ceremony_key, group=prefix),
    ]


festival_assets = [a for f in FESTIVALS if not f.is_oscars for a in build_festival_assets(f)]

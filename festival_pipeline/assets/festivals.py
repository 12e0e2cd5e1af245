"""Every IMDb-only festival (Cannes, Venice, Berlin, …): one factory, instantiated per festival.

Per festival: `<slug>/imdb_edition_pages` → `<slug>/ceremony` → `<slug>/festival_ceremonies`,
`festival_categories`, `festival_nominations`. Each festival has its own yearly partitions (from its
first edition), so a rerun of Cannes 2024 touches nothing else. The stages are the same code as the
Oscars' IMDb side (EditionList, the checks, the table writer).
"""


from collections.abc import Iterator, Mapping, Sequence

from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetsDefinition,
    MetadataValue,
    PartitionsDefinition,
    asset,
)

from festival_pipeline import settings
from festival_pipeline.assets.common import (
    PageFetch,
    RangeResults,
    ceremony_check_specs,
    check_edition_identity,
    check_results,
    describe_failure,
    page_hashes,
    provenance,
    store_parses,
)
from festival_pipeline.assets.reporting import ceremony_metadata
from festival_pipeline.assets.tables import build_table_assets
from festival_pipeline.checks import rules
from festival_pipeline.database.archive import ArchivedPage
from festival_pipeline.database.partition_pages import YearsPages
from festival_pipeline.enhance.imdb_only import imdb_edition_to_ceremony
from festival_pipeline.groups import PAGE_KIND, asset_prefix
from festival_pipeline.io_managers.common import FESTIVAL_METADATA, PAGE_ROLE_METADATA
from festival_pipeline.model import ParsedYear
from festival_pipeline.partitions import RANGE_POLICY, festival_partitions, partition_years
from festival_pipeline.pools import imdb_pool
from festival_pipeline.registry import FESTIVALS, Festival
from festival_pipeline.resources import FestivalDatabase, SourceWebsites
from festival_pipeline.sources.imdb_editions import imdb_edition_from_archive

IMDB_ROLE = "imdb"


def _edition_pages_asset(festival: Festival, key: AssetKey, group: str, partitions: PartitionsDefinition,
                         imdb_pool: str) -> AssetsDefinition:
    slug = festival.slug

    @asset(key=key, group_name=group, partitions_def=partitions, backfill_policy=RANGE_POLICY, pool=imdb_pool,
           kinds={PAGE_KIND}, io_manager_key="raw_pages_io_manager",
           metadata={FESTIVAL_METADATA: slug, PAGE_ROLE_METADATA: IMDB_ROLE},
           description=f"The {festival.name} editions held in the year as IMDb serves them, archived as served: "
                       "the answers of IMDb's GraphQL API, or the edition pages (IMDB_SOURCE). Editions come from "
                       "the event's own edition list, so new years appear by themselves.")
    def edition_pages(context: AssetExecutionContext, festival_db: FestivalDatabase, sites: SourceWebsites) -> Iterator:
        step = PageFetch(context, festival_db, slug, IMDB_ROLE, f"fetching {festival.name} pages")
        if (reader := step.imdb_reader(sites, festival.imdb_event_id)) is not None:
            step.each_year(lambda year: {ref.instance: reader.edition(year, ref.instance)
                                         for ref in sorted(reader.editions, key=lambda r: r.instance)
                                         if ref.year == year})
        yield from step.finish()

    return edition_pages


def parse_editions(slug: str, year: int, pages: Mapping[int, Sequence[ArchivedPage]]) -> list:
    """Every edition of a year as a CeremonyRecord; a page (or answer) showing another edition fails."""
    records = []
    for instance, documents in sorted(pages.items()):
        parsed = imdb_edition_from_archive(documents)
        check_edition_identity(parsed, year, instance)
        records.append(imdb_edition_to_ceremony(parsed, slug, page_hashes=page_hashes(IMDB_ROLE, documents),
                                                imdb_source=documents[0].source))
    return records


def _ceremony_asset(festival: Festival, key: AssetKey, upstream: AssetKey, group: str,
                    partitions: PartitionsDefinition) -> AssetsDefinition:
    slug = festival.slug

    @asset(key=key, group_name=group, partitions_def=partitions, backfill_policy=RANGE_POLICY,
           ins={"pages": AssetIn(upstream)}, kinds={"python"}, io_manager_key="parsed_ceremonies_io_manager",
           metadata={FESTIVAL_METADATA: slug},
           check_specs=ceremony_check_specs(key),
           description=f"The {festival.name} editions of the year parsed from IMDb: prizes, categories, "
                       "nominations with title and name ids. A page that does not parse, or an edition that "
                       "fails a blocking check, fails its year and is never written.")
    def ceremony(context: AssetExecutionContext, festival_db: FestivalDatabase,
                 pages: YearsPages) -> Iterator:
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


def build_festival_assets(festival: Festival, imdb_source: str | None = None) -> list[AssetsDefinition]:
    """The festival's assets; `imdb_source` (IMDB_SOURCE by default) sets the fetching step's pool."""
    prefix = asset_prefix(festival)
    partitions = festival_partitions(festival.first_edition_year)
    pages_key, ceremony_key = AssetKey([prefix, "imdb_edition_pages"]), AssetKey([prefix, "ceremony"])
    pool = imdb_pool(imdb_source or settings.imdb_source())
    return [
        _edition_pages_asset(festival, pages_key, prefix, partitions, pool),
        _ceremony_asset(festival, ceremony_key, pages_key, prefix, partitions),
        build_table_assets(prefix=prefix, slug=festival.slug, label=festival.name, partitions_def=partitions,
                           upstream=ceremony_key, group=prefix),
    ]


festival_assets = [a for f in FESTIVALS if not f.is_oscars for a in build_festival_assets(f)]

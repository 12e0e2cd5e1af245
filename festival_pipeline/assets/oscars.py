"""The Academy Awards: oscars.org ceremony page + IMDb edition page → the unified tables.

Lineage (the function signatures show it): oscars_org_ceremony_page, imdb_edition_page →
enhanced_ceremony → festival_ceremonies / festival_categories / festival_nominations. Every asset
handles a range of years, so a backfill runs in a few ranged runs.
"""


from collections.abc import Iterator, Sequence
from functools import partial

from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    Config,
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
from festival_pipeline.enhance.oscars import enhance_oscars_ceremony, imdb_edition_for_ceremony
from festival_pipeline.groups import PAGE_KIND
from festival_pipeline.io_managers.common import FESTIVAL_METADATA, PAGE_ROLE_METADATA
from festival_pipeline.model import CeremonyRecord, ParsedYear
from festival_pipeline.parsers import PageParseError, parse_oscars_ceremony_page
from festival_pipeline.partitions import RANGE_POLICY, oscars_partitions, partition_years
from festival_pipeline.pools import OSCARS_POOL, imdb_pool
from festival_pipeline.registry import ACADEMY_AWARDS_SLUG, festival
from festival_pipeline.resources import FestivalDatabase, SourceWebsites
from festival_pipeline.sources.imdb_editions import Served, imdb_edition_from_archive

GROUP = "oscars"
PREFIX = "oscars"
SLUG = ACADEMY_AWARDS_SLUG
OSCARS_ORG_ROLE = "oscars_org"
IMDB_ROLE = "imdb"
FIRST_CEREMONY_YEAR = 1928  # oscars.org keys ceremony N by the year 1928 + N

OSCARS_ORG_PAGE = AssetKey([PREFIX, "oscars_org_ceremony_page"])
IMDB_PAGE = AssetKey([PREFIX, "imdb_edition_page"])
ENHANCED = AssetKey([PREFIX, "enhanced_ceremony"])


class EnhanceConfig(Config):
    """The share of oscars.org nominations that must match an IMDb nomination."""

    match_rate_floor: float = 0.98


@asset(
    key=OSCARS_ORG_PAGE,
    group_name=GROUP,
    partitions_def=oscars_partitions,
    backfill_policy=RANGE_POLICY,
    pool=OSCARS_POOL,
    kinds={PAGE_KIND},
    io_manager_key="raw_pages_io_manager",
    metadata={FESTIVAL_METADATA: SLUG, PAGE_ROLE_METADATA: OSCARS_ORG_ROLE},
    description="The oscars.org ceremony page of the year (raw HTML, archived in PostgreSQL as served).",
)
def oscars_org_ceremony_page(
    context: AssetExecutionContext, festival_db: FestivalDatabase, sites: SourceWebsites
) -> Iterator:
    step = PageFetch(context, festival_db, SLUG, OSCARS_ORG_ROLE, "fetching oscars.org pages")
    fetcher = sites.fetcher_for("oscars")
    step.each_year(lambda year: {
        1: Served((step.store.fetch(partial(fetcher.fetch, sites.oscars_ceremony_url(year))),))})
    yield from step.finish()


@asset(
    key=IMDB_PAGE,
    group_name=GROUP,
    partitions_def=oscars_partitions,
    backfill_policy=RANGE_POLICY,
    pool=imdb_pool(settings.imdb_source()),
    kinds={PAGE_KIND},
    io_manager_key="raw_pages_io_manager",
    metadata={FESTIVAL_METADATA: SLUG, PAGE_ROLE_METADATA: IMDB_ROLE},
    description=(
        "The ceremony's IMDb edition as IMDb serves it, archived as served: the answers of IMDb's GraphQL "
        "API, or the edition page (IMDB_SOURCE). Ceremony N is the N-th edition of IMDb's own edition list: "
        "1930/1 and 1930/2 are the 2nd and 3rd."
    ),
)
def imdb_edition_page(context: AssetExecutionContext, festival_db: FestivalDatabase, sites: SourceWebsites) -> Iterator:
    step = PageFetch(context, festival_db, SLUG, IMDB_ROLE, "fetching IMDb editions")
    if (reader := step.imdb_reader(sites, festival(SLUG).imdb_event_id)) is not None:
        def ceremony(year: int) -> dict[int, Served]:
            edition = imdb_edition_for_ceremony(reader.editions, year - FIRST_CEREMONY_YEAR)
            return {1: reader.edition(edition.year, edition.instance)}

        step.each_year(ceremony)
    yield from step.finish()


def enhance_year(year: int, oscars_page: ArchivedPage, imdb_documents: Sequence[ArchivedPage]) -> CeremonyRecord:
    """Parse both sources of a year and match them; raises PageParseError when one is not the year's."""
    parsed = parse_oscars_ceremony_page(oscars_page.text, oscars_page.url)
    expected = year - FIRST_CEREMONY_YEAR
    if parsed.ceremony_number != expected:
        raise PageParseError(oscars_page.url, f"the page shows ceremony {parsed.ceremony_number}, expected {expected}")
    imdb = imdb_edition_from_archive(imdb_documents)
    edition = imdb_edition_for_ceremony(imdb.editions, expected)  # by IMDb's own edition list
    check_edition_identity(imdb, edition.year, edition.instance)
    hashes = {"oscars_org": oscars_page.sha256, **page_hashes(IMDB_ROLE, imdb_documents)}
    return enhance_oscars_ceremony(parsed, imdb, page_hashes=hashes, imdb_source=imdb_documents[0].source)


@asset(
    key=ENHANCED,
    group_name=GROUP,
    partitions_def=oscars_partitions,
    backfill_policy=RANGE_POLICY,
    ins={"oscars_org_pages": AssetIn(OSCARS_ORG_PAGE), "imdb_pages": AssetIn(IMDB_PAGE)},
    kinds={"python"},
    io_manager_key="parsed_ceremonies_io_manager",
    metadata={FESTIVAL_METADATA: SLUG},
    check_specs=ceremony_check_specs(ENHANCED),
    description=(
        "The ceremony parsed from oscars.org and enhanced with IMDb title/name ids. A page that does not "
        "parse, or a ceremony that fails a blocking check, fails its year and is never written."
    ),
)
def enhanced_ceremony(
    context: AssetExecutionContext, config: EnhanceConfig, festival_db: FestivalDatabase,
    oscars_org_pages: YearsPages,
    imdb_pages: YearsPages,
) -> Iterator:
    results: RangeResults[ParsedYear] = RangeResults(context, festival_db, SLUG, "parsing")
    per_year: dict[str, list[rules.RuleOutcome]] = {}
    prov = provenance(context)
    for year in partition_years(context):
        try:
            (oscars_page,) = oscars_org_pages[year][1]
            record = enhance_year(year, oscars_page, imdb_pages[year][1])
        except Exception as exc:
            results.fail(year, describe_failure(exc))
            continue
        per_year[str(year)] = rules.evaluate(record, match_rate_floor=config.match_rate_floor, require_winners=True)
        if blocked := rules.blocking_failures(per_year[str(year)]):
            results.fail(year, "check failed: " + ", ".join(o.name for o in blocked))
            continue
        results.ok(year, ParsedYear(year, (record,), prov), ceremony_metadata([record]))
    yield from results.finish(ENHANCED, store_parses(festival_db, SLUG, prov), check_results(ENHANCED, per_year))


oscars_festival_tables = build_table_assets(
    prefix=PREFIX, slug=SLUG, label="Academy Awards", partitions_def=oscars_partitions, upstream=ENHANCED,
    group=GROUP,
)

oscars_assets = [oscars_org_ceremony_page, imdb_edition_page, enhanced_ceremony, oscars_festival_tables]

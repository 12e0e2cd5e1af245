"""The Academy Awards: oscars.org ceremony page + IMDb edition page → the unified tables.

Lineage (the function signatures show it): oscars_org_ceremony_page, imdb_edition_page →
enhanced_ceremony → festival_ceremonies / festival_categories / festival_nominations. Every asset
handles a range of years, so a backfill runs in a few ranged runs.
"""


from collections.abc import Iterator

from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    Config,
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
    fetch_context,
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
from festival_pipeline.enhance.oscars import enhance_oscars_ceremony, imdb_edition_for_ceremony
from festival_pipeline.io_managers.common import FESTIVAL_METADATA, PAGE_ROLE_METADATA
from festival_pipeline.model import CeremonyRecord, ParsedYear
from festival_pipeline.parsers import PageParseError, parse_imdb_edition_page, parse_oscars_ceremony_page
from festival_pipeline.partitions import RANGE_POLICY, oscars_partitions
from festival_pipeline.registry import ACADEMY_AWARDS_SLUG, festival
from festival_pipeline.resources import FestivalDatabase, SourceWebsites
from festival_pipeline.sources import page_store

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


def _finish_pages(results: RangeResults[YearPages], context: AssetExecutionContext, festival_db: FestivalDatabase,
                  role: str) -> Iterator:
    yield from results.finish(context.asset_key, store_pages(festival_db, SLUG, role, provenance(context)))


@asset(
    key=OSCARS_ORG_PAGE,
    group_name=GROUP,
    partitions_def=oscars_partitions,
    backfill_policy=RANGE_POLICY,
    pool="oscars.org",
    kinds={"html"},
    io_manager_key="raw_pages_io_manager",
    metadata={FESTIVAL_METADATA: SLUG, PAGE_ROLE_METADATA: OSCARS_ORG_ROLE},
    description="The oscars.org ceremony page of the year (raw HTML, archived in PostgreSQL as served).",
)
def oscars_org_ceremony_page(
    context: AssetExecutionContext, festival_db: FestivalDatabase, sites: SourceWebsites
) -> Iterator:
    results: RangeResults[YearPages] = RangeResults(context, festival_db, SLUG, "fetching oscars.org pages")
    fetched_by, prov = fetch_context(context), provenance(context)
    for year in partition_years(context):
        try:
            stored = page_store.fetch_and_archive(sites.fetcher_for("oscars", festival_db), festival_db,
                                                  sites.oscars_ceremony_url(year), fetched_by)
        except Exception as exc:
            results.fail(year, describe_failure(exc))
            continue
        results.ok(year, YearPages(year, {1: stored.page}, prov), page_metadata({1: stored.page}, fetched=1))
    yield from _finish_pages(results, context, festival_db, OSCARS_ORG_ROLE)


@asset(
    key=IMDB_PAGE,
    group_name=GROUP,
    partitions_def=oscars_partitions,
    backfill_policy=RANGE_POLICY,
    pool="imdb.com",
    kinds={"html"},
    io_manager_key="raw_pages_io_manager",
    metadata={FESTIVAL_METADATA: SLUG, PAGE_ROLE_METADATA: IMDB_ROLE},
    description=(
        "The IMDb edition page of the ceremony (raw HTML, archived). Ceremony N is the N-th edition "
        "of IMDb's own edition list (historyEventEditions): 1930/1 and 1930/2 are the 2nd and 3rd."
    ),
)
def imdb_edition_page(context: AssetExecutionContext, festival_db: FestivalDatabase, sites: SourceWebsites) -> Iterator:
    results: RangeResults[YearPages] = RangeResults(context, festival_db, SLUG, "fetching IMDb edition pages")
    years, prov = partition_years(context), provenance(context)
    try:
        editions = EditionList(context, sites, festival_db, festival(SLUG).imdb_event_id)
    except Exception as exc:
        results.fail_all(years, f"the IMDb edition list could not be read: {describe_failure(exc)}")
        yield from _finish_pages(results, context, festival_db, IMDB_ROLE)
        return
    for year in years:
        try:
            edition = imdb_edition_for_ceremony(editions.latest.editions, year - FIRST_CEREMONY_YEAR)
            page = editions.edition_page(edition.year, edition.instance)
        except Exception as exc:
            results.fail(year, describe_failure(exc))
            continue
        results.ok(year, YearPages(year, {1: page}, prov), page_metadata({1: page}, fetched=1))
    yield from _finish_pages(results, context, festival_db, IMDB_ROLE)


def enhance_year(year: int, oscars_page: ArchivedPage, imdb_page: ArchivedPage) -> CeremonyRecord:
    """Parse both pages of a year and match them; raises PageParseError when a page is not the year's."""
    parsed = parse_oscars_ceremony_page(oscars_page.text, oscars_page.url)
    expected = year - FIRST_CEREMONY_YEAR
    if parsed.ceremony_number != expected:
        raise PageParseError(oscars_page.url, f"the page shows ceremony {parsed.ceremony_number}, expected {expected}")
    imdb = parse_imdb_edition_page(imdb_page.text, imdb_page.url)
    edition = imdb_edition_for_ceremony(imdb.editions, expected)  # by IMDb's own edition list
    check_edition_identity(imdb, edition.year, edition.instance)
    hashes = {"oscars_org": oscars_page.sha256, "imdb": imdb_page.sha256}
    return enhance_oscars_ceremony(parsed, imdb, page_hashes=hashes)


@asset(
    key=ENHANCED,
    group_name=GROUP,
    partitions_def=oscars_partitions,
    backfill_policy=RANGE_POLICY,
    ins={"oscars_org_pages": AssetIn(OSCARS_ORG_PAGE), "imdb_pages": AssetIn(IMDB_PAGE)},
    kinds={"python"},
    io_manager_key="parsed_ceremonies_io_manager",
    metadata={FESTIVAL_METADATA: SLUG},
    check_specs=[
        AssetCheckSpec(name, asset=ENHANCED, description=description, blocking=name not in NON_BLOCKING_CHECKS)
        for name, description in CEREMONY_CHECKS
    ],
    description=(
        "The ceremony parsed from oscars.org and enhanced with IMDb title/name ids. A page that does not "
        "parse, or a ceremony that fails a blocking check, fails its year and is never written."
    ),
)
def enhanced_ceremony(
    context: AssetExecutionContext, config: EnhanceConfig, festival_db: FestivalDatabase,
    oscars_org_pages: dict[int, dict[int, ArchivedPage]], imdb_pages: dict[int, dict[int, ArchivedPage]],
) -> Iterator:
    results: RangeResults[ParsedYear] = RangeResults(context, festival_db, SLUG, "parsing")
    per_year: dict[str, list[rules.RuleOutcome]] = {}
    prov = provenance(context)
    for year in partition_years(context):
        try:
            record = enhance_year(year, oscars_org_pages[year][1], imdb_pages[year][1])
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

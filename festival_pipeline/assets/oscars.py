"""The Academy Awards: oscars.org ceremony page + IMDb edition page → the unified tables.

Lineage: oscars_org_ceremony_page, imdb_edition_page → enhanced_ceremony →
festival_ceremonies / festival_categories / festival_nominations (one transaction per
partition). Every asset handles a range of years, so a backfill runs as one run.
"""

from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Config,
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
from festival_pipeline.assets.reporting import ceremony_preview, range_summary
from festival_pipeline.assets.tables import build_table_assets
from festival_pipeline.checks import rules
from festival_pipeline.database import archive, snapshots
from festival_pipeline.database.organizations import organization_id
from festival_pipeline.enhance.oscars import enhance_oscars_ceremony, imdb_edition_for_ceremony
from festival_pipeline.model import CeremonyRecord
from festival_pipeline.parsers import PageParseError, parse_imdb_edition_page, parse_oscars_ceremony_page
from festival_pipeline.partitions import oscars_partitions, partition_years
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


class SourcePageConfig(Config):
    """`reparse: true` takes the pages from the raw archive and fetches nothing."""

    reparse: bool = False


class EnhanceConfig(Config):
    """The share of oscars.org nominations that must match an IMDb nomination."""

    match_rate_floor: float = 0.98


@asset(
    key=OSCARS_ORG_PAGE,
    group_name=GROUP,
    partitions_def=oscars_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    pool="oscars.org",
    kinds={"html"},
    description="The oscars.org ceremony page of the year (raw HTML, archived in PostgreSQL).",
)
def oscars_org_ceremony_page(
    context: AssetExecutionContext, config: SourcePageConfig, festival_db: FestivalDatabase, sites: SourceWebsites
) -> MaterializeResult:
    pages: list[page_store.StoredPage] = []
    failures: dict[int, str] = {}
    for year in partition_years(context):
        try:
            with festival_db.transaction() as cursor:
                stored = page_store.page(sites.fetcher("oscars"), cursor, sites.oscars_ceremony_url(year),
                                         reparse=config.reparse)
                link_page(cursor, SLUG, year, 1, OSCARS_ORG_ROLE, stored)
            pages.append(stored)
        except Exception as exc:
            failures[year] = f"{type(exc).__name__}: {exc}"
            record_failure(festival_db, context, SLUG, year, failures[year])
    if failures:
        raise fail_for_years("fetching oscars.org pages", failures)
    return MaterializeResult(metadata=page_metadata(pages, fetched=sum(p.fetched for p in pages)))


@asset(
    key=IMDB_PAGE,
    group_name=GROUP,
    partitions_def=oscars_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    pool="imdb.com",
    kinds={"html"},
    description=(
        "The IMDb edition page of the ceremony (raw HTML, archived). Ceremony N is the N-th edition "
        "of IMDb's own edition list (historyEventEditions): 1930/1 and 1930/2 are the 2nd and 3rd."
    ),
)
def imdb_edition_page(
    context: AssetExecutionContext, config: SourcePageConfig, festival_db: FestivalDatabase, sites: SourceWebsites
) -> MaterializeResult:
    editions = EditionList(sites, festival_db, festival(SLUG).imdb_event_id, config.reparse)
    pages: list[page_store.StoredPage] = []
    failures: dict[int, str] = {}
    for year in partition_years(context):
        try:
            edition = imdb_edition_for_ceremony(editions.latest.editions, year - FIRST_CEREMONY_YEAR)
            with festival_db.transaction() as cursor:
                stored = editions.edition_page(cursor, edition.year, edition.instance)
                link_page(cursor, SLUG, year, 1, IMDB_ROLE, stored)
            pages.append(stored)
        except Exception as exc:
            failures[year] = f"{type(exc).__name__}: {exc}"
            record_failure(festival_db, context, SLUG, year, failures[year])
    if failures:
        raise fail_for_years("fetching IMDb edition pages", failures)
    metadata = page_metadata(pages, fetched=editions.fetched)
    metadata["imdb_editions_listed"] = len(editions.latest.editions)
    return MaterializeResult(metadata=metadata)


def _enhance_year(festival_db: FestivalDatabase, year: int) -> CeremonyRecord:
    with festival_db.transaction() as cursor:
        org_id = organization_id(cursor, SLUG)
        oscars_page = archive.partition_page(cursor, organization_id=org_id, year=year, edition=1, role=OSCARS_ORG_ROLE)
        imdb_page = archive.partition_page(cursor, organization_id=org_id, year=year, edition=1, role=IMDB_ROLE)
    parsed = parse_oscars_ceremony_page(oscars_page.text, oscars_page.url)
    expected = year - FIRST_CEREMONY_YEAR
    if parsed.ceremony_number != expected:
        raise PageParseError(oscars_page.url, f"the page shows ceremony {parsed.ceremony_number}, expected {expected}")
    imdb = parse_imdb_edition_page(imdb_page.text, imdb_page.url)
    hashes = {"oscars_org": oscars_page.sha256, "imdb": imdb_page.sha256}
    return enhance_oscars_ceremony(parsed, imdb, page_hashes=hashes)


@asset(
    key=ENHANCED,
    group_name=GROUP,
    partitions_def=oscars_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    deps=[OSCARS_ORG_PAGE, IMDB_PAGE],
    kinds={"python"},
    check_specs=[
        AssetCheckSpec(name, asset=ENHANCED, description=description, blocking=name not in NON_BLOCKING_CHECKS)
        for name, description in CEREMONY_CHECKS
    ],
    description=(
        "The ceremony parsed from oscars.org and enhanced with IMDb title/name ids; stored as a snapshot "
        "that the table writes read. A page that does not parse fails the run and writes nothing."
    ),
)
def enhanced_ceremony(
    context: AssetExecutionContext, config: EnhanceConfig, festival_db: FestivalDatabase
) -> MaterializeResult:
    records: dict[int, CeremonyRecord] = {}
    per_year: dict[str, list[rules.RuleOutcome]] = {}
    failures: dict[int, str] = {}
    for year in partition_years(context):
        with festival_db.transaction() as cursor:
            snapshots.delete_year(cursor, organization_id(cursor, SLUG), year)
        try:
            record = _enhance_year(festival_db, year)
            per_year[str(year)] = rules.evaluate(record, match_rate_floor=config.match_rate_floor,
                                                 require_winners=True)
            if blocked := rules.blocking_failures(per_year[str(year)]):
                record_failure(festival_db, context, SLUG, year, "check failed: " + ", ".join(o.name for o in blocked))
                continue  # never stored, so the write step cannot pick it up
            with festival_db.transaction() as cursor:
                snapshots.store_snapshot(cursor, organization_id(cursor, SLUG), record)
        except Exception as exc:
            failures[year] = describe_failure(exc)
            record_failure(festival_db, context, SLUG, year, failures[year])
            continue
        records[year] = record
    if failures:
        raise fail_for_years("parsing", failures)
    metadata = range_summary({str(year): record for year, record in records.items()})
    if len(records) == 1:
        (record,) = records.values()
        metadata["preview"] = MetadataValue.md(ceremony_preview(record))
        metadata["source_urls"] = MetadataValue.json(list(record.source_urls))
    return MaterializeResult(metadata=metadata, check_results=check_results(ENHANCED, per_year))


oscars_festival_tables = build_table_assets(
    prefix=PREFIX, slug=SLUG, label="Academy Awards", partitions_def=oscars_partitions, upstream=ENHANCED,
    group=GROUP, require_winners=True,
)

oscars_assets = [oscars_org_ceremony_page, imdb_edition_page, enhanced_ceremony, oscars_festival_tables]

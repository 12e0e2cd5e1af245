"""The Academy Awards: oscars.org ceremony page + IMDb edition page → the unified tables.

Lineage: oscars_org_ceremony_page, imdb_edition_page → enhanced_ceremony →
festival_ceremonies / festival_categories / festival_nominations (one transaction per
partition). Every asset handles a range of years, so a backfill runs as one run.
"""


from datetime import UTC, datetime

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from festival_pipeline.assets.organizations import festival_organizations
from festival_pipeline.assets.reporting import ceremony_preview, range_summary
from festival_pipeline.checks import rules
from festival_pipeline.database import archive, outcomes, snapshots
from festival_pipeline.database.ceremony_writer import write_ceremony
from festival_pipeline.database.introspection import table_schema
from festival_pipeline.database.organizations import organization_id
from festival_pipeline.enhance.oscars import enhance_oscars_ceremony, imdb_edition_for_ceremony
from festival_pipeline.parsers import PageParseError, parse_imdb_edition_page, parse_oscars_ceremony_page
from festival_pipeline.partitions import oscars_partitions, partition_years
from festival_pipeline.registry import ACADEMY_AWARDS_SLUG, festival
from festival_pipeline.resources import FestivalDatabase, SourceWebsites
from festival_pipeline.sources import page_store

GROUP = "oscars"
PREFIX = "oscars"
OSCARS_ORG_ROLE = "oscars_org"
IMDB_ROLE = "imdb"
FIRST_CEREMONY_YEAR = 1928  # oscars.org keys ceremony N by 1928 + N

OSCARS_ORG_PAGE = AssetKey([PREFIX, "oscars_org_ceremony_page"])
IMDB_PAGE = AssetKey([PREFIX, "imdb_edition_page"])
ENHANCED = AssetKey([PREFIX, "enhanced_ceremony"])
CEREMONIES = AssetKey([PREFIX, "festival_ceremonies"])
CATEGORIES = AssetKey([PREFIX, "festival_categories"])
NOMINATIONS = AssetKey([PREFIX, "festival_nominations"])

ENHANCED_CHECKS = (
    ("has_categories_and_nominations", "The ceremony has categories and nominations (blocking)."),
    ("every_category_has_a_nomination", "Every category has at least one nomination (blocking)."),
    ("every_category_has_a_winner", "Every category has a winner unless announced, not awarded (blocking)."),
    ("no_duplicate_nominations", "No nomination is listed twice."),
    ("ids_well_formed", "Every IMDb id looks like tt…/nm… (blocking)."),
    ("imdb_match_rate_above_floor", "Enough oscars.org nominations matched to IMDb (blocking)."),
)


class SourcePageConfig(Config):
    """`reparse: true` takes the pages from the raw archive and fetches nothing."""

    reparse: bool = False


class EnhanceConfig(Config):
    match_rate_floor: float = 0.98


def _fail_for_years(stage: str, failures: dict[int, str]) -> Failure:
    years = ", ".join(str(year) for year in sorted(failures))
    return Failure(
        description=f"{stage} failed for {len(failures)} year(s): {years}",
        metadata={"failed_years": MetadataValue.json({str(y): e for y, e in sorted(failures.items())})},
    )


def _record_failure(festival_db: FestivalDatabase, context: AssetExecutionContext, year: int, error: str) -> None:
    with festival_db.transaction() as cursor:
        outcomes.record_outcome(
            cursor,
            organization_id=organization_id(cursor, ACADEMY_AWARDS_SLUG),
            year=year,
            edition=1,
            status=outcomes.FAILED,
            error=error,
            run_id=context.run.run_id,
        )


def _link(cursor, year: int, role: str, stored: page_store.StoredPage) -> None:  # noqa: ANN001
    archive.link_partition_page(
        cursor,
        organization_id=organization_id(cursor, ACADEMY_AWARDS_SLUG),
        year=year,
        edition=1,
        role=role,
        url=stored.page.url,
        raw_page_id=stored.page.id,
    )


def _page_metadata(pages: dict[int, page_store.StoredPage]) -> dict[str, object]:
    fetched = sum(1 for p in pages.values() if p.fetched)
    metadata: dict[str, object] = {
        "pages": len(pages),
        "pages_fetched": fetched,
        "pages_from_archive": len(pages) - fetched,
        "bytes": sum(len(p.page.body) for p in pages.values()),
    }
    if len(pages) == 1:
        (stored,) = pages.values()
        metadata.update(
            url=MetadataValue.url(stored.page.url), sha256=stored.page.sha256, status=stored.page.status,
            fetched_at=stored.page.fetched_at.isoformat(),
        )
    return metadata


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
    pages: dict[int, page_store.StoredPage] = {}
    failures: dict[int, str] = {}
    for year in partition_years(context):
        url = sites.oscars_ceremony_url(year)
        try:
            with festival_db.transaction() as cursor:
                pages[year] = page_store.page(sites.http(), cursor, url, reparse=config.reparse)
                _link(cursor, year, OSCARS_ORG_ROLE, pages[year])
        except Exception as exc:  # noqa: BLE001 - every failure is reported by year below
            failures[year] = f"{type(exc).__name__}: {exc}"
            _record_failure(festival_db, context, year, failures[year])
    if failures:
        raise _fail_for_years("fetching oscars.org pages", failures)
    return MaterializeResult(metadata=_page_metadata(pages))


def _imdb_edition_list(sites: SourceWebsites, festival_db: FestivalDatabase, reparse: bool):  # noqa: ANN202
    """The Academy Awards' edition list from IMDb's own page, and that page (the latest edition)."""
    event_url = sites.imdb_event_url(festival(ACADEMY_AWARDS_SLUG).imdb_event_id)
    with festival_db.transaction() as cursor:
        stored = page_store.page(sites.http(), cursor, event_url, reparse=reparse)
    latest = parse_imdb_edition_page(stored.page.text, stored.page.url)
    return latest, stored


@asset(
    key=IMDB_PAGE,
    group_name=GROUP,
    partitions_def=oscars_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    pool="imdb.com",
    kinds={"html"},
    description=(
        "The IMDb edition page of the ceremony (raw HTML, archived). The ceremony's IMDb year and "
        "instance come from IMDb's own edition list (historyEventEditions)."
    ),
)
def imdb_edition_page(
    context: AssetExecutionContext, config: SourcePageConfig, festival_db: FestivalDatabase, sites: SourceWebsites
) -> MaterializeResult:
    event_id = festival(ACADEMY_AWARDS_SLUG).imdb_event_id
    latest, latest_stored = _imdb_edition_list(sites, festival_db, config.reparse)
    latest_url = sites.imdb_edition_url(event_id, latest.year, latest.instance)
    pages: dict[int, page_store.StoredPage] = {}
    failures: dict[int, str] = {}
    for year in partition_years(context):
        try:
            edition = imdb_edition_for_ceremony(latest.editions, year - FIRST_CEREMONY_YEAR)
            url = sites.imdb_edition_url(event_id, edition.year, edition.instance)
            with festival_db.transaction() as cursor:
                # the event page already is the latest edition: do not fetch it twice
                pages[year] = (
                    latest_stored if url == latest_url
                    else page_store.page(sites.http(), cursor, url, reparse=config.reparse)
                )
                _link(cursor, year, IMDB_ROLE, pages[year])
        except Exception as exc:  # noqa: BLE001 - every failure is reported by year below
            failures[year] = f"{type(exc).__name__}: {exc}"
            _record_failure(festival_db, context, year, failures[year])
    if failures:
        raise _fail_for_years("fetching IMDb edition pages", failures)
    metadata = _page_metadata(pages)
    metadata["pages_fetched"] = int(metadata["pages_fetched"]) + (0 if config.reparse else 1) - (
        1 if any(p is latest_stored for p in pages.values()) else 0
    )
    metadata["imdb_editions_listed"] = len(latest.editions)
    return MaterializeResult(metadata=metadata)


def _enhance_year(festival_db: FestivalDatabase, year: int):  # noqa: ANN202
    with festival_db.transaction() as cursor:
        org_id = organization_id(cursor, ACADEMY_AWARDS_SLUG)
        oscars_page = archive.partition_page(cursor, organization_id=org_id, year=year, edition=1, role=OSCARS_ORG_ROLE)
        imdb_page = archive.partition_page(cursor, organization_id=org_id, year=year, edition=1, role=IMDB_ROLE)
    parsed = parse_oscars_ceremony_page(oscars_page.text, oscars_page.url)
    expected_number = year - FIRST_CEREMONY_YEAR
    if parsed.ceremony_number != expected_number:
        raise PageParseError(
            oscars_page.url, f"the page shows ceremony {parsed.ceremony_number}, expected {expected_number}"
        )
    imdb = parse_imdb_edition_page(imdb_page.text, imdb_page.url)
    return enhance_oscars_ceremony(
        parsed, imdb, page_hashes={"oscars_org": oscars_page.sha256, "imdb": imdb_page.sha256}
    )


def _check_results(per_year: dict[int, list[rules.RuleOutcome]]) -> list[AssetCheckResult]:
    """One result per rule over the run's years; the failing years are named in metadata."""
    results = []
    for name, _ in ENHANCED_CHECKS:
        failing = {year: o for year, outs in per_year.items() for o in outs if o.name == name and not o.passed}
        blocking = any(o.blocking for o in failing.values())
        metadata: dict[str, object] = {"years_checked": len(per_year), "years_failing": sorted(failing)}
        if len(per_year) == 1:
            (outs,) = per_year.values()
            metadata.update({k: MetadataValue.json(v) if isinstance(v, list | dict) else v
                             for o in outs if o.name == name for k, v in o.metadata.items() if v is not None})
        if failing:
            metadata["failures"] = MetadataValue.json({str(y): o.metadata for y, o in sorted(failing.items())})
        results.append(
            AssetCheckResult(
                check_name=name,
                passed=not failing,
                severity=AssetCheckSeverity.ERROR if blocking or not failing else AssetCheckSeverity.WARN,
                metadata=metadata,
            )
        )
    return results


@asset(
    key=ENHANCED,
    group_name=GROUP,
    partitions_def=oscars_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    deps=[OSCARS_ORG_PAGE, IMDB_PAGE],
    kinds={"python"},
    check_specs=[
        AssetCheckSpec(name, asset=ENHANCED, description=description,
                       blocking=name not in ("no_duplicate_nominations",))
        for name, description in ENHANCED_CHECKS
    ],
    description=(
        "The ceremony parsed from oscars.org and enhanced with IMDb title/name ids; stored as a "
        "snapshot that the table writes read. Parse errors fail loudly and write nothing."
    ),
)
def enhanced_ceremony(
    context: AssetExecutionContext, config: EnhanceConfig, festival_db: FestivalDatabase
) -> MaterializeResult:
    records = {}
    per_year: dict[int, list[rules.RuleOutcome]] = {}
    failures: dict[int, str] = {}
    for year in partition_years(context):
        try:
            record = _enhance_year(festival_db, year)
        except (PageParseError, archive.PageNotArchived) as exc:
            failures[year] = str(exc)
            _record_failure(festival_db, context, year, failures[year])
            continue
        per_year[year] = rules.evaluate(record, match_rate_floor=config.match_rate_floor, require_winners=True)
        if rules.blocking_failures(per_year[year]):
            bad = ", ".join(o.name for o in rules.blocking_failures(per_year[year]))
            _record_failure(festival_db, context, year, f"check failed: {bad}")
            continue  # never stored, so the write step cannot pick it up
        records[year] = record
        with festival_db.transaction() as cursor:
            snapshots.store_snapshot(cursor, organization_id(cursor, ACADEMY_AWARDS_SLUG), record)
    if failures:
        raise _fail_for_years("parsing", failures)
    metadata = range_summary(records)
    if len(records) == 1:
        (record,) = records.values()
        metadata["preview"] = MetadataValue.md(ceremony_preview(record))
        metadata["source_urls"] = MetadataValue.json(list(record.source_urls))
    return MaterializeResult(metadata=metadata, check_results=_check_results(per_year))


TABLE_CHECKS = (
    ("rows_written_equal_rows_parsed", NOMINATIONS, "Nomination rows in the table equal the nominations parsed."),
    ("no_duplicate_nomination_rows", NOMINATIONS, "No two nomination rows share category, films and nominees."),
    ("ceremony_row_per_partition", CEREMONIES, "Each partition has exactly one ceremony row."),
    ("categories_used", CATEGORIES, "Every category of the ceremony has a nomination row."),
)


@multi_asset(
    specs=[
        AssetSpec(CEREMONIES, deps=[ENHANCED, festival_organizations], group_name=GROUP, kinds={"postgres"},
                  description="Academy Awards rows of festival_ceremonies (one per ceremony)."),
        AssetSpec(CATEGORIES, deps=[ENHANCED, festival_organizations], group_name=GROUP, kinds={"postgres"},
                  description="Academy Awards rows of festival_categories."),
        AssetSpec(NOMINATIONS, deps=[ENHANCED, festival_organizations], group_name=GROUP, kinds={"postgres"},
                  description="Academy Awards rows of festival_nominations."),
    ],
    check_specs=[AssetCheckSpec(name, asset=key, description=d) for name, key, d in TABLE_CHECKS],
    partitions_def=oscars_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    name="oscars_festival_tables",
)
def oscars_festival_tables(context: AssetExecutionContext, festival_db: FestivalDatabase):  # noqa: ANN201
    """Write each year in one transaction; verify the rows before committing it."""
    written = {}
    records = {}
    for year in partition_years(context):
        with festival_db.transaction() as cursor:
            org_id = organization_id(cursor, ACADEMY_AWARDS_SLUG)
            record = snapshots.load_snapshot(cursor, org_id, year, 1)
            blocking = rules.blocking_failures(rules.evaluate(record, match_rate_floor=0.0, require_winners=True))
            if blocking:
                raise Failure(f"{year}: refusing to write a ceremony that fails {blocking[0].name}")
            result = write_ceremony(cursor, record, scraped_at=datetime.now(UTC))
            if result.nominations != len(record.nominations):  # rolls the partition back
                raise Failure(f"{year}: wrote {result.nominations} nominations, parsed {len(record.nominations)}")
            outcomes.record_outcome(
                cursor, organization_id=org_id, year=year, edition=1,
                status=outcomes.ANNOUNCED_NOT_AWARDED if record.announced_not_awarded else outcomes.COMPLETE,
                details={"nominations": result.nominations, "categories": result.categories,
                         "winners": sum(n.won for n in record.nominations), **record.match_stats},
                run_id=context.run.run_id,
            )
            written[year], records[year] = result, record
    yield from _table_results(festival_db, written, records)


def _table_results(festival_db: FestivalDatabase, written: dict, records: dict):  # noqa: ANN001, ANN202
    ceremony_ids = [result.ceremony_id for result in written.values()]
    with festival_db.transaction() as cursor:
        cursor.execute(
            """SELECT count(*), count(DISTINCT (ceremony_id, category_id, film_imdb_ids, nominee_names, film_title,
                                                details->>'song'))
               FROM festival_nominations WHERE ceremony_id = ANY(%s)""",
            (ceremony_ids,),
        )
        nomination_rows, distinct_rows = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM festival_ceremonies WHERE id = ANY(%s)", (ceremony_ids,))
        (ceremony_rows,) = cursor.fetchone()
        cursor.execute(
            """SELECT count(DISTINCT category_id) FROM festival_nominations WHERE ceremony_id = ANY(%s)""",
            (ceremony_ids,),
        )
        (categories_used,) = cursor.fetchone()
        schemas = {t: table_schema(cursor, t) for t in ("festival_ceremonies", "festival_categories",
                                                         "festival_nominations")}
    parsed = sum(len(r.nominations) for r in records.values())
    categories_parsed = sum(len({n.category_key for n in r.nominations}) for r in records.values())
    changes = {
        "inserted": sum(w.inserted for w in written.values()),
        "updated": sum(w.updated for w in written.values()),
        "deleted": sum(w.deleted for w in written.values()),
    }
    yield MaterializeResult(
        asset_key=CEREMONIES,
        metadata={"dagster/row_count": ceremony_rows, "dagster/table_name": "festival_ceremonies",
                  "dagster/column_schema": schemas["festival_ceremonies"], "years": sorted(written)},
        check_results=[AssetCheckResult(asset_key=CEREMONIES, check_name="ceremony_row_per_partition", passed=ceremony_rows == len(written),
                                        metadata={"ceremony_rows": ceremony_rows, "partitions": len(written)})],
    )
    yield MaterializeResult(
        asset_key=CATEGORIES,
        metadata={"dagster/row_count": categories_used, "dagster/table_name": "festival_categories",
                  "dagster/column_schema": schemas["festival_categories"]},
        check_results=[AssetCheckResult(asset_key=CATEGORIES, check_name="categories_used",
                                        passed=sum(w.categories for w in written.values()) >= categories_parsed,
                                        metadata={"categories_with_nominations": categories_used})],
    )
    preview = ceremony_preview(next(iter(records.values()))) if len(records) == 1 else None
    yield MaterializeResult(
        asset_key=NOMINATIONS,
        metadata={
            "dagster/row_count": nomination_rows,
            "dagster/table_name": "festival_nominations",
            "dagster/column_schema": schemas["festival_nominations"],
            "rows_parsed": parsed,
            "winners": sum(n.won for r in records.values() for n in r.nominations),
            **changes,
            **({"preview": MetadataValue.md(preview)} if preview else {}),
        },
        check_results=[
            AssetCheckResult(asset_key=NOMINATIONS, check_name="rows_written_equal_rows_parsed", passed=nomination_rows == parsed,
                             metadata={"rows_written": nomination_rows, "rows_parsed": parsed}),
            AssetCheckResult(asset_key=NOMINATIONS, check_name="no_duplicate_nomination_rows", passed=distinct_rows == nomination_rows,
                             metadata={"rows": nomination_rows, "distinct": distinct_rows}),
        ],
    )


oscars_assets = [oscars_org_ceremony_page, imdb_edition_page, enhanced_ceremony, oscars_festival_tables]

"""Glue shared by every festival's assets: failures by year, page links, check results."""

from dagster import AssetCheckResult, AssetCheckSeverity, AssetExecutionContext, AssetKey, Failure, MetadataValue
from psycopg2.extensions import cursor as Cursor

from festival_pipeline.checks import rules
from festival_pipeline.database import archive, outcomes
from festival_pipeline.database.organizations import organization_id
from festival_pipeline.parsers import ImdbEditionPage, PageParseError, parse_imdb_edition_page
from festival_pipeline.resources import FestivalDatabase, SourceWebsites
from festival_pipeline.sources import page_store

# the checks every parsed ceremony gets, before anything is written
CEREMONY_CHECKS = (
    ("has_categories_and_nominations", "The ceremony has categories and nominations, or the source lists "
     "no awards for the edition at all (recorded as nothing to import)."),
    ("every_category_has_a_nomination", "Every category has at least one nomination."),
    ("every_category_has_a_winner", "Every category has a winner unless the ceremony is announced, not "
     "awarded. Oscars only: festivals may list a selection without a winner."),
    ("no_duplicate_nominations", "No nomination is listed twice."),
    ("ids_well_formed", "Every IMDb id looks like tt…/nm…."),
    ("imdb_match_rate_above_floor", "Enough oscars.org nominations matched to IMDb (Oscars only)."),
    ("sites_agree_on_categories", "oscars.org and IMDb list the same competitive categories, so a page "
     "that lost categories is not completed from the other site (Oscars only)."),
)
NON_BLOCKING_CHECKS = frozenset({"no_duplicate_nominations"})


def fail_for_years(stage: str, failures: dict[int, str]) -> Failure:
    """One loud failure naming every year that failed, raised after the others were processed."""
    years = ", ".join(str(year) for year in sorted(failures))
    first = failures[min(failures)]
    return Failure(
        description=f"{stage} failed for {len(failures)} year(s): {years}. First error: {first}",
        metadata={"failed_years": MetadataValue.json({str(y): e for y, e in sorted(failures.items())})},
    )


def describe_failure(exc: Exception) -> str:
    """One line for import_outcomes: parse errors already name the URL; others get their type."""
    if isinstance(exc, PageParseError | archive.PageNotArchived):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def record_failure(
    festival_db: FestivalDatabase, context: AssetExecutionContext, slug: str, year: int, error: str, edition: int = 1
) -> None:
    with festival_db.transaction() as cursor:
        outcomes.record_outcome(
            cursor, organization_id=organization_id(cursor, slug), year=year, edition=edition,
            status=outcomes.FAILED, error=error, run_id=context.run.run_id,
        )


def link_page(cursor: Cursor, slug: str, year: int, edition: int, role: str, stored: page_store.StoredPage) -> None:
    archive.link_partition_page(
        cursor, organization_id=organization_id(cursor, slug), year=year, edition=edition, role=role,
        url=stored.page.url, raw_page_id=stored.page.id,
    )


def page_metadata(pages: list[page_store.StoredPage], fetched: int) -> dict[str, object]:
    metadata: dict[str, object] = {
        "pages": len(pages),
        "pages_fetched": fetched,
        "pages_from_archive": sum(1 for p in pages if not p.fetched),
        "bytes": sum(len(p.page.body) for p in pages),
    }
    if len(pages) == 1:
        (stored,) = pages
        metadata.update(url=MetadataValue.url(stored.page.url), sha256=stored.page.sha256,
                        status=stored.page.status, fetched_at=stored.page.fetched_at.isoformat())
    return metadata


class EditionList:
    """An IMDb event's edition list, read once per step from the event page (the latest edition)."""

    def __init__(self, sites: SourceWebsites, festival_db: FestivalDatabase, event_id: str, reparse: bool) -> None:
        self.sites, self.event_id, self.reparse = sites, event_id, reparse
        with festival_db.transaction() as cursor:
            url = sites.imdb_event_url(event_id)
            self.stored = page_store.page(sites.fetcher("imdb"), cursor, url, reparse=reparse)
        self.latest: ImdbEditionPage = parse_imdb_edition_page(self.stored.page.text, self.stored.page.url)
        self.latest_url = sites.imdb_edition_url(event_id, self.latest.year, self.latest.instance)
        self.fetched = 1 if self.stored.fetched else 0

    def edition_page(self, cursor: Cursor, year: int, instance: int) -> page_store.StoredPage:
        """The edition's page; the latest edition is the event page itself, never fetched twice."""
        url = self.sites.imdb_edition_url(self.event_id, year, instance)
        if url == self.latest_url:
            return self.stored
        stored = page_store.page(self.sites.fetcher("imdb"), cursor, url, reparse=self.reparse)
        self.fetched += 1 if stored.fetched else 0
        return stored


def check_results(asset_key: AssetKey, per_partition: dict[str, list[rules.RuleOutcome]]) -> list[AssetCheckResult]:
    """One result per rule over the run's partitions; failing partitions are named in metadata."""
    results = []
    for name, _ in CEREMONY_CHECKS:
        failing = {p: o for p, outs in per_partition.items() for o in outs if o.name == name and not o.passed}
        metadata: dict[str, object] = {"partitions_checked": len(per_partition),
                                       "partitions_failing": sorted(failing)}
        if len(per_partition) == 1:
            (outs,) = per_partition.values()
            for outcome in (o for o in outs if o.name == name):
                for key, value in outcome.metadata.items():
                    if value is not None:
                        metadata[key] = MetadataValue.json(value) if isinstance(value, list | dict) else value
        if failing:
            metadata["failures"] = MetadataValue.json({p: o.metadata for p, o in sorted(failing.items())})
        blocking = any(o.blocking for o in failing.values())
        results.append(AssetCheckResult(
            asset_key=asset_key, check_name=name, passed=not failing, metadata=metadata,
            severity=AssetCheckSeverity.ERROR if blocking or not failing else AssetCheckSeverity.WARN,
        ))
    return results

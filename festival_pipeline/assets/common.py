"""Glue shared by every festival's assets: the years of a step, their failures, the page store and
the IMDb reader of a step, page metadata, check results."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Generic, TypeVar

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    DagsterError,
    Failure,
    MetadataValue,
    Output,
)

from festival_pipeline.checks import rules
from festival_pipeline.database import outcomes, partition_pages, snapshots
from festival_pipeline.database.archive import ArchivedPage, FetchContext
from festival_pipeline.database.organizations import organization_id
from festival_pipeline.database.partition_pages import YearPages
from festival_pipeline.model import ParsedYear, Provenance
from festival_pipeline.parsers import ImdbEditionPage, PageParseError
from festival_pipeline.partitions import partition_years
from festival_pipeline.resources import FestivalDatabase, SourceWebsites
from festival_pipeline.sources.imdb_editions import ImdbEventReader, Served
from festival_pipeline.sources.page_store import PageStore
from festival_pipeline.tags import BACKFILL_TAG, ROOT_BACKFILL_TAG

DIRECT_INVOCATION = "direct-invocation"


def run_of(context: AssetExecutionContext) -> tuple[str, Mapping[str, str]]:
    """The run's id and tags; an asset body invoked directly (tests) has no run."""
    try:
        run = context.run
    except DagsterError:  # DagsterInvalidPropertyError, not exported
        return DIRECT_INVOCATION, {}
    return run.run_id, run.tags


def provenance(context: AssetExecutionContext) -> Provenance:
    """This run, and the backfill it belongs to (followed back through re-executions)."""
    run_id, tags = run_of(context)
    return Provenance(run_id, tags.get(ROOT_BACKFILL_TAG) or tags.get(BACKFILL_TAG))


def fetch_context(context: AssetExecutionContext) -> FetchContext:
    run_id, tags = run_of(context)
    return FetchContext(run_id=run_id, backfill_id=tags.get(BACKFILL_TAG))


def describe_failure(exc: Exception) -> str:
    """One line for import_outcomes: parse errors already name the URL; others get their type."""
    if isinstance(exc, PageParseError | LookupError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


V = TypeVar("V")


class RangeResults(Generic[V]):
    """The years of one ranged step: the value of each good year, the error of each failed one.

    A year that fails is recorded as failed (import_outcomes, with the error) and the others go on.
    At the end, when some failed, the good years are stored and reported materialized one by one
    (`store_and_report`) and the step fails naming the failed years (`failure`): Dagster then shows
    exactly those years failed — a ranged step's output would otherwise materialize its whole range —
    and the steps after this one do not run in this run; "re-execute failed" (which the backfill
    command does by itself) carries the good years on.
    """

    def __init__(self, context: AssetExecutionContext, festival_db: FestivalDatabase, slug: str, stage: str) -> None:
        self.context, self.festival_db, self.slug, self.stage = context, festival_db, slug, stage
        self.values: dict[int, V] = {}
        self._metadata: dict[int, tuple[dict[str, object], dict[AssetKey, Mapping[str, object]]]] = {}
        self.failures: dict[int, str] = {}

    def ok(self, year: int, value: V, metadata: Mapping[str, object] | None = None,
           per_asset: Mapping[AssetKey, Mapping[str, object]] | None = None) -> None:
        """A good year, with its materialization metadata (the same for every asset of the step,
        or `per_asset`)."""
        self.values[year] = value
        self._metadata[year] = (dict(metadata or {}), dict(per_asset or {}))

    def metadata(self, year: int, asset_key: AssetKey) -> dict[str, object]:
        common, per_asset = self._metadata[year]
        return dict(per_asset.get(asset_key, common))

    def fail(self, year: int, error: str) -> None:
        self.failures[year] = error
        with self.festival_db.transaction() as cursor:
            outcomes.record_year_failure(cursor, organization_id=organization_id(cursor, self.slug), year=year,
                                         error=error, run_id=run_of(self.context)[0])

    def fail_all(self, years: Iterable[int], error: str) -> None:
        for year in years:
            self.fail(year, error)

    def add_partition_metadata(self, asset_keys: Iterable[AssetKey]) -> None:
        """Per-year metadata on each year's materialization (when no year failed)."""
        if run_of(self.context)[0] == DIRECT_INVOCATION:
            return  # an asset body invoked directly materializes nothing to attach metadata to
        for asset_key in asset_keys:
            for year in self.values:
                self.context.add_asset_metadata(self.metadata(year, asset_key), asset_key=asset_key,
                                                partition_key=str(year))

    def store_and_report(self, asset_keys: Iterable[AssetKey],
                         store: Callable[[dict[int, V], dict[int, str]], None]) -> Iterator[AssetMaterialization]:
        """When some years failed: store the good years' values and the failures (`store`), and
        report each good year materialized on its own (the step then fails, see `failure`)."""
        store(self.values, self.failures)
        for asset_key in asset_keys:
            for year in sorted(self.values):
                yield AssetMaterialization(asset_key=asset_key, partition=str(year),
                                           metadata=self.metadata(year, asset_key))

    def failure(self) -> Failure:
        return fail_for_years(self.stage, self.failures)

    def finish(self, asset_key: AssetKey, store: Callable[[dict[int, V], dict[int, str]], None],
               checks: Iterable[AssetCheckResult] = ()) -> Iterator[Output | AssetMaterialization | AssetCheckResult]:
        """The end of a single-asset step: its value for every year (the IO manager stores it), or,
        when some years failed, the good years stored and reported, then the failure."""
        if self.failures:
            yield from self.store_and_report([asset_key], store)
            yield from checks
            raise self.failure()
        self.add_partition_metadata([asset_key])
        yield Output(self.values)
        yield from checks


def fail_for_years(stage: str, failures: dict[int, str]) -> Failure:
    """One loud failure naming every year that failed, raised after the others were processed."""
    years = ", ".join(str(year) for year in sorted(failures))
    first = failures[min(failures)]
    return Failure(
        description=f"{stage} failed for {len(failures)} year(s): {years}. First error: {first}",
        metadata={"failed_years": MetadataValue.json({str(y): e for y, e in sorted(failures.items())})},
    )


def page_metadata(editions: Mapping[int, Served], fetched: int) -> dict[str, object]:
    """A year's archived pages (or API answers) as materialization metadata: URL, hash, status, when,
    which source served each edition and why, how many requests this step made for them."""
    documents = [page for served in editions.values() for page in served.pages]
    metadata: dict[str, object] = {"editions": len(editions), "pages": len(documents), "pages_fetched": fetched,
                                   "bytes": sum(len(page.body_zlib) for page in documents)}
    if len(documents) == 1:
        (page,) = documents
        metadata.update(url=MetadataValue.url(page.url), sha256=page.sha256, status=page.status,
                        fetched_at=page.fetched_at.isoformat(), fetcher=page.fetcher or "unknown")
    elif documents:
        metadata["urls"] = MetadataValue.json([page.url for _, served in sorted(editions.items())
                                               for page in served.pages])
    sources = {edition: served.describe() for edition, served in editions.items()}
    if len(set(sources.values())) == 1:
        metadata["source"] = next(iter(sources.values()))
    elif sources:
        metadata["source"] = MetadataValue.json({str(e): s for e, s in sorted(sources.items())})
    return metadata


class PageFetch:
    """One page asset's step over its years: each year's editions fetched and archived as served, a
    failed year recorded without stopping the others, then the step's outcome (`finish`)."""

    def __init__(self, context: AssetExecutionContext, festival_db: FestivalDatabase, slug: str, role: str,
                 stage: str) -> None:
        self.context, self.festival_db, self.slug, self.role = context, festival_db, slug, role
        self.results: RangeResults[YearPages] = RangeResults(context, festival_db, slug, stage)
        self.years, self.provenance = partition_years(context), provenance(context)
        self.store = PageStore(festival_db.transaction, fetch_context(context))

    def imdb_reader(self, sites: SourceWebsites, event_id: str) -> ImdbEventReader | None:
        """The IMDb event's reader (its edition list read now), or None with every year failed: without
        the list no year can be mapped to its editions."""
        try:
            return ImdbEventReader(
                event_id, source=sites.fetcher_settings().graphql.source, api=sites.imdb_api(),
                pages=lambda: sites.fetcher_for("imdb"), urls=sites.imdb_urls(), store=self.store,
                warn=self.context.log.warning)
        except Exception as exc:
            self.results.fail_all(self.years, f"the IMDb edition list could not be read: {describe_failure(exc)}")
            return None

    def each_year(self, editions_of: Callable[[int], Mapping[int, Served]]) -> None:
        """Fetch every year's editions (`editions_of(year)`: edition → what served it)."""
        for year in self.years:
            before = self.store.fetched
            try:
                editions = editions_of(year)
            except Exception as exc:
                self.results.fail(year, describe_failure(exc))
                continue
            pages = {edition: served.pages for edition, served in editions.items()}
            self.results.ok(year, YearPages(year, pages, self.provenance),
                            page_metadata(editions, self.store.fetched - before))

    def finish(self) -> Iterator:
        yield from self.results.finish(self.context.asset_key, store_pages(self.festival_db, self.slug, self.role,
                                                                           self.provenance))


def ceremony_check_specs(asset_key: AssetKey) -> list[AssetCheckSpec]:
    """The parse asset's checks: one per rule of `rules.CEREMONY_RULES`, blocking as the rule says."""
    return [AssetCheckSpec(rule.name, asset=asset_key, description=rule.description, blocking=rule.blocking)
            for rule in rules.CEREMONY_RULES]


def check_results(asset_key: AssetKey, per_edition: dict[str, list[rules.RuleOutcome]]) -> list[AssetCheckResult]:
    """One result per rule over the run's editions; failing editions are named in metadata."""
    results = []
    for name in (rule.name for rule in rules.CEREMONY_RULES):
        failing = {p: o for p, outs in per_edition.items() for o in outs if o.name == name and not o.passed}
        metadata: dict[str, object] = {"editions_checked": len(per_edition),
                                       "editions_failing": MetadataValue.json(sorted(failing))}
        if len(per_edition) == 1:
            (outs,) = per_edition.values()
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


def page_hashes(role: str, documents: Sequence[ArchivedPage]) -> dict[str, str]:
    """The hashes a record was built from, keyed as `status` compares them with the archive: the role
    for the first page, `role/part` for each API answer after it."""
    return {role if part == 0 else f"{role}/{part}": page.sha256 for part, page in enumerate(documents)}


def check_edition_identity(page: ImdbEditionPage, year: int, instance: int) -> None:
    """The IMDb page is the edition its URL names (a site that serves another year's edition under
    this URL must fail, not write that edition as this year's)."""
    if (page.year, page.instance) != (year, instance):
        raise PageParseError(page.url, f"the page shows edition {page.year}/{page.instance}, "
                                       f"expected {year}/{instance}")


def store_pages(festival_db: FestivalDatabase, slug: str, role: str, prov: Provenance) -> Callable[
        [dict[int, YearPages], dict[int, str]], None]:
    """The page IO manager's storage, for the years of a step that partly failed."""
    def store(good: dict[int, YearPages], failed: dict[int, str]) -> None:
        with festival_db.transaction() as cursor:
            org_id = organization_id(cursor, slug)
            for year_pages in good.values():
                partition_pages.store_year(cursor, organization_id=org_id, year_pages=year_pages, role=role)
            for year, error in failed.items():
                partition_pages.store_failure(cursor, organization_id=org_id, year=year, role=role, error=error,
                                              provenance=prov)
    return store


def store_parses(festival_db: FestivalDatabase, slug: str, prov: Provenance) -> Callable[
        [dict[int, ParsedYear], dict[int, str]], None]:
    """The parsed-ceremony IO manager's storage, for the years of a step that partly failed."""
    def store(good: dict[int, ParsedYear], failed: dict[int, str]) -> None:
        with festival_db.transaction() as cursor:
            org_id = organization_id(cursor, slug)
            for parsed in good.values():
                snapshots.store_year(cursor, org_id, parsed)
            for year, error in failed.items():
                snapshots.store_failure(cursor, org_id, year, error, prov)
    return store

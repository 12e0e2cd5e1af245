"""`festival-pipeline backfill`: a Dagster asset backfill of festival years, launched and followed
from the command line.

The command submits the backfill through the webserver's GraphQL API (as the UI's "Materialize →
backfill" does), so it is under Overview → Backfills with per-partition status, can be cancelled and
re-executed there. The daemon launches its runs — one ranged run per festival, queued, at most four
at once, the per-site pools allowing two fetching steps per site at a time (the next festival's run
starts fetching while the last one finishes; one festival's run parses and writes while the next
ones fetch), every request at the site's one pace. When `festival-pipeline dev` is not running, the command starts
what must run — a code server, a webserver and a daemon — for its own duration.

While it runs it shows the years done and failed, pages fetched and rows written (from the festival
database), and what it waits for. A year that fails does not stop the other years of its run from
landing: when the backfill leaves failed partitions, the command re-executes them once ("re-execute
failed"), which carries the good years of a failed run on and retries the failed ones alone.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from dagster import DagsterInstance, DagsterRun, RunsFilter
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from festival_pipeline.database import connection, outcomes, status_queries
from festival_pipeline.executor import HOST_TAG, PID_STARTED_TAG, PID_TAG, machine_id, process_tags
from festival_pipeline.groups import PAGE_KIND, festival_group
from festival_pipeline.operations import FestivalYears, festival_label
from festival_pipeline.operations.dagster_api import (
    AssetNode,
    AssetPartitions,
    BackfillState,
    DagsterApi,
    DagsterApiError,
)
from festival_pipeline.operations.status import StatusRow, festival_status
from festival_pipeline.operations.waiting import describe_wait
from festival_pipeline.registry import Festival
from festival_pipeline.runtime.dead_runs import (
    PARTITION_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    end_dead_runs,
    process_alive,
    record_outcomes,
)
from festival_pipeline.runtime.instance_home import DagsterEnvironment
from festival_pipeline.runtime.services import DagsterStack
from festival_pipeline.tags import ACCEPT_SHRINK_TAG, BACKFILL_TAG

POLL_SECONDS = 1.0
WAIT_REPORT_SECONDS = 2.0
FINALIZE_TIMEOUT_SECONDS = 30.0
# the daemon that closes a finished backfill: ours is restarted (a fresh one looks at once); another
# one (`festival-pipeline dev`'s, a deployment's) looks every 30 s, fixed in Dagster
OTHER_DAEMON_SECONDS = 30.0
# the one bookkeeping tag: the command that launched a backfill, "<host/boot id> <pid> <start time>"
# (its runs inherit the backfill's tags, so not the executor's run tags)
LAUNCHED_BY_TAG = "festival_pipeline/launched_by"


def launched_by_tag() -> dict[str, str]:
    tags = process_tags()
    return {LAUNCHED_BY_TAG: f"{tags[HOST_TAG]} {tags[PID_TAG]} {tags[PID_STARTED_TAG]}"}


def launcher(tags: dict[str, str]) -> tuple[str, int, float] | None:
    """(host, pid, start time) of the command that launched a backfill with these tags, if one did."""
    parts = tags.get(LAUNCHED_BY_TAG, "").rsplit(" ", 2)
    try:
        return parts[0], int(parts[1]), float(parts[2])
    except (IndexError, ValueError):
        return None


TITLE_LIMIT = 100  # Dagster refuses longer backfill titles


def backfill_title(targets: list[FestivalYears], from_archive: bool = False) -> str:
    """`oscars 1929–2026`, `cannes 2020–2024`, or `14 festivals 1929–2026` (Dagster's limit is 100 characters)."""
    years = [int(key) for target in targets for key in target.keys]
    what = festival_label(targets[0].festival) if len(targets) == 1 else f"{len(targets)} festivals"
    span = f"{min(years)}" if min(years) == max(years) else f"{min(years)}–{max(years)}"
    title = f"festival-pipeline backfill {what} {span}" + (" from the archived pages" if from_archive else "")
    return title[:TITLE_LIMIT]


def contiguous_ranges(keys: list[str], all_keys: list[str]) -> list[tuple[str, str]]:
    """`keys` as ranges of contiguous partitions (in `all_keys` order): 1990,1995-1999 → two ranges."""
    position = {key: index for index, key in enumerate(all_keys)}
    ranges: list[list[str]] = []
    for key in sorted(keys, key=position.__getitem__):
        if ranges and position[key] == position[ranges[-1][1]] + 1:
            ranges[-1][1] = key
        else:
            ranges.append([key, key])
    return [(start, end) for start, end in ranges]


def festival_asset_keys(nodes: list[AssetNode], festival: Festival,
                        from_archive: bool = False) -> list[tuple[str, ...]]:
    """Every asset of the festival's group (all partitioned by the festival's years); `from_archive`
    leaves out the page assets, so the parse and the tables are rebuilt from the pages already archived."""
    group = festival_group(festival)
    return sorted(node.key for node in nodes
                  if node.group == group and not (from_archive and PAGE_KIND in node.kinds))


def backfill_partitions(nodes: list[AssetNode], targets: list[FestivalYears],
                        from_archive: bool = False) -> list[AssetPartitions]:
    return [
        AssetPartitions(key, contiguous_ranges(target.keys, target.all_keys))
        for target in targets for key in festival_asset_keys(nodes, target.festival, from_archive)
    ]


@dataclass
class FestivalResult:
    festival: Festival
    keys: list[str]
    rows: list[StatusRow] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # year → why

    @property
    def label(self) -> str:
        return festival_label(self.festival)


@dataclass
class BackfillReport:
    backfill_ids: list[str]
    results: list[FestivalResult]
    final_status: str

    @property
    def failed(self) -> list[str]:
        return [f"{r.label} {year}: {error}" for r in self.results for year, error in sorted(r.failed.items())]


class Backfill:
    """One backfill command: launch, follow (with progress and what it waits for), isolate, report."""

    def __init__(self, environment: DagsterEnvironment, stack: DagsterStack, targets: list[FestivalYears],
                 console: Console) -> None:
        self.environment, self.stack, self.targets, self.console = environment, stack, targets, console
        self.api = DagsterApi(stack.url)
        self.instance = DagsterInstance.from_config(str(environment.dagster_home))
        self.database_url = environment.festival_url
        self.started_at = self._now()
        self.total_years = sum(len(t.keys) for t in targets)

    def close(self) -> None:
        self.instance.dispose()

    # --- the steps -------------------------------------------------------------------
    def clear_dead_work(self) -> None:
        """Before anything waits on them: end this machine's runs whose process died (their pool slots
        freed now), and cancel backfills an earlier command launched, died before they started a run."""
        ended = end_dead_runs(self.instance)
        record_outcomes(lambda: connection.transaction(self.database_url), ended)
        for dead in ended:
            self.api.free_slots_for_run(dead.run_id)
            self.console.print(f"ended run {dead.run_id[:8]} of {dead.job_name}: {dead.reason}", soft_wrap=True)
        for backfill_id, tags in self.api.requested_backfills().items():
            launched_by = launcher(tags)
            if launched_by is None or launched_by[0] != machine_id():
                continue
            if process_alive(launched_by[1], launched_by[2]) or self._runs(backfill_id):
                continue  # its command still follows it, or its runs carry it (the daemon will close it)
            self.api.cancel_backfill(backfill_id)
            self.console.print(f"canceled backfill {backfill_id}: the command that launched it died before "
                               "any of its runs started", soft_wrap=True)

    def launch(self, accept_shrink: bool, from_archive: bool) -> str:
        self.clear_dead_work()
        tags = launched_by_tag()
        if accept_shrink:
            tags[ACCEPT_SHRINK_TAG] = "true"
        title = backfill_title(self.targets, from_archive)
        partitions = backfill_partitions(self.api.asset_nodes(), self.targets, from_archive)
        backfill_id = self.api.launch_backfill(partitions, tags=tags, title=title)
        self.stack.start_daemon()
        self.console.print(f"backfill [bold]{backfill_id}[/bold] launched ({self.total_years} festival-year(s)); "
                           f"Dagster UI: {self.stack.url}/runs/b/{backfill_id}", soft_wrap=True)
        return backfill_id

    def follow(self, backfill_id: str, targets: list[FestivalYears] | None) -> BackfillState:
        """Until every run of the backfill has ended (and, for the first backfill, its runs cover every
        targeted year), or Dagster has closed the backfill."""
        last_wait_report = 0.0
        wait_text = Text("")
        with self._progress() as (progress, live, task):
            while True:
                state = self.api.backfill(backfill_id)
                runs = self._runs(backfill_id)
                self._update(progress, task)
                if time.monotonic() - last_wait_report >= WAIT_REPORT_SECONDS:
                    last_wait_report = time.monotonic()
                    wait_text.plain = describe_wait(self.api, self.instance, state, runs, self.stack.owns_daemon)
                    live.update(Group(progress, wait_text))
                if state.final or (runs and all(run.is_finished for run in runs)
                                   and (targets is None or covers(runs, targets))):
                    wait_text.plain = ""  # the wait is over (and rich ends a piped Live without a newline)
                    live.update(Group(progress, wait_text))
                    return state
                time.sleep(POLL_SECONDS)

    def finalize(self, backfill_id: str) -> BackfillState:
        """Until the daemon has closed the backfill (the UI shows it completed, not started): ours is
        restarted, so it looks at once; another daemon is waited for (it looks every 30 s)."""
        state = self.api.backfill(backfill_id)
        if state.final:
            return state
        if not self.stack.owns_daemon:
            self.console.print(f"every run has ended; waiting for the daemon to close backfill {backfill_id} "
                               "(it looks every 30 s)", soft_wrap=True)
        self.stack.restart_daemon()
        deadline = time.monotonic() + FINALIZE_TIMEOUT_SECONDS + (0 if self.stack.owns_daemon else OTHER_DAEMON_SECONDS)
        while not state.final and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            state = self.api.backfill(backfill_id)
        return state

    def reexecute_failed(self, backfill_id: str) -> str:
        new_id = self.api.reexecute_failed(backfill_id)
        self.console.print(f"re-executing the failed partitions of {backfill_id} as backfill [bold]{new_id}[/bold] "
                           "(the good years of a failed run land, the failed years are retried alone)", soft_wrap=True)
        self.stack.restart_daemon()
        return new_id

    def results(self) -> list[FestivalResult]:
        results = []
        for target in self.targets:
            result = FestivalResult(target.festival, target.keys)
            result.failed = self._failures(target.festival, target.keys)
            result.rows = festival_status(self.database_url, target.festival, [int(k) for k in target.keys])
            results.append(result)
        return results

    def collateral_years(self) -> int:
        """Years that neither landed nor failed: their run failed on another year before reaching
        them (a ranged run's later steps do not run when an earlier step fails)."""
        count = 0
        with connection.transaction(self.database_url) as cursor:
            for target in self.targets:
                fresh = status_queries.fresh_outcomes(cursor, target.festival.slug, [int(k) for k in target.keys],
                                                      self.started_at)
                count += sum(1 for k in target.keys if int(k) not in fresh)
        return count

    # --- helpers ---------------------------------------------------------------------
    def _runs(self, backfill_id: str) -> list[DagsterRun]:
        return list(self.instance.get_runs(filters=RunsFilter(tags={BACKFILL_TAG: backfill_id})))

    def _failures(self, festival: Festival, keys: list[str]) -> dict[str, str]:
        """Years without a fresh outcome, or with a failed one, and why."""
        years = [int(k) for k in keys]
        with connection.transaction(self.database_url) as cursor:
            fresh = status_queries.fresh_outcomes(cursor, festival.slug, years, self.started_at)
        failing = [k for k in keys if int(k) not in fresh or outcomes.FAILED in fresh[int(k)]]
        if not failing:
            return {}
        errors = {row.year: row.error for row in festival_status(self.database_url, festival, [int(k) for k in failing])
                  if row.status == outcomes.FAILED and row.error}
        return {key: errors.get(int(key), "no run recorded an outcome for this year (see the backfill's runs)")
                for key in failing}

    def _update(self, progress: Progress, task: int) -> None:
        done = failed = pages = rows = 0
        with connection.transaction(self.database_url) as cursor:
            for target in self.targets:
                p = status_queries.progress_since(cursor, target.festival.slug, [int(k) for k in target.keys],
                                                  self.started_at)
                done, failed, rows = done + p.years_done, failed + p.years_failed, rows + p.rows_written
                pages = p.pages_fetched  # all sites, since the start
        progress.update(task, completed=min(self.total_years, done + failed), failed=failed, pages=pages, rows=rows)

    @contextmanager
    def _progress(self) -> Iterator[tuple[Progress, Live, int]]:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("years"),
                   TextColumn("[red]{task.fields[failed]} failed[/red] · {task.fields[pages]} pages · "
                              "{task.fields[rows]} rows"), TimeElapsedColumn())
        progress = Progress(*columns, console=self.console)
        task = progress.add_task("backfill", total=self.total_years, failed=0, pages=0, rows=0)
        with Live(Group(progress, Text("")), console=self.console, refresh_per_second=4) as live:
            yield progress, live, task

    def _now(self) -> datetime:
        with connection.transaction(self.database_url) as cursor:
            return status_queries.database_now(cursor)


def run_backfill(environment: DagsterEnvironment, stack: DagsterStack, targets: list[FestivalYears],
                 console: Console, *, accept_shrink: bool = False, from_archive: bool = False) -> BackfillReport:
    """Launch the backfill, follow it to the end (re-executing failed partitions once), and report."""
    with stack:
        stack.wait_ready()
        backfill = Backfill(environment, stack, targets, console)
        ids: list[str] = []
        try:
            ids.append(backfill.launch(accept_shrink, from_archive))
            backfill.follow(ids[0], targets)
            if backfill.collateral_years():
                backfill.finalize(ids[0])  # Dagster re-executes closed backfills only
                ids.append(backfill.reexecute_failed(ids[0]))
                backfill.follow(ids[-1], None)
            state = backfill.finalize(ids[-1])
            results = backfill.results()
        except KeyboardInterrupt:
            if ids:  # stopped by the user: the backfill stops too, not only this command
                with contextlib.suppress(DagsterApiError):
                    backfill.api.cancel_backfill(ids[-1])
                console.print(f"canceled backfill {ids[-1]}")
            raise
        finally:
            backfill.close()
    report = BackfillReport(ids, results, state.status)
    for result in results:
        console.print(summary_table(result))
    return report


def covers(runs: list[DagsterRun], targets: list[FestivalYears]) -> bool:
    """Whether the runs' partition ranges cover every targeted year of every festival (the daemon has
    launched every run of the backfill)."""
    by_group = {festival_group(t.festival): t for t in targets}
    covered: dict[str, set[str]] = {group: set() for group in by_group}
    for run in runs:
        groups = {key.path[0] for key in run.asset_selection or ()}
        for group in groups & set(by_group):
            target = by_group[group]
            covered[group] |= set(_run_keys(run, target.all_keys))
    return all(set(t.keys) <= covered[group] for group, t in by_group.items())


def _run_keys(run: DagsterRun, all_keys: list[str]) -> list[str]:
    tags = run.tags
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        start, end = all_keys.index(tags[RANGE_START_TAG]), all_keys.index(tags[RANGE_END_TAG])
        return all_keys[start:end + 1]
    return [tags[PARTITION_TAG]] if PARTITION_TAG in tags else []


def summary_table(result: FestivalResult) -> Table:
    """Per year: editions, nominations, winners, categories, match rate, status."""
    table = Table(title=f"{result.label}: {len(result.keys)} year(s)")
    for name in ("year", "editions", "nominations", "winners", "categories", "match rate", "status"):
        table.add_column(name, justify="left" if name == "status" else "right")
    by_year: dict[int, list[StatusRow]] = {}
    for row in result.rows:
        by_year.setdefault(row.year, []).append(row)
    for year, rows in sorted(by_year.items()):
        written = [r for r in rows if r.rows_written is not None]
        rates = [r.nomination_match_rate for r in rows if r.nomination_match_rate is not None]
        statuses = sorted({r.status for r in rows})
        status = "[bold red]failed[/bold red]" if str(year) in result.failed else ", ".join(statuses)
        table.add_row(str(year), str(len(written)), str(sum(r.rows_written or 0 for r in written)),
                      str(sum(r.winners or 0 for r in written)), str(sum(r.categories or 0 for r in written)),
                      f"{min(rates):.1%}" if rates else "", status)
    return table

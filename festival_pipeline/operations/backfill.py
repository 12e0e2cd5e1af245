"""`festival-pipeline backfill`: materialize years of a festival through the Dagster instance.

Each chunk of contiguous years is one ranged run of the festival's asset job, executed by
`dagster job execute` in a subprocess (the job's multiprocess executor, so oscars.org and
IMDb are fetched in parallel) and recorded in the instance, so the UI shows the runs and
the partitions. While a run works, the festival database is polled for progress. When a
chunk's run fails, every year it left without an outcome (a failing year stops the steps
after it for the whole range) is rerun alone, so good years still land; the years that
failed are named with their error.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from dagster import DagsterInstance, RunsFilter
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from festival_pipeline import dagster_env
from festival_pipeline.database import connection, outcomes, status_queries
from festival_pipeline.jobs import job_name
from festival_pipeline.operations import (
    SelectionError,
    festival_label,
    parse_years,
    partition_keys,
    resolve_festivals,
)
from festival_pipeline.operations.status import StatusRow, festival_status
from festival_pipeline.registry import Festival

MAX_CHUNK_YEARS = 25
POLL_SECONDS = 1.0
DEFINITIONS_MODULE = "festival_pipeline.definitions"
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"
BACKFILL_TAG = "festival_pipeline/backfill"
LAUNCH_TAG = "festival_pipeline/launch"  # finds the run a subprocess created


class BackfillTarget(NamedTuple):
    festival: Festival
    keys: list[str]  # the selected partitions
    all_keys: list[str]  # every partition of the festival (chunks are contiguous in it)


def plan(target: str, years: str | None) -> list[BackfillTarget]:
    """The festivals and partitions `backfill TARGET [--years …]` covers.

    For one festival, years outside its partitions are an error; for `all`, each festival
    takes the years it has.
    """
    festivals = resolve_festivals(target)
    wanted = set(parse_years(years)) if years else None
    targets = []
    for festival in festivals:
        keys = partition_keys(festival)
        selected = keys if wanted is None else [key for key in keys if int(key) in wanted]
        outside = sorted(wanted - {int(key) for key in keys}) if wanted else []
        if outside and len(festivals) == 1:
            shown = ", ".join(str(year) for year in outside[:10]) + (" …" if len(outside) > 10 else "")
            raise SelectionError(f"{target} has partitions {keys[0]}-{keys[-1]}; outside them: {shown}")
        if selected:
            targets.append(BackfillTarget(festival, selected, keys))
    if not targets:
        raise SelectionError("no festival has a partition in these years")
    return targets


def chunk_keys(keys: list[str], all_keys: list[str], max_size: int = MAX_CHUNK_YEARS) -> list[list[str]]:
    """Split `keys` into runs of contiguous partitions (in `all_keys` order), at most `max_size` each.

    A ranged run covers every partition between its ends, so a gap in the selection
    (1990,1995-1999) starts a new chunk; long stretches are cut into chunks of equal size.
    """
    position = {key: index for index, key in enumerate(all_keys)}
    stretches: list[list[str]] = []
    for key in sorted(keys, key=position.__getitem__):
        if stretches and position[key] == position[stretches[-1][-1]] + 1:
            stretches[-1].append(key)
        else:
            stretches.append([key])
    chunks: list[list[str]] = []
    for stretch in stretches:
        count = math.ceil(len(stretch) / max_size)
        size, longer = divmod(len(stretch), count)  # the first `longer` chunks get one key more
        start = 0
        for index in range(count):
            end = start + size + (1 if index < longer else 0)
            chunks.append(stretch[start:end])
            start = end
    return chunks


def partition_tags(keys: list[str]) -> dict[str, str]:
    """The run tags selecting `keys`: one partition, or a range for a single ranged run."""
    if len(keys) == 1:
        return {PARTITION_TAG: keys[0]}
    return {RANGE_START: keys[0], RANGE_END: keys[-1]}


def job_execute_command(festival: Festival, tags: dict[str, str]) -> list[str]:
    return [sys.executable, "-m", "dagster", "job", "execute", "-m", DEFINITIONS_MODULE,
            "-j", job_name(festival), "--tags", json.dumps(tags)]


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def span(keys: list[str]) -> str:
    return keys[0] if len(keys) == 1 else f"{keys[0]}–{keys[-1]}"


@dataclass
class RunAttempt:
    keys: list[str]
    launch_id: str
    log_path: Path
    started_at: datetime  # the database's clock, to compare with what the run writes
    run_id: str | None = None
    run_status: str = "NOT_FOUND"
    seconds: float = 0.0

    @property
    def succeeded(self) -> bool:
        return self.run_status == "SUCCESS"


@dataclass
class FestivalResult:
    festival: Festival
    keys: list[str]
    attempts: list[RunAttempt] = field(default_factory=list)
    rows: list[StatusRow] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # year → why

    @property
    def label(self) -> str:
        return festival_label(self.festival)


class Backfill:
    """Runs the chunks of one or more festivals and collects what landed."""

    def __init__(self, env: dict[str, str], database_url: str, console: Console,
                 max_chunk_years: int = MAX_CHUNK_YEARS) -> None:
        self.env, self.database_url, self.console = env, database_url, console
        self.max_chunk_years = max_chunk_years
        self.backfill_id = datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self.log_dir = Path(env["FESTIVAL_PIPELINE_HOME"]) / "logs" / "backfill" / self.backfill_id
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._instance: DagsterInstance | None = None

    # --- one festival -----------------------------------------------------------------
    def run_festival(self, festival: Festival, keys: list[str], all_keys: list[str]) -> FestivalResult:
        result = FestivalResult(festival, keys)
        started = self._now()
        chunks = chunk_keys(keys, all_keys, self.max_chunk_years)
        self.console.print(f"[bold]{result.label}[/bold]: {len(keys)} year(s) in {len(chunks)} run(s) of "
                           f"{job_name(festival)}; logs in {self.log_dir}", soft_wrap=True)
        with self._progress() as progress:
            for chunk in chunks:
                attempt = self._run(festival, chunk, progress)
                result.attempts.append(attempt)
                pending = self._unrecorded(festival, chunk, since=attempt.started_at)
                if len(chunk) > 1 and pending:
                    progress.console.print(f"  {span(chunk)} failed: running its {len(pending)} unfinished "
                                           "year(s) one by one to isolate the failing ones")
                    for key in pending:
                        result.attempts.append(self._run(festival, [key], progress))
        result.failed = self._failures(festival, keys, started)
        result.rows = festival_status(self.database_url, festival, [int(k) for k in keys])
        return result

    def _unrecorded(self, festival: Festival, keys: list[str], since: datetime) -> list[str]:
        """Years the run left without any outcome: the run stopped before reaching them.

        Years it recorded as failed are isolated already; rerunning them would fail again.
        """
        with connection.transaction(self.database_url) as cursor:
            fresh = status_queries.fresh_outcomes(cursor, festival.slug, [int(k) for k in keys], since)
        return [k for k in keys if int(k) not in fresh]

    def _not_landed(self, festival: Festival, keys: list[str], since: datetime) -> list[str]:
        """Years without a fresh outcome, or with a failed one."""
        with connection.transaction(self.database_url) as cursor:
            fresh = status_queries.fresh_outcomes(cursor, festival.slug, [int(k) for k in keys], since)
        return [k for k in keys if int(k) not in fresh or outcomes.FAILED in fresh[int(k)]]

    def _failures(self, festival: Festival, keys: list[str], since: datetime) -> dict[str, str]:
        failing = self._not_landed(festival, keys, since)
        if not failing:
            return {}
        errors = {row.year: row.error for row in festival_status(self.database_url, festival, [int(k) for k in failing])
                  if row.status == outcomes.FAILED and row.error}
        return {key: errors.get(int(key), "the run recorded no outcome (see its log)") for key in failing}

    # --- one run --------------------------------------------------------------------
    def _run(self, festival: Festival, keys: list[str], progress: Progress) -> RunAttempt:
        label = festival_label(festival)
        attempt = RunAttempt(keys, uuid.uuid4().hex, self.log_dir / f"{label}-{keys[0]}-{keys[-1]}.log", self._now())
        tags = {**partition_tags(keys), BACKFILL_TAG: self.backfill_id, LAUNCH_TAG: attempt.launch_id}
        task = progress.add_task(f"{label} {span(keys)}", total=len(keys), failed=0, pages=0, rows=0)
        begun = time.monotonic()
        with attempt.log_path.open("a", encoding="utf-8") as log:
            # from DAGSTER_HOME, as `festival-pipeline dev`: no stray dagster.yaml in the working directory
            process = subprocess.Popen(job_execute_command(festival, tags), env=self.env, cwd=self.env["DAGSTER_HOME"],
                                       stdout=log, stderr=subprocess.STDOUT)
            try:
                while process.poll() is None:
                    self._update(progress, task, festival, keys, attempt.started_at)
                    time.sleep(POLL_SECONDS)
            finally:
                if process.poll() is None:  # interrupted: stop the run we started
                    _stop(process)
        self._update(progress, task, festival, keys, attempt.started_at)
        attempt.seconds = time.monotonic() - begun
        attempt.run_id, attempt.run_status = self._run_status(attempt.launch_id)
        self._report_attempt(progress.console, festival, attempt)
        return attempt

    def _update(self, progress: Progress, task: TaskID, festival: Festival, keys: list[str], since: datetime) -> None:
        with connection.transaction(self.database_url) as cursor:
            done = status_queries.progress_since(cursor, festival.slug, [int(k) for k in keys], since)
        progress.update(task, completed=min(len(keys), done.years_done + done.years_failed),
                        failed=done.years_failed, pages=done.pages_fetched, rows=done.rows_written)

    def _report_attempt(self, console: Console, festival: Festival, attempt: RunAttempt) -> None:
        what = f"{festival_label(festival)} {span(attempt.keys)}"
        run = f"run {attempt.run_id}" if attempt.run_id else "no run recorded"
        colour = "green" if attempt.succeeded else "red"
        console.print(f"  [{colour}]{attempt.run_status.lower()}[/{colour}] {what}: {run} "
                      f"({attempt.seconds:.0f}s)" + ("" if attempt.succeeded else f", log {attempt.log_path}"),
                      soft_wrap=True)

    # --- helpers --------------------------------------------------------------------
    def _now(self) -> datetime:
        with connection.transaction(self.database_url) as cursor:
            return status_queries.database_now(cursor)

    def _run_status(self, launch_id: str) -> tuple[str | None, str]:
        if self._instance is None:
            dagster_env.apply(self.env)  # dagster.yaml reads the instance's database URL from the environment
            self._instance = DagsterInstance.from_config(self.env["DAGSTER_HOME"])
        runs = self._instance.get_runs(filters=RunsFilter(tags={LAUNCH_TAG: launch_id}), limit=1)
        return (runs[0].run_id, runs[0].status.value) if runs else (None, "NOT_FOUND")

    @contextmanager
    def _progress(self) -> Iterator[Progress]:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("years"),
                   TextColumn("[red]{task.fields[failed]} failed[/red] · {task.fields[pages]} pages · "
                              "{task.fields[rows]} rows"), TimeElapsedColumn())
        with Progress(*columns, console=self.console) as progress:
            yield progress

    def close(self) -> None:
        if self._instance is not None:
            self._instance.dispose()
            self._instance: DagsterInstance | None = None


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
        failed = str(year) in result.failed
        status = "[bold red]failed[/bold red]" if failed else ", ".join(statuses)
        table.add_row(str(year), str(len(written)), str(sum(r.rows_written or 0 for r in written)),
                      str(sum(r.winners or 0 for r in written)), str(sum(r.categories or 0 for r in written)),
                      f"{min(rates):.1%}" if rates else "", status)
    return table


def run_backfill(env: dict[str, str], database_url: str, targets: list[BackfillTarget],
                 console: Console) -> list[FestivalResult]:
    """Backfill each (festival, selected keys, all keys) in turn; print a summary per festival."""
    backfill = Backfill(env, database_url, console)
    results: list[FestivalResult] = []
    try:
        for festival, keys, all_keys in targets:
            result = backfill.run_festival(festival, keys, all_keys)
            console.print(summary_table(result))
            results.append(result)
    finally:
        backfill.close()
    return results

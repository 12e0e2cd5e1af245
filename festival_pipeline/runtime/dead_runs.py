"""Runs whose worker process died, found on this machine and ended, so they never wedge the next run.

A run killed outright (kill -9, a laptop that died, the OOM killer) stays STARTED for Dagster's
default run launcher, which cannot check a worker's health, and keeps its `oscars.org` / `imdb.com`
pool slot: the next run of that site would wait forever. Every run records its worker process
(`festival_pipeline.executor`); a run recorded on THIS machine whose process is gone is dead, not
slow, and is reported failed ("its process died") — the run monitoring daemon then frees its pool
slots (`free_slots_after_run_end_seconds`). Runs recorded on another machine, or not recorded yet,
are never ended from here on a guess (Dagster's own start timeout covers a run that never started).

Used by `festival-pipeline backfill` before it launches anything, and by the `end_dead_runs` sensor
(festival_pipeline/sensors.py) while a daemon runs (`festival-pipeline dev`). The run's years are
then `failed` with the reason in `festival-pipeline status`: the command records them itself
(`record_outcomes`); under a daemon the `failed_runs_in_status` run-failure sensor does.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psutil
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter
from psycopg2.extensions import cursor as Cursor

from festival_pipeline.database import outcomes
from festival_pipeline.database.organizations import organization_id
from festival_pipeline.executor import HOST_TAG, PID_STARTED_TAG, PID_TAG, machine_id
from festival_pipeline.groups import asset_prefix, job_name
from festival_pipeline.registry import FESTIVALS
from festival_pipeline.tags import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG

UNFINISHED = [DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.CANCELING]


@dataclass(frozen=True)
class DeadRun:
    run_id: str
    job_name: str
    reason: str
    created_at: datetime  # when the run was created: outcomes other runs recorded since then stay
    years: dict[str, list[int]] = field(default_factory=dict)  # festival slug -> the run's years


def run_years(run: DagsterRun) -> dict[str, list[int]]:
    """The festivals (by slug) and years a run materializes, from its assets (or job) and partition tags."""
    tags = run.tags
    if PARTITION_TAG in tags:
        years = [int(tags[PARTITION_TAG])]
    elif RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        years = list(range(int(tags[RANGE_START_TAG]), int(tags[RANGE_END_TAG]) + 1))
    else:
        return {}
    prefixes = {key.path[0] for key in run.asset_selection or ()}
    return {festival.slug: years for festival in FESTIVALS
            if asset_prefix(festival) in prefixes or job_name(festival) == run.job_name}


def process_alive(pid: int, started: float) -> bool:
    """The process with this id exists and is the one that was recorded (ids are reused)."""
    try:
        process = psutil.Process(pid)
        return abs(process.create_time() - started) < 1.0 and process.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def dead_runs(instance: DagsterInstance) -> list[tuple[DagsterRun, DeadRun]]:
    """Unfinished runs recorded on this machine whose worker process is gone."""
    found = []
    for record in instance.get_run_records(filters=RunsFilter(statuses=UNFINISHED)):
        run = record.dagster_run
        tags = run.tags
        if tags.get(HOST_TAG) != machine_id() or PID_TAG not in tags:
            continue  # another machine, or not recorded yet: not ours to judge
        pid, started = int(tags[PID_TAG]), float(tags.get(PID_STARTED_TAG, "0"))
        if process_alive(pid, started):
            continue
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        reason = (f"its process died: worker {pid} on {machine_id().split('/')[0]} is gone "
                  f"(found at {when}); the run was ended so its pool slots are freed")
        found.append((run, DeadRun(run.run_id, run.job_name, reason, record.create_timestamp, run_years(run))))
    return found


def end_dead_runs(instance: DagsterInstance) -> list[DeadRun]:
    """Report every dead run of this machine failed, with the reason; returns them."""
    ended = []
    for run, dead in dead_runs(instance):
        instance.report_run_failed(run, dead.reason)
        ended.append(dead)
    return ended


def record_outcomes(transaction: Callable[[], AbstractContextManager[Cursor]], ended: list[DeadRun]) -> None:
    """Each ended run's years are `failed` with its reason in `festival-pipeline status`."""
    for dead in ended:
        record_run_failure(transaction, dead.run_id, dead.years, dead.reason, dead.created_at)


def record_run_failure(transaction: Callable[[], AbstractContextManager[Cursor]], run_id: str,
                       years: dict[str, list[int]], reason: str, created_at: datetime) -> None:
    """A run that failed as a whole (its process died, it was ended): its years are `failed` with the
    reason — except those it had already written (their outcome is its own) and those another run
    recorded after it was created (`created_at`: a rerun that landed first); the rows stay those of
    the last good run."""
    with transaction() as cursor:
        for slug, festival_years in years.items():
            outcomes.record_dead_run(cursor, organization_id=organization_id(cursor, slug), years=festival_years,
                                     error=reason, run_id=run_id, since=created_at)

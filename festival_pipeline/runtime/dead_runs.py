"""Runs whose worker process died, found on this machine and ended, so they never wedge the next run.

A run killed outright (kill -9, a laptop that died, the OOM killer) stays STARTED for Dagster's
default run launcher, which cannot check a worker's health, and keeps its `oscars.org` / `imdb.com`
pool slot: the next run of that site would wait forever. Every run records its worker process
(`festival_pipeline.executor`); a run recorded on THIS machine whose process is gone is dead, not
slow, and is reported failed ("its process died") — the run monitoring daemon then frees its pool
slots (`free_slots_after_run_end_seconds`). Runs recorded on another machine, or not recorded yet,
are never ended from here on a guess (Dagster's own start timeout covers a run that never started).

Used by `festival-pipeline backfill` before it launches anything, and by the `end_dead_runs` sensor
(festival_pipeline/sensors.py) while a daemon runs (`festival-pipeline dev`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import psutil
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter

from festival_pipeline.executor import HOST_TAG, PID_STARTED_TAG, PID_TAG, machine_id

UNFINISHED = [DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.CANCELING]


@dataclass(frozen=True)
class DeadRun:
    run_id: str
    job_name: str
    pid: int
    reason: str


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
    for run in instance.get_runs(filters=RunsFilter(statuses=UNFINISHED)):
        tags = run.tags
        if tags.get(HOST_TAG) != machine_id() or PID_TAG not in tags:
            continue  # another machine, or not recorded yet: not ours to judge
        pid, started = int(tags[PID_TAG]), float(tags.get(PID_STARTED_TAG, "0"))
        if process_alive(pid, started):
            continue
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        reason = (f"its process died: worker {pid} on {machine_id().split('/')[0]} is gone "
                  f"(found at {when}); the run was ended so its pool slots are freed")
        found.append((run, DeadRun(run.run_id, run.job_name, pid, reason)))
    return found


def end_dead_runs(instance: DagsterInstance) -> list[DeadRun]:
    """Report every dead run of this machine failed, with the reason; returns them."""
    ended = []
    for run, dead in dead_runs(instance):
        instance.report_run_failed(run, dead.reason)
        ended.append(dead)
    return ended

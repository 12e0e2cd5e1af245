"""What a backfill waits for, in one line: the daemon, the run queue, a site's pool slot."""

from __future__ import annotations

from datetime import datetime

from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter

from festival_pipeline.operations.dagster_api import BackfillState, DagsterApi, DagsterApiError

QUEUED = {DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED}
ACTIVE = {DagsterRunStatus.STARTING, DagsterRunStatus.STARTED}


def describe_wait(api: DagsterApi, instance: DagsterInstance, state: BackfillState, runs: list[DagsterRun],
                  own_daemon: bool) -> str:
    if state.final:
        return ""
    if not runs:
        cadence = "" if own_daemon else " (a running daemon looks at new backfills every 30 s)"
        return f"waiting for the daemon to launch the backfill's runs{cadence}"
    if all(run.is_finished for run in runs):
        return "every run has ended; waiting for the daemon to close the backfill"
    parts = []
    queued = [run for run in runs if run.status in QUEUED]
    if queued:
        parts.append(f"{len(queued)} run(s) waiting in the run queue (the instance runs at most "
                     f"{_max_runs(instance)} at once)")
    active_ids = {run.run_id for run in runs if run.status in ACTIVE}
    parts.extend(_pool_waits(api, instance, active_ids))
    if not parts:
        parts.append(f"{len(active_ids)} run(s) working")
    return "; ".join(parts)


def _max_runs(instance: DagsterInstance) -> str:
    queue = instance.get_concurrency_config().run_queue_config
    limit = queue.max_concurrent_runs if queue is not None else None
    return str(limit) if limit is not None and limit >= 0 else "an unlimited number of runs"


def _pool_waits(api: DagsterApi, instance: DagsterInstance, our_runs: set[str]) -> list[str]:
    """'waiting for the imdb.com slot held by run 1a2b3c4d (started 12:01)' for each pool one of our
    runs waits on."""
    try:
        pools = api.pools()
    except DagsterApiError:
        return []
    waits = []
    for pool, info in sorted(pools.items()):
        if not any(run_id in our_runs for run_id, _ in info.pending):
            continue
        holders = sorted({run_id for run_id, _ in info.claimed})
        if not holders:
            waits.append(f"waiting for a {pool} slot")
            continue
        started = _start_times(instance, holders)
        described = ", ".join(f"run {run_id[:8]}" + (f" (started {started[run_id]})" if run_id in started else "")
                              for run_id in holders)
        waits.append(f"waiting for the {pool} slot held by {described}")
    return waits


def _start_times(instance: DagsterInstance, run_ids: list[str]) -> dict[str, str]:
    records = instance.get_run_records(filters=RunsFilter(run_ids=run_ids))
    return {record.dagster_run.run_id: datetime.fromtimestamp(record.start_time).strftime("%H:%M")
            for record in records if record.start_time}

"""Sensors: the dead-run sweep every 30 s while a daemon runs, and failed runs in the status."""

from __future__ import annotations

from dagster import (
    DefaultSensorStatus,
    RunFailureSensorContext,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from festival_pipeline.resources import FestivalDatabase
from festival_pipeline.runtime.dead_runs import end_dead_runs, record_run_failure, run_years

CHECK_INTERVAL_SECONDS = 30


@sensor(name="end_dead_runs", minimum_interval_seconds=CHECK_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING,
        description="Ends runs of this machine whose worker process died (kill -9, OOM, a crash), so they do "
                    "not keep their pool slots; runs on other machines are left alone.")
def end_dead_runs_sensor(context: SensorEvaluationContext) -> SkipReason:
    ended = end_dead_runs(context.instance)  # their years are recorded by failed_runs_in_status
    if not ended:
        return SkipReason("no dead run")
    return SkipReason("ended " + ", ".join(f"{dead.run_id[:8]} ({dead.job_name})" for dead in ended))


@run_failure_sensor(name="failed_runs_in_status", default_status=DefaultSensorStatus.RUNNING,
                    minimum_interval_seconds=CHECK_INTERVAL_SECONDS,
                    description="A run that failed as a whole — its worker died and Dagster's run monitoring "
                                "ended it — shows its years failed, with the reason, in festival-pipeline status.")
def failed_runs_in_status(context: RunFailureSensorContext, festival_db: FestivalDatabase) -> None:
    if context.get_step_failure_events():
        return  # a failed step records its own years (with the page or check that failed)
    years = run_years(context.dagster_run)
    if years:
        run_id = context.dagster_run.run_id
        record = context.instance.get_run_record_by_id(run_id)
        if record is not None:
            record_run_failure(festival_db.transaction, run_id, years,
                               context.failure_event.message or "the run failed", record.create_timestamp)

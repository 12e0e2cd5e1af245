"""Sensors: the dead-run sweep, every 30 s while a daemon runs."""

from __future__ import annotations

from dagster import DefaultSensorStatus, SensorEvaluationContext, SkipReason, sensor

from festival_pipeline.runtime.dead_runs import end_dead_runs

CHECK_INTERVAL_SECONDS = 30


@sensor(name="end_dead_runs", minimum_interval_seconds=CHECK_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING,
        description="Ends runs of this machine whose worker process died (kill -9, OOM, a crash), so they do "
                    "not keep their pool slots; runs on other machines are left alone.")
def end_dead_runs_sensor(context: SensorEvaluationContext) -> SkipReason:
    ended = end_dead_runs(context.instance)
    if not ended:
        return SkipReason("no dead run")
    return SkipReason("ended " + ", ".join(f"{dead.run_id[:8]} ({dead.job_name})" for dead in ended))

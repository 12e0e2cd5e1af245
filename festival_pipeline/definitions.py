"""The one Definitions object of the code location."""

from __future__ import annotations

from dagster import Definitions

from festival_pipeline import settings
from festival_pipeline.assets.festivals import festival_assets
from festival_pipeline.assets.organizations import festival_organizations
from festival_pipeline.assets.oscars import oscars_assets
from festival_pipeline.assets.profiles import profile_assets
from festival_pipeline.executor import step_executor
from festival_pipeline.jobs import all_jobs
from festival_pipeline.schedules import all_schedules
from festival_pipeline.sensors import end_dead_runs_sensor, failed_runs_in_status

defs = Definitions(
    assets=[festival_organizations, *oscars_assets, *festival_assets, *profile_assets],
    resources=settings.resources(),
    jobs=all_jobs,
    executor=step_executor,
    schedules=all_schedules,
    sensors=[end_dead_runs_sensor, failed_runs_in_status],
)

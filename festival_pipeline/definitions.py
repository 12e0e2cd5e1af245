"""The one Definitions object of the code location, and its resources, configured from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import Definitions, EnvVar

from festival_pipeline import settings
from festival_pipeline.assets.festivals import festival_assets
from festival_pipeline.assets.organizations import festival_organizations
from festival_pipeline.assets.oscars import oscars_assets
from festival_pipeline.assets.profiles import profile_assets
from festival_pipeline.executor import step_executor
from festival_pipeline.io_managers import (
    FestivalTablesIOManager,
    ParsedCeremoniesIOManager,
    ProfilesIOManager,
    RawPagesIOManager,
)
from festival_pipeline.jobs import all_jobs
from festival_pipeline.resources import FestivalDatabase, SourceWebsites
from festival_pipeline.schedules import all_schedules
from festival_pipeline.sensors import end_dead_runs_sensor, failed_runs_in_status


def code_location_resources(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The resources of the code location, configured from the environment (`settings`)."""
    database = settings.database_settings(environ)
    festival_db = FestivalDatabase(
        # a URL holds a password: Dagster resolves the variable where it is used and never shows it
        database_url=EnvVar("FESTIVAL_DATABASE_URL") if database.festival_url else None,
        pipeline_home=str(database.home),
    )
    # API keys and tokens as EnvVars: resolved in the step that uses them, never shown or stored
    secrets = {field: EnvVar(variable) for field, variable in settings.website_secrets(environ).items()}
    return {
        "festival_db": festival_db,
        "sites": SourceWebsites(festival_db=festival_db, **settings.websites_config(environ), **secrets),
        "raw_pages_io_manager": RawPagesIOManager(festival_db=festival_db),
        "parsed_ceremonies_io_manager": ParsedCeremoniesIOManager(festival_db=festival_db),
        "festival_tables_io_manager": FestivalTablesIOManager(festival_db=festival_db),
        "profiles_io_manager": ProfilesIOManager(festival_db=festival_db),
    }


defs = Definitions(
    assets=[festival_organizations, *oscars_assets, *festival_assets, *profile_assets],
    resources=code_location_resources(),
    jobs=all_jobs,
    executor=step_executor,
    schedules=all_schedules,
    sensors=[end_dead_runs_sensor, failed_runs_in_status],
)

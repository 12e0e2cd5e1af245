"""Schedules: each festival's new edition after the month it usually takes place, and, daily, the
years still announced but not awarded (until their winners are out) and the recent years where the
source listed no edition (IMDb may list an edition late).

Both are RUNNING by default, so `festival-pipeline dev` (which runs the daemon) runs them.
"""

from __future__ import annotations

from datetime import datetime

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from festival_pipeline.database import status_queries
from festival_pipeline.jobs import FESTIVAL_JOBS, festival_group
from festival_pipeline.registry import FESTIVALS, Festival
from festival_pipeline.resources import FestivalDatabase

RUN_ON_DAY = 5  # early in the month after the edition: results are on the sites by then
RUN_AT_HOUR = 6
UNTIL_AWARDED_CRON = "0 7 * * *"  # daily: a few pages per pending year, gone once awarded
NO_EDITION_RECHECK_YEARS = 3  # "no edition" in the last few years may be an edition IMDb lists late


def yearly_cron(festival: Festival) -> str:
    """The cron of a festival's yearly run: the RUN_ON_DAY of the month after its usual month."""
    return f"0 {RUN_AT_HOUR} {RUN_ON_DAY} {festival.usual_month % 12 + 1} *"


def edition_year(festival: Festival, run_time: datetime) -> int:
    """The year of the edition a yearly run fetches (last year's when the run wraps into January)."""
    return run_time.year - 1 if festival.usual_month == 12 else run_time.year


def _yearly_schedule(festival: Festival) -> ScheduleDefinition:
    @schedule(
        name=f"{festival_group(festival)}_yearly",
        cron_schedule=yearly_cron(festival),
        job=FESTIVAL_JOBS[festival.slug],
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"The {festival.name} edition of the year, early in the month after it usually takes place.",
    )
    def yearly(context: ScheduleEvaluationContext) -> RunRequest:
        year = str(edition_year(festival, context.scheduled_execution_time))
        return RunRequest(run_key=year, partition_key=year, tags={"festival_pipeline/schedule": "yearly"})

    return yearly


def _until_awarded_schedule(festival: Festival) -> ScheduleDefinition:
    @schedule(
        name=f"{festival_group(festival)}_until_awarded",
        cron_schedule=UNTIL_AWARDED_CRON,
        job=FESTIVAL_JOBS[festival.slug],
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"Re-imports {festival.name} years announced but not yet awarded, until they are, and "
                    f"years of the last {NO_EDITION_RECHECK_YEARS} where the source listed no edition.",
    )
    def until_awarded(
        context: ScheduleEvaluationContext, festival_db: FestivalDatabase
    ) -> list[RunRequest] | SkipReason:
        since = context.scheduled_execution_time.year - NO_EDITION_RECHECK_YEARS + 1
        with festival_db.transaction() as cursor:
            pending = status_queries.announced_not_awarded_years(cursor, festival.slug)
            no_edition = status_queries.no_edition_years(cursor, festival.slug, since)
        years = sorted(set(pending) | set(no_edition))
        if not years:
            return SkipReason(f"no {festival.name} year is announced but not awarded, and none of the last "
                              f"{NO_EDITION_RECHECK_YEARS} years lacks an edition")
        day = context.scheduled_execution_time.strftime("%Y-%m-%d")
        return [
            RunRequest(run_key=f"{year}@{day}", partition_key=str(year),
                       tags={"festival_pipeline/schedule": "until_awarded",
                             "festival_pipeline/reason": "announced-not-awarded" if year in pending else "no-edition"})
            for year in years
        ]

    return until_awarded


all_schedules: list[ScheduleDefinition] = [
    schedule_def for festival in FESTIVALS
    for schedule_def in (_yearly_schedule(festival), _until_awarded_schedule(festival))
]

"""The jobs and schedules of the code location, evaluated as the daemon evaluates them."""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import RunRequest, SkipReason, build_schedule_context

from festival_pipeline.database import connection, outcomes
from festival_pipeline.database.organizations import organization_id
from festival_pipeline.definitions import defs
from festival_pipeline.jobs import festival_partitions_def, job_name
from festival_pipeline.registry import ACADEMY_AWARDS_SLUG, FESTIVALS, festival
from festival_pipeline.resources import FestivalDatabase
from festival_pipeline.schedules import all_schedules, edition_year, yearly_cron
from festival_pipeline.years import years_since


def evaluate(name: str, when: datetime, **resources: object) -> list[RunRequest] | SkipReason:
    schedule_def = defs.resolve_schedule_def(name)
    with build_schedule_context(scheduled_execution_time=when, resources=resources or None) as context:
        result = schedule_def(context)
    return [result] if isinstance(result, RunRequest) else result


def test_one_job_per_festival_partitioned_like_its_assets() -> None:
    jobs = {job.name: job for job in defs.resolve_all_job_defs() if not job.name.startswith("__")}
    assert set(jobs) == {job_name(f) for f in FESTIVALS}
    assert "oscars_job" in jobs and "golden_globes_job" in jobs
    for entry in FESTIVALS:
        job = jobs[job_name(entry)]
        expected = festival_partitions_def(entry).get_partition_keys()
        assert job.partitions_def is not None and job.partitions_def.get_partition_keys() == expected
        # the command line's years (without Dagster) are the partitions' years
        assert [str(year) for year in years_since(entry.first_edition_year)] == expected
        # Oscars: two pages, the enhanced ceremony, three tables; festivals: one page asset, the ceremony,
        # three tables
        assert len(job.asset_layer.executable_asset_keys) == (6 if entry.is_oscars else 5), entry.slug


def test_every_schedule_resolves_and_targets_its_festival_job() -> None:
    assert len(defs.schedules) == 2 * len(FESTIVALS)  # type: ignore[arg-type]
    for schedule_def in all_schedules:
        resolved = defs.resolve_schedule_def(schedule_def.name)
        assert resolved.job_name.endswith("_job") and resolved.job_name == schedule_def.job_name
        assert resolved.default_status.value == "RUNNING"
        defs.resolve_job_def(resolved.job_name)


def test_oscars_run_in_early_april_for_this_years_ceremony() -> None:
    oscars = festival(ACADEMY_AWARDS_SLUG)
    assert yearly_cron(oscars) == "0 6 5 4 *"
    this_year = datetime.now(UTC).year
    (request,) = evaluate("oscars_yearly", datetime(this_year, 4, 5, 6, tzinfo=UTC))
    assert request.partition_key == str(this_year)
    assert request.partition_key in festival_partitions_def(oscars).get_partition_keys()


def test_every_yearly_schedule_runs_the_month_after_the_usual_month() -> None:
    for entry in FESTIVALS:
        _minute, _hour, day, month, weekday = yearly_cron(entry).split()
        assert int(month) == entry.usual_month % 12 + 1 and (day, weekday) == ("5", "*")
        assert edition_year(entry, datetime(2030, int(month), 5, tzinfo=UTC)) == (
            2029 if entry.usual_month == 12 else 2030)


def _mark(url: str, slug: str, year: int, status: str) -> None:
    with connection.transaction(url) as cursor:
        outcomes.record_outcome(cursor, organization_id=organization_id(cursor, slug), year=year, edition=1,
                                status=status)


def _requested(name: str, when: datetime, festival_db: FestivalDatabase) -> dict[str, str] | SkipReason:
    """partition → the reason tag of each run the schedule requests (or its SkipReason)."""
    result = evaluate(name, when, festival_db=festival_db)
    if isinstance(result, SkipReason):
        return result
    assert len({r.run_key for r in result}) == len(result)  # one run per year and day
    return {r.partition_key: r.tags["festival_pipeline/reason"] for r in result}


def test_until_awarded_requests_exactly_the_years_announced_not_awarded(festival_database_url: str) -> None:
    database = FestivalDatabase(database_url=festival_database_url)
    _mark(festival_database_url, ACADEMY_AWARDS_SLUG, 2024, outcomes.COMPLETE)
    _mark(festival_database_url, ACADEMY_AWARDS_SLUG, 2025, outcomes.ANNOUNCED_NOT_AWARDED)
    _mark(festival_database_url, ACADEMY_AWARDS_SLUG, 2026, outcomes.ANNOUNCED_NOT_AWARDED)
    _mark(festival_database_url, ACADEMY_AWARDS_SLUG, 2023, outcomes.FAILED)
    _mark(festival_database_url, "venice", 2026, outcomes.ANNOUNCED_NOT_AWARDED)
    when = datetime(2026, 5, 1, 7, tzinfo=UTC)

    assert _requested("oscars_until_awarded", when, database) == {
        "2025": "announced-not-awarded", "2026": "announced-not-awarded"}
    assert _requested("venice_until_awarded", when, database) == {"2026": "announced-not-awarded"}
    assert isinstance(_requested("cannes_until_awarded", when, database), SkipReason)

    _mark(festival_database_url, ACADEMY_AWARDS_SLUG, 2025, outcomes.COMPLETE)  # the winners are out
    assert _requested("oscars_until_awarded", when, database) == {"2026": "announced-not-awarded"}


def test_until_awarded_rechecks_no_edition_years_of_the_last_three_years(festival_database_url: str) -> None:
    """IMDb may list an edition late: a recent year without one is looked at again, an old one is not."""
    database = FestivalDatabase(database_url=festival_database_url)
    when = datetime(2026, 5, 1, 7, tzinfo=UTC)
    for year in (1942, 2023, 2024, 2026):
        _mark(festival_database_url, "cannes", year, outcomes.NO_EDITION)
    _mark(festival_database_url, "cannes", 2025, outcomes.COMPLETE)
    _mark(festival_database_url, "venice", 2025, outcomes.ANNOUNCED_NOT_AWARDED)
    _mark(festival_database_url, "venice", 2026, outcomes.NO_EDITION)

    # 2024-2026 are the last three years in 2026; 1942 and 2023 are history
    assert _requested("cannes_until_awarded", when, database) == {"2024": "no-edition", "2026": "no-edition"}
    assert _requested("venice_until_awarded", when, database) == {
        "2025": "announced-not-awarded", "2026": "no-edition"}

    _mark(festival_database_url, "cannes", 2024, outcomes.COMPLETE)  # the late edition was found
    assert _requested("cannes_until_awarded", when, database) == {"2026": "no-edition"}
    # a year later 2024 has left the window
    _mark(festival_database_url, "cannes", 2024, outcomes.NO_EDITION)
    assert _requested("cannes_until_awarded", datetime(2027, 5, 1, 7, tzinfo=UTC), database) == {
        "2026": "no-edition"}

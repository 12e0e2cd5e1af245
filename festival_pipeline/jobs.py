"""One asset job per festival, partitioned like its assets.

The schedules and the UI's "Materialize" go through these jobs, so every run of a festival shows up
under the same job name; backfills (CLI and UI) are Dagster asset backfills of the same assets.
"""

from __future__ import annotations

from dagster import AssetSelection, PartitionsDefinition, define_asset_job

from festival_pipeline.assets.festivals import asset_prefix
from festival_pipeline.partitions import festival_partitions, oscars_partitions
from festival_pipeline.registry import ACADEMY_AWARDS_SLUG, FESTIVALS, Festival

OSCARS_GROUP = "oscars"


def festival_group(festival: Festival) -> str:
    """The asset group of a festival: `oscars` for the Academy Awards, else the slug with '_'."""
    return OSCARS_GROUP if festival.is_oscars else asset_prefix(festival)


def job_name(festival: Festival) -> str:
    return f"{festival_group(festival)}_job"


def festival_partitions_def(festival: Festival) -> PartitionsDefinition:
    """The partitions of a festival's assets (equal to the definition its assets use)."""
    return oscars_partitions if festival.is_oscars else festival_partitions(festival.first_edition_year)


def festival_selection(festival: Festival) -> AssetSelection:
    return AssetSelection.groups(festival_group(festival))


FESTIVAL_JOBS = {
    festival.slug: define_asset_job(
        name=job_name(festival),
        selection=festival_selection(festival),  # partitioned like these assets
        description=f"Every {festival.name} asset for the selected years: fetch, parse, write.",
        tags={"festival_pipeline/festival": festival.slug},
    )
    for festival in FESTIVALS
}
oscars_job = FESTIVAL_JOBS[ACADEMY_AWARDS_SLUG]
all_jobs = list(FESTIVAL_JOBS.values())

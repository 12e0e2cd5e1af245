"""One asset job per festival, partitioned like its assets.

The schedules and the UI's "Materialize" go through these jobs, so every run of a festival shows up
under the same job name; backfills (CLI and UI) are Dagster asset backfills of the same assets.
"""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from festival_pipeline.groups import festival_group, festival_partitions_def, job_name
from festival_pipeline.registry import FESTIVALS, Festival

__all__ = ["FESTIVAL_JOBS", "all_jobs", "festival_group", "festival_partitions_def", "job_name"]


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
all_jobs = list(FESTIVAL_JOBS.values())

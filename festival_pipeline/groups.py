"""A festival's names in Dagster — its asset prefix and group, its job, its partitions — without the
asset definitions (the command line needs them and stays light)."""

from __future__ import annotations

from dagster import PartitionsDefinition

from festival_pipeline.partitions import festival_partitions, oscars_partitions
from festival_pipeline.registry import Festival

OSCARS_GROUP = "oscars"
PAGE_KIND = "html"  # the kind of the assets that fetch (a backfill --from-archive leaves them out)


def asset_prefix(festival: Festival) -> str:
    """The first part of the festival's asset keys, and its group: `oscars`, `cannes`, `golden_globes`."""
    return OSCARS_GROUP if festival.is_oscars else festival.slug.replace("-", "_")


festival_group = asset_prefix  # every asset of a festival is in the group named like its prefix


def job_name(festival: Festival) -> str:
    return f"{festival_group(festival)}_job"


def festival_partitions_def(festival: Festival) -> PartitionsDefinition:
    """The partitions of a festival's assets (equal to the definition its assets use)."""
    return oscars_partitions if festival.is_oscars else festival_partitions(festival.first_edition_year)

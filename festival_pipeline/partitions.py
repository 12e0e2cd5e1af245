"""Partitions: one per Oscar ceremony, keyed by the oscars.org year (1928 + ceremony number)."""

from __future__ import annotations

from dagster import AssetExecutionContext, TimeWindowPartitionsDefinition

# end_offset=1 includes the current year: nominations are announced in January,
# long before the ceremony, so the year exists as "announced, not awarded".
oscars_partitions = TimeWindowPartitionsDefinition(
    start="1929", fmt="%Y", cron_schedule="0 0 1 1 *", end_offset=1
)


def partition_years(context: AssetExecutionContext) -> list[int]:
    """The years of this run: one for a single partition, many for a ranged backfill.

    `context.partition_key` raises in a ranged run, so always go through the keys.
    """
    return [int(key) for key in context.partition_keys]


def festival_partitions(first_year: int) -> TimeWindowPartitionsDefinition:
    """Years from a festival's first IMDb edition to the current year.

    A partition is the year IMDb labels editions with; a year may hold two editions
    (Critics Choice 2016/1 and 2016/2) or none (Cannes 1940-1945): both are recorded.
    """
    return TimeWindowPartitionsDefinition(
        start=str(first_year), fmt="%Y", cron_schedule="0 0 1 1 *", end_offset=1
    )

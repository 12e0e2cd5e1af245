"""Partitions: one per year, and how a backfill of many years is cut into runs."""

from __future__ import annotations

from dagster import BackfillPolicy, TimeWindowPartitionsDefinition

# A backfill runs its years in ranged runs of at most this many years. Several runs let one run
# parse and write while the next one fetches (the per-site pools keep one fetch step per site at a
# time); each run costs a few seconds of process start, so the runs are few.
YEARS_PER_RUN = 25
RANGE_POLICY = BackfillPolicy.multi_run(max_partitions_per_run=YEARS_PER_RUN)


def yearly_partitions(first_year: int) -> TimeWindowPartitionsDefinition:
    """Years from `first_year` to the current year.

    end_offset=1 includes the current year: nominations are announced long before the ceremony,
    so the year exists as "announced, not awarded". A festival partition is the year IMDb labels
    editions with; a year may hold two editions (Critics Choice 2016/1 and 2016/2) or none
    (Cannes 1940-1945): both are recorded.
    """
    return TimeWindowPartitionsDefinition(start=str(first_year), fmt="%Y", cron_schedule="0 0 1 1 *", end_offset=1)


# one per Oscar ceremony, keyed by the oscars.org year (1928 + ceremony number)
oscars_partitions = yearly_partitions(1929)
festival_partitions = yearly_partitions

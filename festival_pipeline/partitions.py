"""Partitions: one per year, and how a backfill of many years is cut into runs."""

from __future__ import annotations

from dagster import (
    AssetExecutionContext,
    BackfillPolicy,
    InputContext,
    OutputContext,
    TimeWindowPartitionsDefinition,
)

# A backfill runs all the years of one festival as one ranged run (each asset step handles the whole
# range): every extra run costs a run worker and a step server that import the code, and a run waiting
# for a site's pool slot polls for it, so smaller runs are slower (benchmarks/README.md). Festivals
# still overlap: one festival's run parses and writes while the next one's fetches.
RANGE_POLICY = BackfillPolicy.single_run()


def yearly_partitions(first_year: int) -> TimeWindowPartitionsDefinition:
    """Years from `first_year` to the current year (the years `years.years_since` lists without
    Dagster).

    end_offset=1 includes the current year: nominations are announced long before the ceremony,
    so the year exists as "announced, not awarded". A festival partition is the year IMDb labels
    editions with; a year may hold two editions (Critics Choice 2016/1 and 2016/2) or none
    (Cannes 1940-1945): both are recorded.
    """
    return TimeWindowPartitionsDefinition(start=str(first_year), fmt="%Y", cron_schedule="0 0 1 1 *", end_offset=1)


def partition_years(context: AssetExecutionContext | InputContext | OutputContext) -> list[int]:
    """The years a step, an output or an input covers: one, a range (a ranged backfill run), or every
    year (an unpartitioned downstream asset loading its input).

    Always through the keys: `context.partition_key` raises in a ranged run.
    """
    if isinstance(context, InputContext | OutputContext):
        return [int(key) for key in context.asset_partition_keys]
    return [int(key) for key in context.partition_keys]


# one per Oscar ceremony, keyed by the oscars.org year (1928 + ceremony number)
oscars_partitions = yearly_partitions(1929)
festival_partitions = yearly_partitions

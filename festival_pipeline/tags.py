"""The run tags the pipeline reads or writes besides its executor's (executor.py): Dagster's own
partition and backfill tags, and the tag that accepts a shrink for a whole run."""

from __future__ import annotations

BACKFILL_TAG = "dagster/backfill"
ROOT_BACKFILL_TAG = "dagster/root_backfill_id"  # the backfill a re-execution started from
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG, RANGE_END_TAG = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
ACCEPT_SHRINK_TAG = "festival_pipeline/accept_shrink"  # festival-pipeline backfill --accept-shrink

"""Award profiles over every festival: `film_award_profiles` and `person_award_profiles`.

Downstream of every festival's `festival_nominations` (loaded as DataFrames through the tables' IO
manager), computed with pandas (festival_pipeline/award_profiles.py), stored as tables of the same names.
Kept current by declarative automation: after any festival's nominations change, once no upstream
run is in progress, the daemon materializes them again.
"""


import pandas as pd
from dagster import AssetExecutionContext, AssetIn, AssetKey, AutomationCondition, MetadataValue, asset

from festival_pipeline.award_profiles import film_profiles, person_profiles
from festival_pipeline.groups import asset_prefix
from festival_pipeline.registry import FESTIVALS

GROUP = "award_profiles"

# every festival's nominations, as inputs named after the festival's asset prefix
NOMINATION_INPUTS = {
    asset_prefix(festival): AssetIn(AssetKey([asset_prefix(festival), "festival_nominations"]))
    for festival in FESTIVALS
}

# After any festival's nominations were materialized again (since this asset was last requested),
# and while none of them is being materialized: a backfill's chunks do not each trigger a refresh.
REFRESH_AFTER_NOMINATIONS_CHANGE = (
    (AutomationCondition.any_deps_updated() | AutomationCondition.missing()).since_last_handled()
    & ~AutomationCondition.any_deps_in_progress()
    & ~AutomationCondition.in_progress()
).with_label("after any festival's nominations change")


def _all_nominations(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    non_empty = [frame for frame in frames.values() if not frame.empty]
    return pd.concat(non_empty, ignore_index=True) if non_empty else pd.DataFrame(
        columns=["festival", "year", "won", "film_imdb_ids", "person_imdb_ids", "details"])


def _metadata(profiles: pd.DataFrame, nominations: pd.DataFrame, key: str, label: str) -> dict[str, object]:
    top = profiles.sort_values(["wins", "nominations"], ascending=False).head(10)
    lines = [f"| {key} | {label} | nominations | wins | festivals |", "|---|---|---:|---:|---:|"]
    lines += [f"| {row[key]} | {row[label] or ''} | {row['nominations']} | {row['wins']} | {row['festivals']} |"
              for row in top.to_dict("records")]
    return {"nominations_read": len(nominations), "top_by_wins": MetadataValue.md("\n".join(lines))}


@asset(group_name=GROUP, ins=NOMINATION_INPUTS, io_manager_key="profiles_io_manager", kinds={"pandas", "postgres"},
       metadata={"dagster/table_name": "film_award_profiles"}, automation_condition=REFRESH_AFTER_NOMINATIONS_CHANGE,
       description="One row per film IMDb id over every festival: nominations (rows of festival_nominations "
                   "listing the id), wins, per-festival nominations and wins, first and last year, a title.")
def film_award_profiles(context: AssetExecutionContext, **nominations: pd.DataFrame) -> pd.DataFrame:
    everything = _all_nominations(nominations)
    profiles = film_profiles(everything)
    context.add_output_metadata(_metadata(profiles, everything, "film_imdb_id", "title"))
    return profiles


@asset(group_name=GROUP, ins=NOMINATION_INPUTS, io_manager_key="profiles_io_manager", kinds={"pandas", "postgres"},
       metadata={"dagster/table_name": "person_award_profiles"}, automation_condition=REFRESH_AFTER_NOMINATIONS_CHANGE,
       description="One row per person IMDb id over every festival: nominations, wins, per-festival nominations "
                   "and wins, first and last year, a name.")
def person_award_profiles(context: AssetExecutionContext, **nominations: pd.DataFrame) -> pd.DataFrame:
    everything = _all_nominations(nominations)
    profiles = person_profiles(everything)
    context.add_output_metadata(_metadata(profiles, everything, "person_imdb_id", "name"))
    return profiles


profile_assets = [film_award_profiles, person_award_profiles]
__all__ = ["profile_assets"]

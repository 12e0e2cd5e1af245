"""IO managers over the festival tables: the festival_* assets load as DataFrames; the award
profiles are stored from DataFrames."""

from __future__ import annotations

import pandas as pd
from dagster import ConfigurableIOManager, InputContext, OutputContext

from festival_pipeline.database import profile_tables, table_frames
from festival_pipeline.database.organizations import organization_id
from festival_pipeline.io_managers.common import definition_metadata, festival_slug
from festival_pipeline.partitions import partition_years
from festival_pipeline.resources import FestivalDatabase

TABLE_NAME = "dagster/table_name"


def _table(context: InputContext | OutputContext) -> str:
    return str(definition_metadata(context)[TABLE_NAME])


class FestivalTablesIOManager(ConfigurableIOManager):
    """Loads one festival's rows of a festival_* table for the requested years as a DataFrame.

    The table assets write their rows themselves — every edition of a year in one transaction across
    the three tables, which three separate outputs could not do atomically — and return
    MaterializeResult, so Dagster never hands this IO manager a value to store.
    """

    festival_db: FestivalDatabase

    def handle_output(self, context: OutputContext, obj: object) -> None:
        if obj is not None:
            raise TypeError(f"{context.asset_key.to_user_string()} writes its own rows; return MaterializeResult")

    def load_input(self, context: InputContext) -> pd.DataFrame:
        with self.festival_db.transaction() as cursor:
            return table_frames.table_frame(cursor, _table(context), organization_id(cursor, festival_slug(context)),
                                            partition_years(context))


class ProfilesIOManager(ConfigurableIOManager):
    """An award-profile DataFrame replaces its table (`dagster/table_name`) in one transaction."""

    festival_db: FestivalDatabase

    def handle_output(self, context: OutputContext, obj: pd.DataFrame) -> None:
        with self.festival_db.transaction() as cursor:
            rows = profile_tables.replace_profiles(cursor, _table(context), obj)
        context.add_output_metadata({"dagster/row_count": rows})

    def load_input(self, context: InputContext) -> pd.DataFrame:
        with self.festival_db.transaction() as cursor:
            return profile_tables.profiles_frame(cursor, _table(context))

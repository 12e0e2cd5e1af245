"""The parsed-ceremony assets' IO manager: every edition of each year, as parsed (`ceremony_snapshots`)."""

from __future__ import annotations

from dagster import ConfigurableIOManager, InputContext, OutputContext

from festival_pipeline.database import snapshots
from festival_pipeline.database.organizations import organization_id
from festival_pipeline.io_managers.common import festival_slug
from festival_pipeline.model import ParsedYear
from festival_pipeline.partitions import partition_years
from festival_pipeline.resources import FestivalDatabase


class ParsedCeremoniesIOManager(ConfigurableIOManager):
    """Stores year → ParsedYear (all editions of a year replaced at once, with the run that parsed
    them); loads the same. A year whose latest parse failed, or that was never parsed, does not load."""

    festival_db: FestivalDatabase

    def handle_output(self, context: OutputContext, obj: dict[int, ParsedYear]) -> None:
        missing = sorted(set(partition_years(context)) - set(obj))
        if missing:
            raise ValueError(f"{context.asset_key.to_user_string()} returned no parse for {missing}")
        with self.festival_db.transaction() as cursor:
            org_id = organization_id(cursor, festival_slug(context))
            for parsed in obj.values():
                snapshots.store_year(cursor, org_id, parsed)

    def load_input(self, context: InputContext) -> dict[int, ParsedYear]:
        with self.festival_db.transaction() as cursor:
            return snapshots.load_years(cursor, organization_id(cursor, festival_slug(context)),
                                        partition_years(context), what=context.asset_key.to_user_string())

"""IO managers: how values move between the assets, over the festival database.

* `RawPagesIOManager` — page assets: year → edition → archived page (`partition_pages`);
* `ParsedCeremoniesIOManager` — parsed/enhanced ceremonies: year → ParsedYear (`ceremony_snapshots`);
* `FestivalTablesIOManager` — the festival_* table assets load as pandas DataFrames;
* `ProfilesIOManager` — the award-profile assets: a DataFrame replaces the table.

All of them read `context.asset_partition_keys`, so a ranged run (a single-run backfill of many
years) stores and loads every year of its range at once.
"""

from festival_pipeline.io_managers.ceremonies import ParsedCeremoniesIOManager
from festival_pipeline.io_managers.pages import RawPagesIOManager
from festival_pipeline.io_managers.tables import FestivalTablesIOManager, ProfilesIOManager

__all__ = ["FestivalTablesIOManager", "ParsedCeremoniesIOManager", "ProfilesIOManager", "RawPagesIOManager"]

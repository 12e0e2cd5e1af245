"""The page assets' IO manager: which archived pages each year holds (`partition_pages`)."""

from __future__ import annotations

from dagster import ConfigurableIOManager, InputContext, OutputContext

from festival_pipeline.database import partition_pages
from festival_pipeline.database.organizations import organization_id
from festival_pipeline.database.partition_pages import YearPages, YearsPages
from festival_pipeline.io_managers.common import PAGE_ROLE_METADATA, definition_metadata, festival_slug
from festival_pipeline.partitions import partition_years
from festival_pipeline.resources import FestivalDatabase


class RawPagesIOManager(ConfigurableIOManager):
    """Stores a page asset's value — year → YearPages (edition → archived page) — as links from the
    partition to the raw archive; loads year → edition → its ArchivedPages (a page, or API answers in
    the order they were asked). A year whose latest fetch failed, or that was never fetched, does not load."""

    festival_db: FestivalDatabase

    def handle_output(self, context: OutputContext, obj: dict[int, YearPages]) -> None:
        slug, role = festival_slug(context), _role(context)
        missing = sorted(set(partition_years(context)) - set(obj))
        if missing:
            raise ValueError(f"{context.asset_key.to_user_string()} returned no pages for {missing}")
        with self.festival_db.transaction() as cursor:
            org_id = organization_id(cursor, slug)
            for year_pages in obj.values():
                partition_pages.store_year(cursor, organization_id=org_id, year_pages=year_pages, role=role)

    def load_input(self, context: InputContext) -> YearsPages:
        slug, role = festival_slug(context), _role(context)
        with self.festival_db.transaction() as cursor:
            return partition_pages.load_years(
                cursor, organization_id=organization_id(cursor, slug), years=partition_years(context), role=role,
                what=context.asset_key.to_user_string())


def _role(context: InputContext | OutputContext) -> str:
    return str(definition_metadata(context)[PAGE_ROLE_METADATA])

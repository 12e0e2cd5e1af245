"""The Dagster layer in Dagster's own idioms, on recorded pages (no simulator needed): asset bodies
run with `build_asset_context`, whole graphs with `materialize` on an ephemeral instance, the data in a
real PostgreSQL, values read back through the IO managers."""

from __future__ import annotations

import pandas as pd
import psycopg2
import pytest
from dagster import (
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    Definitions,
    Failure,
    Output,
    PartitionKeyRange,
    build_asset_context,
    materialize,
)

from festival_pipeline.assets.organizations import festival_organizations
from festival_pipeline.assets.oscars import (
    ENHANCED,
    IMDB_PAGE,
    OSCARS_ORG_PAGE,
    oscars_assets,
    oscars_org_ceremony_page,
)
from festival_pipeline.assets.profiles import profile_assets
from festival_pipeline.database.partition_pages import YearPages
from festival_pipeline.definitions import defs
from festival_pipeline.resources import FestivalDatabase, SourceWebsites
from festival_pipeline_tests.conftest import pipeline_resources

NOMINATIONS = AssetKey(["oscars", "festival_nominations"])


@pytest.fixture
def resources(festival_database_url: str, recorded_sites_url: str) -> dict:
    return pipeline_resources(recorded_sites_url)


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


def with_resources(resources: dict) -> Definitions:
    """The code location's assets with this test's resources (the module-level `defs` read the
    environment when it was imported, before the test's database existed)."""
    return Definitions(assets=defs.assets, resources=resources)


def count(url: str, sql: str, *params: object) -> int:
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_the_page_asset_archives_each_year_and_returns_it_by_year(festival_database_url, recorded_sites_url):
    context = build_asset_context(partition_key_range=PartitionKeyRange("2024", "2024"))
    festival_db = FestivalDatabase(database_url=festival_database_url)
    events = list(oscars_org_ceremony_page(context, festival_db=festival_db,
                                           sites=SourceWebsites(festival_db=festival_db,
                                                                oscars_base_url=recorded_sites_url,
                                                                imdb_base_url=recorded_sites_url,
                                                                requests_per_second=0)))
    (output,) = [event for event in events if isinstance(event, Output)]
    assert set(output.value) == {2024}
    year_pages: YearPages = output.value[2024]
    (page,) = year_pages.pages[1]
    assert page.url.endswith("/oscars/ceremonies/2024")
    assert "96th Academy Awards" in page.text
    assert count(festival_database_url, "SELECT count(*) FROM raw_pages WHERE url = %s", page.url) == 1


def test_a_year_that_fails_is_named_and_the_good_years_are_reported_materialized(
        festival_database_url, recorded_sites_url):
    # the recorded sites have 2024 and 2026 but no 2025: that year's fetch is a 404
    context = build_asset_context(partition_key_range=PartitionKeyRange("2024", "2026"))
    events = []
    festival_db = FestivalDatabase(database_url=festival_database_url)
    with pytest.raises(Failure) as failure:
        for event in oscars_org_ceremony_page(context, festival_db=festival_db,
                                              sites=SourceWebsites(festival_db=festival_db,
                                                                   oscars_base_url=recorded_sites_url,
                                                                   imdb_base_url=recorded_sites_url,
                                                                   requests_per_second=0)):
            events.append(event)
    assert "1 year(s): 2025" in str(failure.value.description)
    assert "404" in str(failure.value.description)
    reported = sorted(event.partition for event in events if isinstance(event, AssetMaterialization))
    assert reported == ["2024", "2026"]
    assert not any(isinstance(event, Output) for event in events)  # no output: it would materialize 2025 too
    status = count(festival_database_url, """SELECT count(*) FROM import_outcomes WHERE year = 2025
                                              AND status = 'failed' AND error LIKE %s""", "%ceremonies/2025%")
    assert status == 1


def test_a_materialized_year_loads_as_a_dataframe_of_its_rows(resources, instance, festival_database_url):
    assert materialize([festival_organizations], instance=instance, resources=resources).success
    result = materialize(oscars_assets, partition_key="2024", instance=instance, resources=resources)
    assert result.success
    frame = with_resources(resources).load_asset_value(NOMINATIONS, partition_key="2024", instance=instance)
    assert isinstance(frame, pd.DataFrame)
    in_table = count(festival_database_url, """SELECT count(*) FROM festival_nominations n JOIN festival_ceremonies c
                                               ON c.id = n.ceremony_id WHERE c.year = 2024""")
    assert len(frame) == in_table > 100
    assert set(frame["year"]) == {2024} and set(frame["festival"]) == {"academy-awards"}
    best_picture = frame[(frame["category"] == "Best Picture") & frame["won"]]
    assert list(best_picture["film_title"]) == ["Oppenheimer"]
    # the per-year metadata of that partition, not a range total
    materialization = result.asset_materializations_for_node("oscars_festival_tables")
    nominations_event = next(m for m in materialization if m.asset_key == NOMINATIONS)
    assert nominations_event.metadata["dagster/row_count"].value == in_table


def test_the_write_step_refuses_a_parse_no_run_of_its_backfill_made(resources, instance):
    materialize([festival_organizations], instance=instance, resources=resources)
    assert materialize(oscars_assets, selection=[OSCARS_ORG_PAGE, IMDB_PAGE, ENHANCED], partition_key="2024",
                       instance=instance, resources=resources).success
    tables = [k for a in oscars_assets for k in a.keys if k.path[-1].startswith("festival_")]
    refused = materialize(oscars_assets, selection=tables, partition_key="2024", instance=instance,
                          resources=resources, raise_on_error=False)
    assert not refused.success
    failure = refused.get_step_failure_events()[0].step_failure_data.error.message
    assert "was made by run" in failure and "use_stored_parse" in failure
    accepted = materialize(oscars_assets, selection=tables, partition_key="2024", instance=instance,
                           resources=resources,
                           run_config={"ops": {"oscars_festival_tables": {"config": {"use_stored_parse": True}}}})
    assert accepted.success


def test_film_profiles_are_the_nominations_grouped_by_film_id(resources, instance, festival_database_url):
    materialize([festival_organizations], instance=instance, resources=resources)
    assert materialize(oscars_assets, partition_key="2024", instance=instance, resources=resources).success
    everything = [festival_organizations, *defs.assets]  # profiles read every festival's nominations
    result = materialize(everything, selection=profile_assets, instance=instance, resources=resources)
    assert result.success
    profiles = with_resources(resources).load_asset_value(AssetKey("film_award_profiles"), instance=instance)
    with psycopg2.connect(festival_database_url) as connection, connection.cursor() as cursor:
        cursor.execute("""SELECT f, count(*), sum(won::int) FROM festival_nominations, unnest(film_imdb_ids) f
                          GROUP BY f ORDER BY f""")
        expected = cursor.fetchall()
    got = list(zip(profiles["film_imdb_id"], profiles["nominations"], profiles["wins"], strict=True))
    assert got == [(film, int(n), int(w)) for film, n, w in expected]
    oppenheimer = profiles[profiles["title"] == "Oppenheimer"].iloc[0]
    assert oppenheimer["wins"] == 7 and oppenheimer["by_festival"] == {"academy-awards": {"nominations": 13, "wins": 7}}

"""Oscar partitions materialized through Dagster into the unified tables.

Runs against the recorded fixture pages always, and against the simulator too when
../shared is present.
"""

from __future__ import annotations

import pytest

from festival_pipeline.database import connection
from festival_pipeline_tests.conftest import recorded_sites, requires_shared, run_oscars


def nomination_rows(url: str, year: int) -> list[tuple]:
    with connection.transaction(url) as cursor:
        cursor.execute(
            """SELECT n.id, n.nomination_key, n.won, c.prize_name, c.name, n.film_title, n.film_imdb_ids,
                      n.person_imdb_ids, n.nominee_names, n.updated_at
               FROM festival_nominations n
               JOIN festival_ceremonies fc ON fc.id = n.ceremony_id
               JOIN festival_organizations o ON o.id = fc.organization_id AND o.slug = 'academy-awards'
               JOIN festival_categories c ON c.id = n.category_id
               WHERE fc.year = %s ORDER BY n.id""",
            (year,),
        )
        return cursor.fetchall()


def ceremony_row(url: str, year: int) -> dict:
    with connection.transaction(url) as cursor:
        cursor.execute(
            """SELECT fc.ceremony_number, fc.edition, fc.name, fc.source_urls, fc.source_metadata, fc.data_source,
                      fc.location
               FROM festival_ceremonies fc JOIN festival_organizations o ON o.id = fc.organization_id
               WHERE o.slug = 'academy-awards' AND fc.year = %s""",
            (year,),
        )
        row = cursor.fetchone()
    keys = ("ceremony_number", "edition", "name", "source_urls", "source_metadata", "data_source", "location")
    return dict(zip(keys, row, strict=True)) if row else {}


@pytest.fixture(params=["recorded", pytest.param("simulator", marks=pytest.mark.integration)])
def sites_url(request: pytest.FixtureRequest, recorded_sites_url: str) -> str:
    if request.param == "recorded":
        return recorded_sites_url
    return request.getfixturevalue("simulator_url")


def test_partition_2024_writes_the_ceremony(ephemeral_instance, festival_database_url: str, sites_url: str,
                                            recorded_sites_url: str) -> None:
    result = run_oscars(ephemeral_instance, sites_url, "2024")
    assert result.success
    ceremony = ceremony_row(festival_database_url, 2024)
    assert ceremony["ceremony_number"] == 96
    assert ceremony["edition"] == 1
    assert ceremony["data_source"] == "oscars.org+imdb"
    # IMDb's side from its GraphQL API where it answers (the simulator), else from the event page
    # (the recorded sites serve pages only: the API is refused and auto reads the page)
    imdb_source = ceremony["source_metadata"]["imdb_source"]
    assert imdb_source == ("pages" if sites_url == recorded_sites_url else "graphql")
    imdb_url = {"pages": f"{sites_url}/event/ev0000003/2024/1/",
                "graphql": f"{sites_url}/graphql#EditionAwards?edition=ee0184841&first=250"}[imdb_source]
    assert ceremony["source_urls"] == [f"{sites_url}/oscars/ceremonies/2024", imdb_url]
    rows = nomination_rows(festival_database_url, 2024)
    best_picture = [r for r in rows if r[3] == "Oscar" and r[4] == "Best Picture"]
    assert len(best_picture) == 10
    (winner,) = [r for r in best_picture if r[2]]
    assert winner[5] == "Oppenheimer" and winner[6] == ["tt15398776"]
    # every oscars.org category has exactly one winner or a tie, never none
    categories = {(r[3], r[4]) for r in rows}
    assert all(any(r[2] for r in rows if (r[3], r[4]) == c) for c in categories)
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations), [e.check_name for e in evaluations if not e.passed]


def test_rerun_changes_nothing(ephemeral_instance, festival_database_url: str, recorded_sites_url: str) -> None:
    assert run_oscars(ephemeral_instance, recorded_sites_url, "2024").success
    first = nomination_rows(festival_database_url, 2024)
    assert len(first) > 100  # the first run wrote the year
    assert run_oscars(ephemeral_instance, recorded_sites_url, "2024").success
    assert nomination_rows(festival_database_url, 2024) == first  # same ids, keys, values, updated_at


def test_1930_and_1931_are_the_2nd_and_3rd_ceremonies_in_one_ranged_run(
    ephemeral_instance, festival_database_url: str, recorded_sites_url: str
) -> None:
    result = run_oscars(ephemeral_instance, recorded_sites_url, "1930", "1931")
    assert result.success
    second, third = ceremony_row(festival_database_url, 1930), ceremony_row(festival_database_url, 1931)
    assert (second["ceremony_number"], third["ceremony_number"]) == (2, 3)
    assert second["source_urls"][1].endswith("/event/ev0000003/1930/1/")
    assert third["source_urls"][1].endswith("/event/ev0000003/1930/2/")
    assert nomination_rows(festival_database_url, 1930) and nomination_rows(festival_database_url, 1931)
    # the partition grid: every asset of the ranged run is materialized for both years
    asset_keys = {event.asset_key for event in result.get_asset_materialization_events()}
    assert len(asset_keys) == 6  # two pages, the enhanced ceremony, three tables
    for asset_key in asset_keys:
        assert ephemeral_instance.get_materialized_partitions(asset_key) == {"1930", "1931"}, asset_key
    # each year's materialization carries that year's row count, not the range's total
    by_year = {event.partition: event.materialization.metadata["dagster/row_count"].value
               for event in result.get_asset_materialization_events()
               if event.asset_key.path == ["oscars", "festival_nominations"]}
    assert by_year == {"1930": len(nomination_rows(festival_database_url, 1930)),
                       "1931": len(nomination_rows(festival_database_url, 1931))}


def test_changed_markup_fails_loudly_and_keeps_previous_rows(
    ephemeral_instance, festival_database_url: str, recorded_sites_url: str
) -> None:
    run_oscars(ephemeral_instance, recorded_sites_url, "2024")
    before = nomination_rows(festival_database_url, 2024)
    redesigned = recorded_sites(
        transform=lambda path, body: body.replace(b"paragraph--type--award-category", b"award-category-card")
    )
    try:
        result = run_oscars(ephemeral_instance, redesigned.url, "2024", raise_on_error=False)
    finally:
        redesigned.close()
    assert not result.success
    assert nomination_rows(festival_database_url, 2024) == before
    with connection.transaction(festival_database_url) as cursor:
        cursor.execute("SELECT status, error, details FROM import_outcomes WHERE year = 2024")
        status, error, details = cursor.fetchone()
    assert status == "failed" and "/oscars/ceremonies/2024" in error
    assert details["nominations"] == len(before)  # the counts of the rows still there survive the failure


@pytest.mark.parametrize("status", [403, 202])
def test_blocked_page_fails_and_writes_nothing(
    ephemeral_instance, festival_database_url: str, status: int
) -> None:
    blocked = recorded_sites(status_override=status)
    # 202 is a bot challenge: the auto fetcher tries the browser, which waits for it to pass (not 60 s
    # here: the recorded page never lets it through)
    try:
        result = run_oscars(ephemeral_instance, blocked.url, "2024", raise_on_error=False,
                            sites_settings={"browser_page_timeout_seconds": 2})
    finally:
        blocked.close()
    assert not result.success
    assert nomination_rows(festival_database_url, 2024) == []
    assert ceremony_row(festival_database_url, 2024) == {}
    with connection.transaction(festival_database_url) as cursor:
        cursor.execute("SELECT status, error FROM import_outcomes WHERE year = 2024")
        status_recorded, error = cursor.fetchone()
    assert status_recorded == "failed" and f"{blocked.url}/oscars/ceremonies/2024" in error, error
    assert ("-> 403: blocked" if status == 403 else "bot challenge") in error, error


@pytest.mark.integration
def test_pre_ceremony_year_then_awarded(dagster_instance, festival_database_url: str, simulator_url: str) -> None:
    requires_shared()
    from festival_web import start_server

    pre_url, shutdown = start_server(port=0, pre_ceremony="2026")
    try:
        assert run_oscars(dagster_instance, pre_url, "2026").success
    finally:
        shutdown()
    announced = nomination_rows(festival_database_url, 2026)
    assert announced and not any(r[2] for r in announced)
    with connection.transaction(festival_database_url) as cursor:
        cursor.execute("SELECT status FROM import_outcomes WHERE year = 2026")
        assert cursor.fetchone()[0] == "announced-not-awarded"

    assert run_oscars(dagster_instance, simulator_url, "2026").success
    awarded = nomination_rows(festival_database_url, 2026)
    assert [r[0] for r in awarded] == [r[0] for r in announced]  # no rows added, same ids
    assert any(r[2] for r in awarded)

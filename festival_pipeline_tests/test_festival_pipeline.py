"""IMDb-only festivals materialized through Dagster (needs the simulator from ../shared).

Festival pages are not committed as fixtures: the simulator renders them partly from
datasets that declare no licence.
"""

from __future__ import annotations

import urllib.request

import pytest
from dagster import materialize

from festival_pipeline.assets.festivals import build_festival_assets
from festival_pipeline.assets.organizations import festival_organizations
from festival_pipeline.database import connection
from festival_pipeline.registry import festival
from festival_pipeline_tests.conftest import pipeline_resources
from festival_pipeline_tests.fault_proxy import next_data_of

pytestmark = pytest.mark.integration


def run_festival(instance, sites_url: str, slug: str, year: str, raise_on_error: bool = True):
    resources = pipeline_resources(sites_url)
    materialize([festival_organizations], instance=instance, resources=resources)
    return materialize(build_festival_assets(festival(slug)), partition_key=year, instance=instance,
                       resources=resources, raise_on_error=raise_on_error)


def page_truth(sites_url: str, event_id: str, year: int, instance: int) -> dict[tuple[str, str], tuple[set, set]]:
    """(prize, category) → (nominated tt ids, winning tt ids), read straight from the page's JSON."""
    data = next_data_of(urllib.request.urlopen(f"{sites_url}/event/{event_id}/{year}/{instance}/").read())
    truth: dict[tuple[str, str], tuple[set, set]] = {}
    for award in data["props"]["pageProps"]["edition"]["awards"]:
        for edge in award["nominationCategories"]["edges"]:
            name = (edge["node"]["category"] or {}).get("text") or award["text"]
            nominated, won = truth.setdefault((award["text"], name), (set(), set()))
            for nomination in edge["node"]["nominations"]["edges"]:
                entities = nomination["node"]["awardedEntities"]
                titles = entities.get("awardTitles") or entities.get("secondaryAwardTitles") or []
                ids = {t["title"]["id"] for t in titles}
                nominated |= ids
                if nomination["node"]["isWinner"]:
                    won |= ids
    return truth


def table_truth(url: str, slug: str, year: int, edition: int) -> dict[tuple[str, str], tuple[set, set]]:
    with connection.transaction(url) as cursor:
        cursor.execute(
            """SELECT c.prize_name, c.name, n.film_imdb_ids, n.won FROM festival_nominations n
               JOIN festival_ceremonies fc ON fc.id = n.ceremony_id
               JOIN festival_organizations o ON o.id = fc.organization_id
               JOIN festival_categories c ON c.id = n.category_id
               WHERE o.slug = %s AND fc.year = %s AND fc.edition = %s""",
            (slug, year, edition),
        )
        truth: dict[tuple[str, str], tuple[set, set]] = {}
        for prize, name, ids, won in cursor.fetchall():
            nominated, winners = truth.setdefault((prize, name), (set(), set()))
            nominated |= set(ids)
            if won:
                winners |= set(ids)
    return truth


def outcome(url: str, slug: str, year: int) -> list[tuple[int, str]]:
    with connection.transaction(url) as cursor:
        cursor.execute(
            """SELECT i.edition, i.status FROM import_outcomes i JOIN festival_organizations o
               ON o.id = i.organization_id WHERE o.slug = %s AND i.year = %s ORDER BY i.edition""",
            (slug, year),
        )
        return cursor.fetchall()


def all_rows(url: str) -> list[tuple]:
    with connection.transaction(url) as cursor:
        cursor.execute("SELECT id, ceremony_id, nomination_key, won, updated_at FROM festival_nominations ORDER BY id")
        return cursor.fetchall()


def test_cannes_2024_equals_the_page_and_a_rerun_touches_nothing_else(
    dagster_instance, festival_database_url: str, simulator_url: str
) -> None:
    assert run_festival(dagster_instance, simulator_url, "venice", "2024").success
    assert run_festival(dagster_instance, simulator_url, "cannes", "2024").success
    truth = page_truth(simulator_url, "ev0000147", 2024, 1)
    assert table_truth(festival_database_url, "cannes", 2024, 1) == truth
    assert ("Palme d'Or", "Palme d'Or") in truth  # a null category: the award is the category
    before = all_rows(festival_database_url)
    assert run_festival(dagster_instance, simulator_url, "cannes", "2024").success
    assert all_rows(festival_database_url) == before
    assert outcome(festival_database_url, "cannes", 2024) == [(1, "complete")]


def test_same_category_under_two_prizes_stays_two_categories(
    dagster_instance, festival_database_url: str, simulator_url: str
) -> None:
    assert run_festival(dagster_instance, simulator_url, "venice", "2024").success
    with connection.transaction(festival_database_url) as cursor:
        cursor.execute("""SELECT c.name, count(DISTINCT c.prize_name) FROM festival_categories c
                          JOIN festival_organizations o ON o.id = c.organization_id
                          WHERE o.slug = 'venice' GROUP BY c.name HAVING count(DISTINCT c.prize_name) > 1""")
        shared_names = cursor.fetchall()
    assert shared_names, "Venice lists category texts under several prizes; each pair must be its own row"


def test_two_editions_in_one_year(dagster_instance, festival_database_url: str, simulator_url: str) -> None:
    assert run_festival(dagster_instance, simulator_url, "critics-choice", "2016").success
    assert outcome(festival_database_url, "critics-choice", 2016) == [(1, "complete"), (2, "complete")]
    for edition in (1, 2):
        assert table_truth(festival_database_url, "critics-choice", 2016, edition) == page_truth(
            simulator_url, "ev0000133", 2016, edition)


def test_edition_without_awards_is_nothing_to_import(dagster_instance, festival_database_url: str,
                                                     simulator_url: str) -> None:
    result = run_festival(dagster_instance, simulator_url, "actor-awards", "1990")
    assert result.success
    assert outcome(festival_database_url, "actor-awards", 1990) == [(1, "nothing-to-import")]
    with connection.transaction(festival_database_url) as cursor:
        cursor.execute("""SELECT count(n.id) FROM festival_ceremonies fc
                          JOIN festival_organizations o ON o.id = fc.organization_id AND o.slug = 'actor-awards'
                          LEFT JOIN festival_nominations n ON n.ceremony_id = fc.id WHERE fc.year = 1990""")
        assert cursor.fetchall() == [(0,)]  # the edition is recorded, with nothing in it


def test_year_without_edition_is_recorded_not_failed(dagster_instance, festival_database_url: str,
                                                     simulator_url: str) -> None:
    assert run_festival(dagster_instance, simulator_url, "cannes", "1942").success
    assert outcome(festival_database_url, "cannes", 1942) == [(1, "no-edition")]


def test_festival_without_winner_yet(dagster_instance, festival_database_url: str, simulator_url: str) -> None:
    assert run_festival(dagster_instance, simulator_url, "venice", "2026").success
    assert outcome(festival_database_url, "venice", 2026) == [(1, "announced-not-awarded")]

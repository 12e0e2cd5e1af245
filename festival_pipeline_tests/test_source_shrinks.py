"""Never succeed with less (issue 10), end to end: real runs against the simulator through a proxy
that edits pages so they lose data but stay well formed. Each case fails loudly, leaves the year's
rows exactly as they were and records the year `failed` with the reason; an accepted shrink lands.
"""

from __future__ import annotations

import pytest
from dagster import DagsterInstance, materialize

from festival_pipeline.assets.festivals import festival_assets
from festival_pipeline.assets.organizations import festival_organizations
from festival_pipeline.database import connection
from festival_pipeline.operations.status import festival_status
from festival_pipeline.registry import FESTIVALS_BY_SLUG, festival
from festival_pipeline_tests.conftest import RANGE_END, RANGE_START, pipeline_resources
from festival_pipeline_tests.fault_proxy import (
    by_path,
    drop_awards,
    drop_edition_list,
    edit_next_data,
    paginate,
    serve_edition,
    status,
    transform,
    zero_nominations,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


def group_assets(prefix: str) -> list:
    return [a for a in festival_assets if any(key.path[0] == prefix for key in a.keys)]


def run(instance, sites_url: str, prefix: str, first: str, last: str | None = None, run_config: dict | None = None):
    resources = pipeline_resources(sites_url, imdb_source="pages")  # the changes are the pages'; the API's are
    # in test_imdb_api_pipeline.py
    materialize([festival_organizations], instance=instance, resources=resources)
    tags = {RANGE_START: first, RANGE_END: last} if last else {}
    return materialize(group_assets(prefix), instance=instance, resources=resources, raise_on_error=False,
                       partition_key=None if last else first, tags=tags, run_config=run_config)


def rows(url: str, slug: str, year: int) -> list[tuple]:
    """The year's nomination rows with their ids and update times: "exactly as before" means these."""
    with connection.transaction(url) as cursor:
        cursor.execute(
            """SELECT n.id, n.nomination_key, n.won, n.updated_at, c.edition FROM festival_nominations n
               JOIN festival_ceremonies c ON c.id = n.ceremony_id
               JOIN festival_organizations o ON o.id = c.organization_id
               WHERE o.slug = %s AND c.year = %s ORDER BY n.id""", (slug, year))
        return cursor.fetchall()


def year_status(url: str, slug: str, year: int) -> tuple[str, str]:
    (row, *_) = festival_status(url, FESTIVALS_BY_SLUG[slug], [year])
    return row.status, row.error or ""


def failure_of(result) -> str:
    """Every failed step's error, with the errors that caused it (a failed input load wraps its cause)."""
    messages = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None:
            messages.append(error.message)
            error = error.cause
    return " ".join(messages)


@pytest.mark.parametrize("edit, why", [
    (drop_awards(), "accept_shrink"),  # the edition lists no award any more: refused as a shrink
    (zero_nominations(), "every_category_has_a_nomination"),  # every category empty
    (paginate("Palme d'Or", keep=1), "next page"),  # a category continues on a next page
    (serve_edition(2023), "expected 2024/1"),  # another edition served under this URL
])
def test_a_page_that_loses_data_fails_its_year_and_keeps_its_rows(
        edit, why, proxy, festival_database_url, instance):
    assert run(instance, proxy.url, "cannes", "2024").success
    before = rows(festival_database_url, "cannes", 2024)
    assert len(before) > 10

    proxy.plan = by_path({"/event/ev0000147/2024/1/": transform(edit)})
    result = run(instance, proxy.url, "cannes", "2024")

    assert not result.success
    assert why in failure_of(result)
    assert rows(festival_database_url, "cannes", 2024) == before
    state, error = year_status(festival_database_url, "cannes", 2024)
    assert state == "failed" and why in error


def test_a_refused_shrink_names_what_would_go_and_lands_when_accepted(proxy, festival_database_url, instance):
    assert run(instance, proxy.url, "cannes", "2024").success
    proxy.plan = by_path({"/event/ev0000147/2024/1/": transform(drop_awards())})
    refused = run(instance, proxy.url, "cannes", "2024")
    check = next(e for e in refused.get_asset_check_evaluations() if e.check_name == "no_substantial_shrink")
    assert not check.passed
    refused_2024 = check.metadata["refused"].value["2024"]
    assert refused_2024["all_removed"] and "Palme d'Or" in " ".join(refused_2024["removed_categories"])

    accept = {"ops": {"cannes_festival_tables": {"config": {"accept_shrink": True}}}}
    accepted = run(instance, proxy.url, "cannes", "2024", run_config=accept)
    assert accepted.success
    assert rows(festival_database_url, "cannes", 2024) == []
    with connection.transaction(festival_database_url) as cursor:
        cursor.execute("""SELECT count(*) FROM festival_categories c WHERE NOT EXISTS
                          (SELECT 1 FROM festival_nominations n WHERE n.category_id = c.id)""")
        assert cursor.fetchone()[0] == 0  # no orphan category left behind


@pytest.mark.parametrize("fault, why", [
    (transform(drop_edition_list()), "historyEventEditions"),  # the event page loses its edition list
    (status(403), "403"),  # the event page is blocked
])
def test_an_event_page_that_fails_fails_every_year_of_the_run(fault, why, proxy, festival_database_url, instance):
    assert run(instance, proxy.url, "cannes", "2023", "2024").success
    before = {year: rows(festival_database_url, "cannes", year) for year in (2023, 2024)}

    # the event URL redirects to the latest edition, whose page carries the edition list
    proxy.plan = by_path({"/event/ev0000147/": fault, "/event/ev0000147/2026/1/": fault})
    result = run(instance, proxy.url, "cannes", "2023", "2024")

    assert not result.success
    for year in (2023, 2024):
        assert rows(festival_database_url, "cannes", year) == before[year]
        state, error = year_status(festival_database_url, "cannes", year)
        assert state == "failed" and "edition list" in error and why in error and "ev0000147" in error


def test_an_edition_that_vanishes_from_the_source_is_refused_unless_accepted(proxy, festival_database_url, instance):
    # Critics Choice held two editions in 2016 (January and December)
    assert run(instance, proxy.url, "critics_choice", "2016").success
    assert {edition for *_, edition in rows(festival_database_url, "critics-choice", 2016)} == {1, 2}

    def without_2016_2(data: dict) -> None:
        props = data["props"]["pageProps"]
        props["historyEventEditions"] = [e for e in props["historyEventEditions"]
                                         if (e["year"], e["instanceWithinYear"]) != (2016, 2)]

    vanished = by_path({"/event/ev0000133/": transform(edit_next_data(without_2016_2)),
                        "/event/ev0000133/2026/1/": transform(edit_next_data(without_2016_2))})
    proxy.plan = vanished
    before = rows(festival_database_url, "critics-choice", 2016)
    refused = run(instance, proxy.url, "critics_choice", "2016")
    assert not refused.success and "2016/2 no longer listed by the source" in failure_of(refused)
    assert rows(festival_database_url, "critics-choice", 2016) == before

    accept = {"ops": {"critics_choice_festival_tables": {"config": {"accept_shrink": True}}}}
    assert run(instance, proxy.url, "critics_choice", "2016", run_config=accept).success
    assert {edition for *_, edition in rows(festival_database_url, "critics-choice", 2016)} == {1}
    status = festival_status(festival_database_url, festival("critics-choice"), [2016])
    assert [(row.edition, row.status) for row in status] == [(1, "complete")]  # the writer forgot 2016/2's outcome


def test_the_write_step_never_writes_a_year_whose_parse_failed(proxy, festival_database_url, instance):
    assert run(instance, proxy.url, "cannes", "2024").success
    before = rows(festival_database_url, "cannes", 2024)
    proxy.plan = by_path({"/event/ev0000147/2024/1/": transform(paginate())})
    assert not run(instance, proxy.url, "cannes", "2024").success  # the parse failed

    tables = [key for a in group_assets("cannes") for key in a.keys if key.path[-1].startswith("festival_")]
    resources = pipeline_resources(proxy.url, imdb_source="pages")
    only_tables = materialize(group_assets("cannes"), selection=tables, partition_key="2024", instance=instance,
                              resources=resources, raise_on_error=False,
                              run_config={"ops": {"cannes_festival_tables": {"config": {"use_stored_parse": True}}}})
    assert not only_tables.success  # not a success with 0 rows
    assert "latest parse failed" in failure_of(only_tables)
    assert rows(festival_database_url, "cannes", 2024) == before


def test_no_page_is_fetched_while_a_transaction_is_open(proxy, festival_database_url, instance):
    """A fetch with retries can take minutes: no idle transaction may hold a connection and locks meanwhile."""
    import threading

    import psycopg2

    from festival_pipeline_tests.fault_proxy import slow

    proxy.plan = by_path({"/event/ev0000147/2024/1/": slow(3.0)})  # the page answers after 3 s
    done = threading.Event()
    worker = threading.Thread(target=lambda: (run(instance, proxy.url, "cannes", "2024"), done.set()))
    worker.start()
    idle_in_transaction = []
    watcher = psycopg2.connect(festival_database_url)
    watcher.autocommit = True
    try:
        while not done.wait(0.2):
            with watcher.cursor() as cursor:
                cursor.execute("""SELECT pid, now() - state_change FROM pg_stat_activity
                                  WHERE datname = current_database() AND state = 'idle in transaction'
                                    AND now() - state_change > interval '1 second'""")
                idle_in_transaction += cursor.fetchall()
    finally:
        worker.join()
        watcher.close()
    assert proxy.faults_served()["slow"] >= 1  # the slow page was fetched during the run
    assert idle_in_transaction == []

"""IMDb through its GraphQL API, materialized through Dagster against the simulator (../shared):
the same rows as the pages, paged to the end, no browser behind the bot wall, refusals and errors
a user can act on, retries, provenance and a rebuild from the archive."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import AssetKey, materialize

from festival_pipeline.assets.festivals import build_festival_assets
from festival_pipeline.assets.organizations import festival_organizations
from festival_pipeline.assets.oscars import IMDB_PAGE, OSCARS_ORG_PAGE, oscars_assets
from festival_pipeline.database import connection
from festival_pipeline.operations.status import festival_status
from festival_pipeline.registry import festival
from festival_pipeline_tests.conftest import (
    SHARED,
    create_database,
    pipeline_resources,
    requires_shared,
    run_oscars,
)
from festival_pipeline_tests.fault_proxy import OK, RESET, FaultProxy, api_answers, status, transform, truncate
from festival_pipeline_tests.scripted_server import assert_paced

pytestmark = pytest.mark.integration

# editions that exercise what differs between festivals: people, two editions in a year, an edition
# without awards, a festival interrupted without winners
FESTIVAL_YEARS = (("golden-globes", "2020"), ("critics-choice", "2016"), ("actor-awards", "1990"),
                  ("cannes", "1968"))
OSCAR_YEARS = ("1930", "1931")  # IMDb's 1930/1 and 1930/2


@pytest.fixture
def simulator(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A simulator of its own (options from the test's `simulator_options` mark), and its request log."""
    requires_shared()
    sys.path.insert(0, str(SHARED))
    from festival_web import start_server

    marker = request.node.get_closest_marker("simulator_options")
    log = tmp_path / "requests.jsonl"
    url, shutdown = start_server(port=0, log=str(log), **(marker.kwargs if marker else {}))
    yield url, log
    shutdown()


def requested_paths(log: Path) -> list[str]:
    return [json.loads(line)["path"] for line in log.read_text().splitlines()] if log.exists() else []


def run_festival(instance, sites_url: str, slug: str, year: str, raise_on_error: bool = True, **sites):
    resources = pipeline_resources(sites_url, **sites)
    materialize([festival_organizations], instance=instance, resources=resources)
    return materialize(build_festival_assets(festival(slug)), partition_key=year, instance=instance,
                       resources=resources, raise_on_error=raise_on_error)


def run_everything(instance, sites_url: str, **sites) -> None:
    for slug, year in FESTIVAL_YEARS:
        assert run_festival(instance, sites_url, slug, year, **sites).success, (slug, year)
    assert run_oscars(instance, sites_url, *OSCAR_YEARS, sites_settings=sites).success


def nomination_rows(url: str) -> list[tuple]:
    """Every nomination as a user reads it: festival, edition, category, ids, names, winner, details."""
    with connection.transaction(url) as cursor:
        cursor.execute(
            """SELECT o.slug, fc.year, fc.edition, c.prize_name, c.name, c.category_type, n.nomination_key,
                      n.position, n.won, n.prize_name, n.film_title, n.film_imdb_ids, n.person_imdb_ids,
                      n.nominee_names, n.details::text
               FROM festival_nominations n
               JOIN festival_ceremonies fc ON fc.id = n.ceremony_id
               JOIN festival_organizations o ON o.id = fc.organization_id
               JOIN festival_categories c ON c.id = n.category_id
               ORDER BY 1, 2, 3, 7""")
        return cursor.fetchall()


def ceremony_sources(url: str) -> dict[tuple[str, int, int], str]:
    with connection.transaction(url) as cursor:
        cursor.execute("""SELECT o.slug, fc.year, fc.edition, fc.source_metadata ->> 'imdb_source'
                          FROM festival_ceremonies fc JOIN festival_organizations o ON o.id = fc.organization_id""")
        return {(slug, year, edition): source for slug, year, edition, source in cursor.fetchall()}


def outcome(url: str, slug: str, year: int) -> list[tuple[str, str | None]]:
    with connection.transaction(url) as cursor:
        cursor.execute("""SELECT i.status, i.error FROM import_outcomes i JOIN festival_organizations o
                          ON o.id = i.organization_id WHERE o.slug = %s AND i.year = %s ORDER BY i.edition""",
                       (slug, year))
        return cursor.fetchall()


def page_metadata(instance, key: AssetKey, year: str) -> dict:
    (event,) = [e for e in instance.fetch_materializations(key, limit=100).records
                if e.asset_materialization.partition == year][:1]
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


@pytest.mark.simulator_options(graphql_page_cap=3)
def test_the_api_paged_three_edges_at_a_time_writes_the_rows_of_the_pages(
    ephemeral_instance, festival_database_url: str, pg_server, migrated_template: str, simulator, monkeypatch
) -> None:
    """Every nomination row (ids, names, winners, categories, details) is the same whichever source,
    with the API serving at most 3 edges a request: every connection is followed to its end."""
    url, log = simulator
    run_everything(ephemeral_instance, url, imdb_source="pages")
    from_pages = nomination_rows(festival_database_url)
    assert len(from_pages) > 500
    assert "/graphql" not in requested_paths(log)

    api_database = create_database(pg_server, template=migrated_template)
    monkeypatch.setenv("FESTIVAL_DATABASE_URL", api_database)
    before = len(requested_paths(log))
    run_everything(ephemeral_instance, url, imdb_source="graphql")
    assert nomination_rows(api_database) == from_pages
    asked = requested_paths(log)[before:]
    assert not [path for path in asked if path.startswith("/event/")]
    editions = sum(1 for slug, year in FESTIVAL_YEARS for _ in range(2 if slug == "critics-choice" else 1)) + 2
    assert asked.count("/graphql") > 10 * editions  # three edges a request: many pages per edition
    assert set(ceremony_sources(api_database).values()) == {"graphql"}
    assert set(ceremony_sources(festival_database_url).values()) == {"pages"}


@pytest.mark.simulator_options(waf="imdb")
def test_behind_the_bot_wall_every_imdb_edition_imports_without_a_browser(
    ephemeral_instance, festival_database_url: str, simulator
) -> None:
    url, log = simulator
    run_everything(ephemeral_instance, url, fetcher="direct")  # no browser anywhere
    assert not [path for path in requested_paths(log) if path.startswith("/event/")]
    for slug, year in FESTIVAL_YEARS:
        assert {status for status, _ in outcome(festival_database_url, slug, int(year))} <= {
            "complete", "nothing-to-import"}, slug
    with connection.transaction(festival_database_url) as cursor:
        cursor.execute("SELECT DISTINCT source, fetcher FROM raw_pages ORDER BY 1")
        assert cursor.fetchall() == [("graphql", "graphql"), ("pages", "direct")]  # oscars.org: plain pages


def test_auto_reads_the_pages_when_the_api_refuses_and_says_so(
    ephemeral_instance, festival_database_url: str, simulator_url: str
) -> None:
    refused = {"imdb_graphql_headers": json.dumps({"x-imdb-client-name": ""})}  # IMDb answers 403 without it
    assert run_festival(ephemeral_instance, simulator_url, "cannes", "2024", **refused).success
    metadata = page_metadata(ephemeral_instance, AssetKey(["cannes", "imdb_edition_pages"]), "2024")
    assert metadata["source"] == "pages (the API refused: 403 Forbidden)"
    assert ceremony_sources(festival_database_url) == {("cannes", 2024, 1): "pages"}
    (row,) = festival_status(festival_database_url, festival("cannes"), [2024])
    assert (row.status, row.imdb_source) == ("complete", "pages")  # `festival-pipeline status` names it

    # IMDB_SOURCE=graphql never falls back: the year fails, naming the refusal and what to set
    result = run_festival(ephemeral_instance, simulator_url, "venice", "2024", raise_on_error=False,
                          imdb_source="graphql", **refused)
    assert not result.success
    ((state, error),) = outcome(festival_database_url, "venice", 2024)
    assert state == "failed" and "refused this client" in error and "IMDB_GRAPHQL_HEADERS" in error


def test_an_answer_with_errors_fails_its_year_with_the_apis_message_and_keeps_the_rows(
    ephemeral_instance, festival_database_url: str, simulator_url: str
) -> None:
    assert run_festival(ephemeral_instance, simulator_url, "cannes", "2024").success
    before = nomination_rows(festival_database_url)

    def failing_edition(answer: dict) -> dict:
        if "nominationEventEdition" not in (answer.get("data") or {}):
            return answer
        return {"data": {"nominationEventEdition": None},
                "errors": [{"message": "Awards service unavailable", "extensions": {"code": "INTERNAL"}}]}

    with FaultProxy(simulator_url, api_answers(failing_edition)) as proxy:
        result = run_festival(ephemeral_instance, proxy.url, "cannes", "2024", raise_on_error=False)
    assert not result.success
    ((state, error),) = outcome(festival_database_url, "cannes", 2024)
    assert state == "failed"
    assert "Awards service unavailable" in error and "nominationEventEdition(ee" in error
    assert nomination_rows(festival_database_url) == before  # the year's rows stay as they were


def test_an_edition_the_api_does_not_know_fails_like_a_missing_page(
    ephemeral_instance, festival_database_url: str, simulator_url: str
) -> None:
    def unknown_2024(answer: dict) -> dict:
        event = (answer.get("data") or {}).get("nominationEvent")
        for edition in (event or {}).get("editions", []):
            if edition["year"] == 2024:
                edition["id"] = "ee0000000"
        return answer

    with FaultProxy(simulator_url, api_answers(unknown_2024)) as proxy:
        result = run_festival(ephemeral_instance, proxy.url, "cannes", "2024", raise_on_error=False)
    assert not result.success
    ((state, error),) = outcome(festival_database_url, "cannes", 2024)
    assert state == "failed" and error.startswith("PageNotFound") and "knows no edition ee0000000" in error


def test_api_faults_are_retried_and_the_year_lands(
    ephemeral_instance, festival_database_url: str, simulator_url: str
) -> None:
    """503 and 429 with Retry-After, a connection reset, an answer cut short (fewer bytes than its
    Content-Length) and one cut short with a matching length (not JSON), each on an API request."""
    cut_json = transform(lambda _path, body: body[: len(body) // 2])
    faults = {0: status(503, retry_after="0"), 2: truncate(0.5), 3: status(429, retry_after="0"), 4: RESET,
              5: cut_json}

    def plan(path: str, attempt: int):
        return faults.get(attempt, OK) if path == "/graphql" else OK

    with FaultProxy(simulator_url, plan) as proxy:
        assert run_festival(ephemeral_instance, proxy.url, "cannes", "2024", max_retries=3,
                            backoff_factor=0).success
        served = proxy.faults_served()
    assert sum(count for fault, count in served.items() if fault != "ok") == len(faults)
    clean = nomination_rows(festival_database_url)
    assert run_festival(ephemeral_instance, simulator_url, "cannes", "2024").success
    assert nomination_rows(festival_database_url) == clean and len(clean) > 100


def test_the_apis_host_keeps_its_pace(ephemeral_instance, festival_database_url: str, simulator_url: str) -> None:
    with FaultProxy(simulator_url) as proxy:  # records when each request arrives
        assert run_festival(ephemeral_instance, proxy.url, "critics-choice", "2016", requests_per_second=8).success
        arrivals = [served.at for served in proxy.served if served.path == "/graphql"]
    assert len(arrivals) == 3  # the edition list, then 2016/1 and 2016/2
    assert_paced(arrivals, 1 / 8)


def test_the_archived_answers_rebuild_the_years_with_no_request(
    ephemeral_instance, festival_database_url: str, simulator
) -> None:
    url, log = simulator
    run_everything(ephemeral_instance, url)
    rows = nomination_rows(festival_database_url)
    with connection.transaction(festival_database_url) as cursor:
        cursor.execute("SELECT count(*) FROM raw_pages WHERE source = 'graphql' AND request ? 'query'")
        assert cursor.fetchone()[0] > len(FESTIVAL_YEARS)  # every answer kept with its query and variables
        cursor.execute("TRUNCATE festival_nominations, festival_ceremonies, festival_categories CASCADE")
    before = len(requested_paths(log))
    resources = pipeline_resources(url)
    page_assets = {OSCARS_ORG_PAGE, IMDB_PAGE}
    for slug, year in FESTIVAL_YEARS:
        assets = build_festival_assets(festival(slug))
        page_assets.add(assets[0].key)
        assert materialize(assets, selection=[k for a in assets for k in a.keys if k not in page_assets],
                           partition_key=year, instance=ephemeral_instance, resources=resources).success
    for year in OSCAR_YEARS:
        assert materialize(oscars_assets, selection=[k for a in oscars_assets for k in a.keys if k not in page_assets],
                           partition_key=year, instance=ephemeral_instance, resources=resources).success
    assert len(requested_paths(log)) == before  # nothing fetched
    assert nomination_rows(festival_database_url) == rows

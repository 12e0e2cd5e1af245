"""Four Oscar partition runs at once, each in its own process: 2022, 2023, 2024 and 2024 again.

They start together (a start file releases them after their imports) on a database that has the
schema but not even the organizations yet, so they also race on the registry upsert that
`organization_id` does on first use, on the shared category rows, and - the two 2024 runs - on the
same partition (advisory lock), the same parse and the same pool slots (one slot per site
pool). The pools' limit rows are created before the runs start, as every festival-pipeline command
does: Dagster's own first-use initialisation of a pool races (see the test). Expected: every run succeeds, nothing
deadlocks or times out, no organization or category exists twice, and the rows equal those of the
three years run one after the other in a second database. Every run succeeds, except that one of the
two 2024 runs may refuse to write a parse the other one stored in between (by design: a write step
writes only its own run's parse).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from dagster import DagsterRunStatus, materialize

from festival_pipeline.assets.oscars import oscars_assets
from festival_pipeline.database import connection, migrate
from festival_pipeline.pools import SITE_POOLS
from festival_pipeline.registry import FESTIVALS
from festival_pipeline_tests.conftest import create_database, pipeline_resources

pytestmark = pytest.mark.integration

YEARS = ("2022", "2023", "2024", "2024")
RUN_TIMEOUT = 150

DRIVER = textwrap.dedent(
    """
    import json, os, sys, time

    sites_url, partition, start_file, result_file = sys.argv[1:5]

    from dagster import DagsterInstance, materialize

    from festival_pipeline.assets.oscars import oscars_assets
    from festival_pipeline.definitions import code_location_resources
    from festival_pipeline.resources import SourceWebsites

    instance = DagsterInstance.get()
    # the code location's resources from the environment (the test's database), both sites at the simulator
    resources = code_location_resources()
    resources["sites"] = SourceWebsites(festival_db=resources["festival_db"], oscars_base_url=sites_url,
                                        imdb_base_url=sites_url, imdb_graphql_url=f"{sites_url}/graphql",
                                        requests_per_second=0)
    deadline = time.monotonic() + 60
    while not os.path.exists(start_file) and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.time()
    result = materialize(oscars_assets, partition_key=partition, instance=instance, resources=resources,
                         raise_on_error=False)
    errors = [str(e.event_specific_data.error.message)[:1000] for e in result.all_events
              if e.event_type_value == "STEP_FAILURE"]
    with open(result_file, "w") as handle:
        json.dump({"success": result.success, "run_id": result.run_id, "errors": errors,
                   "started": started, "seconds": time.time() - started}, handle)
    """
)


def table_values(url: str) -> dict[str, list]:
    """The Oscar rows as values (no ids, no timestamps), plus duplicate counts."""
    with connection.transaction(url) as cursor:
        out = {}
        cursor.execute("SELECT slug, name, imdb_event_id FROM festival_organizations ORDER BY slug")
        out["organizations"] = cursor.fetchall()
        cursor.execute("SELECT prize_name, name, tracks_person, category_type, metadata FROM festival_categories "
                       "ORDER BY prize_name, name")
        out["categories"] = [(*r[:4], json.dumps(r[4], sort_keys=True)) for r in cursor.fetchall()]
        cursor.execute("SELECT year, edition, ceremony_number, name, data_source FROM festival_ceremonies "
                       "ORDER BY year, edition")
        out["ceremonies"] = cursor.fetchall()
        cursor.execute(
            """SELECT c.year, n.nomination_key, n.position, n.won, k.prize_name, k.name, n.film_title,
                      n.film_imdb_ids, n.person_imdb_ids, n.nominee_names, n.details::text
               FROM festival_nominations n JOIN festival_ceremonies c ON c.id = n.ceremony_id
               JOIN festival_categories k ON k.id = n.category_id ORDER BY c.year, n.nomination_key"""
        )
        out["nominations"] = cursor.fetchall()
        cursor.execute("SELECT year, status FROM import_outcomes ORDER BY year")
        out["outcomes"] = cursor.fetchall()
        cursor.execute(
            """SELECT (SELECT count(*) - count(DISTINCT slug) FROM festival_organizations)
                    + (SELECT count(*) - count(DISTINCT name) FROM festival_organizations)
                    + (SELECT count(*) - count(DISTINCT (organization_id, prize_name, name)) FROM festival_categories)
                    + (SELECT count(*) - count(DISTINCT (organization_id, year, edition)) FROM festival_ceremonies)
                    + (SELECT count(*) - count(DISTINCT (ceremony_id, nomination_key)) FROM festival_nominations)"""
        )
        out["duplicates"] = cursor.fetchone()[0]
    return out


def test_four_concurrent_partition_runs_equal_a_sequential_run(
    dagster_instance, festival_database_url: str, pg_server, simulator_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the pools' limit rows exist already: instance_home.prepare() (run by the fixture, as by every
    # festival-pipeline command) creates them, so runs starting together do not race on that insert
    # (Dagster's own first-use initialisation fails on PostgreSQL for all but one: dagster-io/dagster#33552)
    assert set(SITE_POOLS) <= set(dagster_instance.event_log_storage.get_concurrency_keys())
    script = tmp_path / "concurrent_driver.py"
    script.write_text(DRIVER)
    start_file = tmp_path / "go"
    processes = []
    logs = []
    try:
        for i, year in enumerate(YEARS):
            log = (tmp_path / f"run-{i}-{year}.log").open("w")
            logs.append(log)
            processes.append(subprocess.Popen(
                [sys.executable, str(script), simulator_url, year, str(start_file), str(tmp_path / f"result-{i}.json")],
                env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            ))
        time.sleep(1.0)
        start_file.write_text("go")
        deadline = time.monotonic() + RUN_TIMEOUT
        while time.monotonic() < deadline and any(p.poll() is None for p in processes):
            time.sleep(0.2)
        hung = [YEARS[i] for i, p in enumerate(processes) if p.poll() is None]
    finally:
        for p in processes:
            if p.poll() is None:
                os.killpg(p.pid, 9)
            p.wait(timeout=30)
        for log in logs:
            log.close()
    assert not hung, f"runs still going after {RUN_TIMEOUT} s (deadlock or pool wait?): {hung}"
    results = []
    for i, p in enumerate(processes):
        result_file = tmp_path / f"result-{i}.json"
        assert p.returncode == 0 and result_file.exists(), (tmp_path / f"run-{i}-{YEARS[i]}.log").read_text()[-3000:]
        results.append(json.loads(result_file.read_text()))
    failed = {i: r["errors"] for i, r in enumerate(results) if not r["success"]}
    # the two 2024 runs overlap: when one stored its parse between the other's parse and write, the
    # other's write refuses a parse it did not make (it never writes another run's data); at most one
    # of them can be refused, and nothing else may fail
    assert set(failed) <= {2, 3} and len(failed) <= 1, failed
    for errors in failed.values():
        assert len(errors) == 1 and "the stored parse of 2024 was made by run" in errors[0], errors
    for i, r in enumerate(results):
        expected = DagsterRunStatus.FAILURE if i in failed else DagsterRunStatus.SUCCESS
        assert dagster_instance.get_run_by_id(r["run_id"]).status == expected
    assert max(r["started"] for r in results) - min(r["started"] for r in results) < 2.0  # they did overlap

    concurrent = table_values(festival_database_url)
    if failed:  # the refused run's outcome may be the last one recorded for 2024
        assert [status for year, status in concurrent["outcomes"] if year == 2024] in (["complete"], ["failed"])
        concurrent["outcomes"] = [(year, "complete" if year == 2024 else status)
                                  for year, status in concurrent["outcomes"]]
    assert concurrent["duplicates"] == 0
    assert len(concurrent["organizations"]) == len(FESTIVALS)

    sequential_db = create_database(pg_server)
    migrate.upgrade(sequential_db)
    monkeypatch.setenv("FESTIVAL_DATABASE_URL", sequential_db)
    resources = pipeline_resources(simulator_url)  # now on the sequential database
    for year in sorted(set(YEARS)):
        assert materialize(oscars_assets, partition_key=year, instance=dagster_instance, resources=resources).success
    assert table_values(sequential_db) == concurrent


def test_first_use_of_the_registry_from_many_sessions_at_once(festival_database_url: str) -> None:
    """8 sessions call organization_id() on an empty registry at the same instant, round after round."""
    import threading

    import psycopg2

    from festival_pipeline.database.organizations import organization_id

    sessions = [psycopg2.connect(festival_database_url) for _ in range(8)]
    errors: list[str] = []
    try:
        deadline = time.monotonic() + 20
        rounds = 0
        while time.monotonic() < deadline and not errors and rounds < 2000:
            with sessions[0], sessions[0].cursor() as cursor:
                cursor.execute("DELETE FROM festival_organizations")
            barrier = threading.Barrier(len(sessions))

            def first_use(session, barrier: threading.Barrier) -> None:
                try:
                    with session, session.cursor() as cursor:
                        barrier.wait(timeout=10)
                        organization_id(cursor, "academy-awards")
                except Exception as exc:
                    errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")

            threads = [threading.Thread(target=first_use, args=(s, barrier)) for s in sessions]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            rounds += 1
    finally:
        for session in sessions:
            session.close()
    assert not errors, f"round {rounds}: {errors[:3]}"
    with connection.transaction(festival_database_url) as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT slug) FROM festival_organizations")
        assert cursor.fetchone() == (len(FESTIVALS), len(FESTIVALS))


def test_pool_limits_exist_before_the_first_run(dagster_instance) -> None:
    """`festival-pipeline dev | serve | backfill | dagster` run prepare(); runs may then start four at a time."""
    storage = dagster_instance.event_log_storage
    assert set(SITE_POOLS) <= set(storage.get_concurrency_keys())
    for pool in SITE_POOLS:
        info = storage.get_concurrency_info(pool)
        assert (info.slot_count, info.using_default_limit) == (2, False), info  # created, not first-used


def test_a_new_home_on_the_same_database_keeps_an_operators_pool_limit(
        dagster_instance, tmp_path: Path) -> None:
    """A container started with a fresh DAGSTER_HOME must not reset a limit set in the UI."""
    from festival_pipeline import settings
    from festival_pipeline.runtime import instance_home

    dagster_instance.event_log_storage.set_concurrency_slots("imdb.com", 3)  # as the UI's pool page does
    fresh_home = tmp_path / "another_home"
    environ = {name: value for name, value in os.environ.items() if name != "DAGSTER_HOME"}
    environment = instance_home.prepare(settings.database_settings(), fresh_home, environ)
    assert environment.dagster_home == fresh_home / "dagster_home"
    storage = dagster_instance.event_log_storage
    assert storage.get_concurrency_info("imdb.com").slot_count == 3
    assert storage.get_concurrency_info("oscars.org").slot_count == 2
    assert (environment.dagster_home / instance_home.POOLS_MARKER).exists()


def test_services_starting_together_on_a_new_database_all_find_the_pools(
        festival_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment's three services prepare the same new Dagster database at once: none may fail
    on the race to create the site pools, and each pool ends with its limit (2)."""
    from concurrent.futures import ThreadPoolExecutor

    from dagster import DagsterInstance

    from festival_pipeline import settings
    from festival_pipeline.runtime import instance_home

    environ = {name: value for name, value in os.environ.items() if name != "DAGSTER_HOME"}
    homes = [tmp_path / f"service-{n}" for n in range(3)]
    with ThreadPoolExecutor(len(homes)) as pool:
        environments = list(pool.map(
            lambda home: instance_home.prepare(settings.database_settings(), home, environ), homes))
    for environment in environments:
        assert (environment.dagster_home / instance_home.POOLS_MARKER).exists()
    monkeypatch.setenv(instance_home.PG_URL_VARIABLE, environments[0].env[instance_home.PG_URL_VARIABLE])
    with DagsterInstance.from_config(str(environments[0].dagster_home)) as instance:
        storage = instance.event_log_storage
        limit = instance_home.pool_limit(environments[0].dagster_home)
        assert [storage.get_concurrency_info(p).slot_count for p in SITE_POOLS] == [limit] * len(SITE_POOLS)

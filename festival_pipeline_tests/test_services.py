"""Outgrowing one machine (issue 13): the three Dagster services as separate processes on one
PostgreSQL — `festival-pipeline serve code-server`, `serve webserver`, `serve daemon` — run an Oscar
backfill and a Cannes backfill launched through the webserver's GraphQL API side by side; the rows
land, IMDb is never asked faster than its rate although the two runs' IMDb steps may fetch at once
(pool limit 2; the pace is kept in the festival database), and SIGTERM stops each service with
nothing left behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterInstance, RunsFilter

from festival_pipeline import settings
from festival_pipeline.database import connection
from festival_pipeline.operations import plan
from festival_pipeline.operations.backfill import backfill_partitions
from festival_pipeline.operations.dagster_api import DagsterApi
from festival_pipeline.runtime import instance_home
from festival_pipeline.runtime.services import free_port, wait_for_webserver
from festival_pipeline.sources.rate_limit import PACE_SCHEMA, pace_table
from festival_pipeline_tests.conftest import create_database, sites_env, stop_on_sigterm
from festival_pipeline_tests.fault_proxy import FaultProxy
from festival_pipeline_tests.scripted_server import assert_paced

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

CLI = str(Path(sys.executable).with_name("festival-pipeline"))
IMDB_FETCH_STEPS = {"oscars__imdb_edition_page", "cannes__imdb_edition_pages"}
RATE = 4  # requests per second per site: a request every 250 ms


def start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen([CLI, *args], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def nominations_by_year(url: str, slug: str) -> dict[int, int]:
    with connection.transaction(url) as cursor:
        cursor.execute(
            """SELECT c.year, count(n.id) FROM festival_ceremonies c
               JOIN festival_organizations o ON o.id = c.organization_id AND o.slug = %s
               LEFT JOIN festival_nominations n ON n.ceremony_id = c.id GROUP BY c.year ORDER BY c.year""",
            (slug,))
        return dict(cursor.fetchall())


def step_windows(instance: DagsterInstance, steps: set[str]) -> list[tuple[float, float, str]]:
    """(start, end, step) of every step in `steps` of every run, from the event log."""
    windows = []
    for run in instance.get_runs(filters=RunsFilter()):
        starts: dict[str, float] = {}
        for event in instance.all_logs(run.run_id, of_type={DagsterEventType.STEP_START,
                                                            DagsterEventType.STEP_SUCCESS,
                                                            DagsterEventType.STEP_FAILURE}):
            if event.step_key not in steps:
                continue
            if event.dagster_event.event_type == DagsterEventType.STEP_START:
                starts[event.step_key] = event.timestamp
            else:
                windows.append((starts.pop(event.step_key), event.timestamp, f"{run.run_id[:8]}:{event.step_key}"))
    return sorted(windows)


def test_three_services_on_one_postgresql_run_two_backfills_at_one_pace_per_site(pg_server, simulator_url, tmp_path):
    url = create_database(pg_server, "services")
    home = tmp_path / "home"
    sites = FaultProxy(simulator_url)  # records when each request arrives
    env = {**os.environ, "FESTIVAL_DATABASE_URL": url, "FESTIVAL_PIPELINE_HOME": str(home),
           **sites_env(sites.url),
           # fast enough for a test, slow enough that the two IMDb fetch steps overlap
           "FESTIVAL_HTTP_REQUESTS_PER_SECOND": str(RATE)}
    code_port, web_port = free_port(), free_port()
    services = {
        "code server": start(env, tmp_path / "code-server.log", "serve", "code-server", "--port", str(code_port)),
        "webserver": start(env, tmp_path / "webserver.log", "serve", "webserver", "--code-server",
                           f"127.0.0.1:{code_port}", "--port", str(web_port)),
        "daemon": start(env, tmp_path / "daemon.log", "serve", "daemon", "--code-server", f"127.0.0.1:{code_port}"),
    }
    prepared = instance_home.prepare(settings.database_settings(env), home, env)
    os.environ[instance_home.PG_URL_VARIABLE] = prepared.env[instance_home.PG_URL_VARIABLE]
    instance = DagsterInstance.from_config(str(prepared.dagster_home))
    web_url = f"http://127.0.0.1:{web_port}"
    try:
        wait_for_webserver(web_url, None, timeout=180)
        api = DagsterApi(web_url)
        launched = [api.launch_backfill(backfill_partitions(api.asset_nodes(), plan(festival, "2020-2024")), tags={},
                                        title=f"{festival} from the three-service test")
                    for festival in ("oscars", "cannes")]
        deadline = time.monotonic() + 600
        states = [api.backfill(backfill_id) for backfill_id in launched]
        while not all(state.final for state in states) and time.monotonic() < deadline:
            for name, process in services.items():
                assert process.poll() is None, f"the {name} exited: " + (tmp_path / f"{name}.log").read_text()[-2000:]
            time.sleep(2)
            states = [api.backfill(backfill_id) for backfill_id in launched]
        assert [state.status for state in states] == ["COMPLETED_SUCCESS", "COMPLETED_SUCCESS"], states

        oscars = nominations_by_year(url, "academy-awards")
        assert sorted(oscars) == [2020, 2021, 2022, 2023, 2024] and min(oscars.values()) > 100
        cannes = nominations_by_year(url, "cannes")
        assert sorted(cannes) == [2020, 2021, 2022, 2023, 2024] and min(cannes.values()) > 0

        assert {step.split(":")[1] for _, _, step in step_windows(instance, IMDB_FETCH_STEPS)} == IMDB_FETCH_STEPS
        # IMDb (its API: the one host the simulator serves it on here) asked at RATE in all, whichever
        # run's step asked
        imdb = [served.at for served in sites.served if served.path == "/graphql"]
        assert len(imdb) >= 10
        assert_paced(imdb, 1 / RATE)
        with connection.transaction(url) as cursor:  # the pace every step shared
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL",
                           (f"{PACE_SCHEMA}.ratelimit___{pace_table('127.0.0.1')}",))
            assert cursor.fetchone() == (True,)
    finally:
        sites.close()
        instance.dispose()
        # clients first, as Compose stops services that depend on another: a code server stopped
        # while its clients still call it waits for their calls (Dagster's grace: up to 60 s)
        problems = [problem for name in ("daemon", "webserver", "code server")
                    if (problem := stop_on_sigterm(name, services[name]))]
        assert not problems, problems


"""A killed run never wedges the pipeline (issue 14).

kill -9 of a `festival-pipeline backfill`'s whole process group — the command, the code server,
webserver and daemon it started, the run workers and their steps — while a run fetches or writes,
then the same command again: it ends the dead run, frees its pool slots, and completes by itself
within the time of an uninterrupted run plus a minute, with exactly the rows of an uninterrupted run.
The same with `festival-pipeline dev` running and the backfill launched through the webserver's
GraphQL API (as the UI does), when the run's worker processes are killed: the `end_dead_runs` sensor
ends the run and a relaunch completes.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from festival_pipeline import settings
from festival_pipeline.database import connection
from festival_pipeline.executor import PID_TAG
from festival_pipeline.operations import plan
from festival_pipeline.operations.backfill import backfill_partitions
from festival_pipeline.operations.dagster_api import DagsterApi
from festival_pipeline.pools import SITE_POOLS
from festival_pipeline.runtime import instance_home
from festival_pipeline.runtime.services import free_port
from festival_pipeline_tests.conftest import create_database, sites_env

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]

CLI = str(Path(sys.executable).with_name("festival-pipeline"))
YEARS = "2010-2024"
FETCH_STEPS = ("oscars__oscars_org_ceremony_page", "oscars__imdb_edition_page")
WRITE_STEP = "oscars_festival_tables"


def environment(database_url: str, home: Path, sites_url: str) -> dict[str, str]:
    return {**os.environ, "FESTIVAL_DATABASE_URL": database_url, "FESTIVAL_PIPELINE_HOME": str(home),
            **sites_env(sites_url),
            # slow enough that a kill lands inside a fetch step: 15 years at 4 pages/s per site
            "FESTIVAL_HTTP_REQUESTS_PER_SECOND": "4"}


def fingerprint(database_url: str) -> list[tuple]:
    """The Oscar rows as comparable values (no ids, no timestamps)."""
    with connection.transaction(database_url) as cursor:
        cursor.execute(
            """SELECT c.year, c.edition, n.nomination_key, n.position, n.won, k.prize_name, k.name, n.film_title,
                      n.film_imdb_ids, n.person_imdb_ids, n.nominee_names
               FROM festival_nominations n JOIN festival_ceremonies c ON c.id = n.ceremony_id
               JOIN festival_categories k ON k.id = n.category_id ORDER BY 1, 2, 3""")
        return cursor.fetchall()


def start(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen:
    """A command in a process group of its own (as a terminal would run it)."""
    with log.open("w") as out:
        return subprocess.Popen([CLI, *args], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def instance_for(env: dict[str, str]) -> DagsterInstance:
    prepared = instance_home.prepare(settings.database_settings(env), Path(env["FESTIVAL_PIPELINE_HOME"]), env)
    os.environ[instance_home.PG_URL_VARIABLE] = prepared.env[instance_home.PG_URL_VARIABLE]
    return DagsterInstance.from_config(str(prepared.dagster_home))


def wait_for_step(instance: DagsterInstance, steps: tuple[str, ...], timeout: float = 240) -> str:
    """The id of a started run once one of `steps` has started in it (and not finished)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED])):
            started = {e.step_key for e in instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_START)}
            ended = {e.step_key for e in instance.all_logs(
                run.run_id, of_type={DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE})}
            if any(step in started - ended for step in steps):
                return run.run_id
        time.sleep(0.2)
    raise AssertionError(f"no run reached {steps} within {timeout} s")


def kill_group(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_to_end(env: dict[str, str], log: Path, timeout: float) -> tuple[int, float]:
    started = time.monotonic()
    process = start(env, "backfill", "oscars", "--years", YEARS, log=log)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        raise AssertionError(f"the rerun did not finish within {timeout:.0f} s; see {log}:\n"
                             + log.read_text()[-3000:]) from None
    return code, time.monotonic() - started


@pytest.fixture(scope="module")
def reference(pg_server, simulator_url, tmp_path_factory) -> Iterator[tuple[list[tuple], float]]:
    """The rows and the duration of an uninterrupted `festival-pipeline backfill oscars --years YEARS`."""
    url = create_database(pg_server, "reference")
    home = tmp_path_factory.mktemp("reference_home")
    code, seconds = run_to_end(environment(url, home, simulator_url), home / "backfill.log", timeout=900)
    assert code == 0, (home / "backfill.log").read_text()[-3000:]
    rows = fingerprint(url)
    assert len(rows) > 1000
    yield rows, seconds


@pytest.mark.parametrize("moment, steps", [("fetching", FETCH_STEPS), ("writing", (WRITE_STEP,))])
def test_kill_9_of_a_cli_backfill_then_the_same_command_completes_with_the_same_rows(
        moment, steps, reference, pg_server, simulator_url, tmp_path):
    expected_rows, uninterrupted = reference
    url = create_database(pg_server, "killed")
    home = tmp_path / "home"
    env = environment(url, home, simulator_url)
    instance = instance_for(env)
    try:
        first = start(env, "backfill", "oscars", "--years", YEARS, log=tmp_path / "first.log")
        killed_run = wait_for_step(instance, steps)
        kill_group(first)
        assert instance.get_run_by_id(killed_run).status == DagsterRunStatus.STARTED  # what used to wedge

        code, seconds = run_to_end(env, tmp_path / "rerun.log", timeout=uninterrupted + 60)
        output = (tmp_path / "rerun.log").read_text()
        assert code == 0, output[-3000:]
        assert f"ended run {killed_run[:8]}" in output  # it said what it did about the dead run
        assert seconds <= uninterrupted + 60
        assert fingerprint(url) == expected_rows
        dead = instance.get_run_by_id(killed_run)
        assert dead.status == DagsterRunStatus.FAILURE
        failure = next(iter(instance.all_logs(killed_run, of_type=DagsterEventType.RUN_FAILURE)))
        assert "its process died" in failure.message
        status = subprocess.run([CLI, "status", "--festival", "oscars", "--years", YEARS, "--format", "json"],
                                env=env, capture_output=True, text=True, timeout=120)
        assert status.returncode == 0 and '"failed"' not in status.stdout
    finally:
        instance.dispose()


def test_with_dev_running_a_killed_run_worker_is_ended_and_a_relaunch_completes(
        reference, pg_server, simulator_url, tmp_path):
    expected_rows, uninterrupted = reference
    url = create_database(pg_server, "dev")
    home = tmp_path / "home"
    env = environment(url, home, simulator_url)
    instance = instance_for(env)
    port = free_port()
    dev = start(env, "dev", "--port", str(port), log=tmp_path / "dev.log")
    api = DagsterApi(f"http://127.0.0.1:{port}")
    try:
        _wait_for_webserver(api, dev, tmp_path / "dev.log")
        targets = plan("oscars", YEARS)
        for pool in SITE_POOLS:  # one slot per site: a slot the dead run kept would block the relaunch
            instance.event_log_storage.set_concurrency_slots(pool, 1)
        api.launch_backfill(backfill_partitions(api.asset_nodes(), targets), tags={}, title="launched as from the UI")
        run_id = wait_for_step(instance, FETCH_STEPS, timeout=300)
        worker = int(instance.get_run_by_id(run_id).tags[PID_TAG])
        _kill_tree(worker)  # the run's worker and the steps it runs, as a crashed machine or docker kill would

        # without anyone doing anything, `status` shows the run's years failed with the reason
        died = _wait_for_failed_years(env, run_id, timeout=120)
        assert len(died) == len(plan("oscars", YEARS)[0].keys), died
        assert all(row["rows_written"] is None for row in died)  # nothing was written before; nothing now

        started = time.monotonic()
        api.launch_backfill(backfill_partitions(api.asset_nodes(), targets), tags={}, title="relaunched")
        deadline = started + uninterrupted + 60 + 30  # + up to 30 s for the daemon to see a new backfill
        while time.monotonic() < deadline:
            if fingerprint(url) == expected_rows and not instance.get_runs(
                    filters=RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.QUEUED,
                                                 DagsterRunStatus.STARTING])):
                break
            time.sleep(2)
        assert fingerprint(url) == expected_rows, (tmp_path / "dev.log").read_text()[-3000:]
        # ended: by the end_dead_runs sensor, or first by dev's code server, whose child the worker was
        assert instance.get_run_by_id(run_id).status == DagsterRunStatus.FAILURE
    finally:
        dev.send_signal(signal.SIGTERM)
        try:
            dev.wait(timeout=60)
        except subprocess.TimeoutExpired:
            kill_group(dev)
        instance.dispose()


def _wait_for_failed_years(env: dict[str, str], run_id: str, timeout: float) -> list[dict]:
    """The status rows failed by the run (once the sensors have recorded its death), with a reason."""
    deadline = time.monotonic() + timeout
    while True:
        status = subprocess.run([CLI, "status", "--festival", "oscars", "--years", YEARS, "--format", "json"],
                                env=env, capture_output=True, text=True, timeout=120)
        assert status.returncode == 0, status.stderr[-3000:]
        failed = [row for row in json.loads(status.stdout) if row["run_id"] == run_id and row["status"] == "failed"]
        if failed or time.monotonic() > deadline:
            assert failed and all(row["error"] for row in failed), status.stdout[-3000:]
            return failed
        time.sleep(3)


def _wait_for_webserver(api: DagsterApi, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            entries = api.query("{ workspaceOrError { ... on Workspace { locationEntries { loadStatus "
                                "locationOrLoadError { __typename } } } } }")["workspaceOrError"]["locationEntries"]
            if entries and all(e["locationOrLoadError"]["__typename"] == "RepositoryLocation" for e in entries):
                return
        except Exception:
            pass
        time.sleep(0.5)
    raise AssertionError("festival-pipeline dev did not come up: " + log.read_text()[-3000:])


def _kill_tree(pid: int) -> None:
    root = psutil.Process(pid)
    for process in [*root.children(recursive=True), root]:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()

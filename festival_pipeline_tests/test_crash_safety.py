"""kill -9 in the middle of a run: the partition keeps its previous rows, the dead run is ended, the
next run completes it.

A driver script (written to a temp folder, run as a subprocess) imports the product unchanged and
runs the Oscar job as the daemon does (`execute_job`, the job's own step executor, resources from the
environment). It wraps one function at run time - no product code is edited - in every step process
(the steps reconstruct the job from the driver file, so they import it too):

* ``write``: ``write_year`` is wrapped so that, after it has replaced the year in the tables (upserts
  *and* the DELETE of rows the source no longer lists) and *before* the write step commits, the
  step reports its PostgreSQL backend pid and sleeps. The test checks the transaction is open
  (``idle in transaction``, the partition's advisory lock held, other sessions still see the old
  rows), then SIGKILLs the process group.
* ``fetch``: ``page_store.PageStore.fetch`` is wrapped to sleep inside the oscars.org fetch step,
  i.e. while the run holds the only slot of the ``oscars.org`` pool.

Previous rows come from the simulator's pre-ceremony pages (``pre_ceremony="2024"``: nominations
without winners); the killed run writes the awarded ceremony. After the kill the partition shows
exactly the pre-ceremony rows (same ids, values, updated_at); a normal rerun writes the winners.

Dagster side: a run whose worker is SIGKILLed stays STARTED (the default run launcher has no worker
health check) and keeps its pool slot. The step executor records the worker's process in the run's
tags, so `festival_pipeline.runtime.dead_runs.end_dead_runs` ends it ("its process died"), and the next
`festival-pipeline backfill` does that first and frees the slot, then completes by itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterRunStatus

from festival_pipeline.database import connection
from festival_pipeline.operations.status import festival_status
from festival_pipeline.registry import ACADEMY_AWARDS_SLUG, festival
from festival_pipeline.runtime.dead_runs import DeadRun, end_dead_runs, record_outcomes
from festival_pipeline_tests.conftest import requires_shared, run_oscars, sites_env

pytestmark = pytest.mark.integration

PARTITION = "2024"
PAUSE_SECONDS = 90
RERUN_TIMEOUT = 300  # the rerun completes by itself (a dead run's slot would make it wait forever)
CLI = str(Path(sys.executable).with_name("festival-pipeline"))

DRIVER = textwrap.dedent(
    """
    import json, os, sys, time

    import festival_pipeline.database.year_writes as year_writes
    import festival_pipeline.sources.page_store as page_store

    # this module is imported again in every step process (the job is reconstructed from this file),
    # so the wrappers below are in place where the steps run
    MARKER, PAUSE_IN = os.environ["CRASH_MARKER"], os.environ["CRASH_PAUSE_IN"]

    def report(**facts):
        with open(MARKER + ".tmp", "w") as handle:
            json.dump({"pid": os.getpid(), **facts}, handle)
        os.replace(MARKER + ".tmp", MARKER)
        time.sleep(float(os.environ.get("CRASH_PAUSE_SECONDS", "90")))

    if PAUSE_IN == "write":
        real_write_year = year_writes.write_year

        def write_then_pause(cursor, slug, year, records, **kwargs):
            result = real_write_year(cursor, slug, year, records, **kwargs)
            cursor.execute("SELECT pg_backend_pid()")
            report(backend_pid=cursor.fetchone()[0], nominations=sum(e.nominations for e in result.editions),
                   winners=sum(n.won for record in records for n in record.nominations))
            return result

        year_writes.write_year = write_then_pause  # the name write_and_record calls
    elif PAUSE_IN == "fetch":
        real_fetch = page_store.PageStore.fetch

        def fetch_then_pause(self, fetch, **stored):
            page = real_fetch(self, fetch, **stored)
            if "/oscars/ceremonies/" in page.url:
                report(url=page.url)
            return page

        page_store.PageStore.fetch = fetch_then_pause


    def oscars_job():
        from festival_pipeline.definitions import defs

        return defs.resolve_job_def("oscars_job")


    if __name__ == "__main__":
        from dagster import DagsterInstance, execute_job, reconstructable

        # the job as the daemon runs it: its own step executor (which records this worker process),
        # resources from the environment (the test's database, the sites)
        with DagsterInstance.get() as instance:
            result = execute_job(reconstructable(oscars_job), instance=instance,
                                 tags={"dagster/partition": sys.argv[1]})
        print("driver finished without being killed:", result.success, flush=True)
    """
)


def partition_rows(url: str, year: int) -> list[tuple]:
    with connection.transaction(url) as cursor:
        cursor.execute(
            """SELECT n.id, n.nomination_key, n.won, n.category_id, n.film_imdb_ids, n.person_imdb_ids,
                      n.nominee_names, n.details, n.updated_at
               FROM festival_nominations n JOIN festival_ceremonies c ON c.id = n.ceremony_id
               WHERE c.year = %s ORDER BY n.id""",
            (year,),
        )
        nominations = cursor.fetchall()
        cursor.execute("SELECT id, data, updated_at, scraped_at FROM festival_ceremonies WHERE year = %s", (year,))
        ceremony = cursor.fetchall()
        cursor.execute("SELECT status, details FROM import_outcomes WHERE year = %s", (year,))
        return nominations + ceremony + cursor.fetchall()


def backend(url: str, pid: int) -> tuple[str, int] | None:
    """(state, advisory locks held) of a PostgreSQL backend, or None when it is gone."""
    with connection.transaction(url) as cursor:
        cursor.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,))
        row = cursor.fetchone()
        if row is None:
            return None
        cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND locktype = 'advisory' AND granted", (pid,))
        return row[0], cursor.fetchone()[0]


class Driver:
    """The driver script in its own process group, SIGKILLed as a whole."""

    def __init__(self, tmp_path: Path, sites_url: str, pause_in: str) -> None:
        script = tmp_path / "crash_driver.py"
        script.write_text(DRIVER)
        self.marker = tmp_path / f"paused-{pause_in}.json"  # "none": a plain run, never pauses
        self.log = (tmp_path / f"driver-{pause_in}.log").open("w")
        env = {**os.environ, "CRASH_PAUSE_SECONDS": str(PAUSE_SECONDS), "CRASH_MARKER": str(self.marker),
               "CRASH_PAUSE_IN": pause_in, **sites_env(sites_url)}
        self.process = subprocess.Popen(
            [sys.executable, str(script), PARTITION],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_until_paused(self, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.marker.exists():
                return json.loads(self.marker.read_text())
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.kill()
        log = Path(self.log.name).read_text()[-3000:]
        raise AssertionError(f"the driver never paused (exit {self.process.returncode}):\n{log}")

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()


def wait_for(predicate, timeout: float = 20, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


@pytest.fixture
def pre_ceremony_url(simulator_url: str):
    requires_shared()
    from festival_web import start_server

    url, shutdown = start_server(port=0, pre_ceremony=PARTITION)
    yield url
    shutdown()


def test_kill_9_inside_the_write_transaction_keeps_previous_rows(
    dagster_instance, festival_database_url: str, simulator_url: str, pre_ceremony_url: str,
    tmp_path: Path,
) -> None:
    assert run_oscars(dagster_instance, pre_ceremony_url, PARTITION).success
    before = partition_rows(festival_database_url, int(PARTITION))
    assert before and not any(row[2] for row in before if len(row) == 9)  # announced, no winner yet

    driver = Driver(tmp_path, simulator_url, "write")
    try:
        paused = driver.wait_until_paused()
        assert paused["winners"] > 0 and paused["nominations"] > 0
        # mid-transaction: the write is done but not committed; others still see the old rows
        state = backend(festival_database_url, paused["backend_pid"])
        assert state is not None and state[0] == "idle in transaction" and state[1] >= 1, state
        assert partition_rows(festival_database_url, int(PARTITION)) == before
    finally:
        driver.kill()
    assert driver.process.returncode == -signal.SIGKILL
    assert wait_for(lambda: backend(festival_database_url, paused["backend_pid"]) is None), "backend survived"

    assert partition_rows(festival_database_url, int(PARTITION)) == before  # rolled back, nothing half-written
    killed = dagster_instance.get_runs(limit=1)[0]
    assert killed.job_name == "oscars_job" and killed.status == DagsterRunStatus.STARTED  # Dagster cannot tell
    ended = end_dead_runs(dagster_instance)
    assert_ended_as_dead(dagster_instance, killed.run_id, ended)
    assert ended[0].years == {ACADEMY_AWARDS_SLUG: [int(PARTITION)]}

    # `festival-pipeline status` shows the year failed with the reason; its rows are the last good run's
    record_outcomes(lambda: connection.transaction(festival_database_url), ended)
    (row,) = festival_status(festival_database_url, festival(ACADEMY_AWARDS_SLUG), [int(PARTITION)])
    assert row.status == "failed" and "its process died" in (row.error or "") and row.run_id == killed.run_id
    after_death = partition_rows(festival_database_url, int(PARTITION))
    assert after_death[:-1] == before[:-1] and after_death[-1][1] == before[-1][1]  # same rows, same counts
    assert row.rows_written == row.rows_listed == before[-1][1]["nominations"]

    assert run_oscars(dagster_instance, simulator_url, PARTITION).success  # the next run completes the partition
    after = partition_rows(festival_database_url, int(PARTITION))
    nominations_before = [row for row in before if len(row) == 9]
    nominations_after = [row for row in after if len(row) == 9]
    assert [r[0] for r in nominations_after] == [r[0] for r in nominations_before]  # same rows, same ids
    assert sum(r[2] for r in nominations_after) == paused["winners"]
    assert after[-1][0] == "complete"

    # the daemon's failure sensor may record the dead run late, after the rerun landed: that stays
    record_outcomes(lambda: connection.transaction(festival_database_url), ended)
    assert partition_rows(festival_database_url, int(PARTITION))[-1][0] == "complete"


def assert_ended_as_dead(instance, run_id: str, ended: list[DeadRun]) -> None:
    """The run was ended by festival_pipeline.runtime.dead_runs: failed, saying its process died."""
    assert [dead.run_id for dead in ended] == [run_id]
    assert "its process died" in ended[0].reason
    assert instance.get_run_by_id(run_id).status == DagsterRunStatus.FAILURE
    (failure,) = instance.all_logs(run_id, of_type=DagsterEventType.RUN_FAILURE)
    assert "its process died" in failure.message


def test_kill_9_inside_a_pool_step_the_next_backfill_ends_the_run_frees_its_slot_and_completes(
    dagster_instance, festival_database_url: str, simulator_url: str, tmp_path: Path,
) -> None:
    assert run_oscars(dagster_instance, simulator_url, PARTITION).success
    before = partition_rows(festival_database_url, int(PARTITION))

    driver = Driver(tmp_path, simulator_url, "fetch")
    try:
        driver.wait_until_paused()
        killed = dagster_instance.get_runs(limit=1)[0]
        assert killed.run_id in dagster_instance.event_log_storage.get_concurrency_run_ids()
    finally:
        driver.kill()
    storage = dagster_instance.event_log_storage
    info = storage.get_concurrency_info("oscars.org")
    # the dead run still holds an oscars.org slot, and Dagster still thinks it is running: with as many
    # dead runs as the pool has slots, a run that needs oscars.org would wait forever
    assert info.slot_count == 2 and killed.run_id in {slot.run_id for slot in info.claimed_slots}, info
    assert dagster_instance.get_run_by_id(killed.run_id).status == DagsterRunStatus.STARTED
    assert partition_rows(festival_database_url, int(PARTITION)) == before

    # the next `festival-pipeline backfill` ends the dead run, frees its slot and completes by itself
    env = {**os.environ, **sites_env(simulator_url)}
    rerun = subprocess.run([CLI, "backfill", "oscars", "--years", PARTITION], env=env, capture_output=True,
                           text=True, timeout=RERUN_TIMEOUT)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    printed = " ".join(rerun.stdout.split())
    assert f"ended run {killed.run_id[:8]} of oscars_job: its process died" in printed, printed
    assert dagster_instance.get_run_by_id(killed.run_id).status == DagsterRunStatus.FAILURE
    (failure,) = dagster_instance.all_logs(killed.run_id, of_type=DagsterEventType.RUN_FAILURE)
    assert "its process died" in failure.message
    assert killed.run_id not in storage.get_concurrency_run_ids()
    assert not storage.get_concurrency_info("oscars.org").claimed_slots
    (backfill,) = dagster_instance.get_backfills()
    assert backfill.status.value == "COMPLETED_SUCCESS"  # under Overview → Backfills
    # the rerun found the year unchanged: the same rows, untouched
    assert [r[:8] for r in partition_rows(festival_database_url, int(PARTITION))[:-2]] == [
        r[:8] for r in before[:-2]]

"""kill -9 in the middle of a run: the partition keeps its previous rows, the next run completes it.

A driver script (written to a temp folder, run as a subprocess) imports the product unchanged and
wraps one function at run time - no product code is edited:

* ``write``: ``write_ceremony`` is wrapped so that, after it has merged the new ceremony into the
  tables (upserts *and* the DELETE of rows the source no longer lists) and *before* the write
  step commits, the process reports its PostgreSQL backend pid and sleeps. The test checks the
  transaction is open (``idle in transaction``, the partition's advisory lock held, other sessions
  still see the old rows), then SIGKILLs the process group.
* ``fetch``: ``page_store.page`` is wrapped to sleep inside the oscars.org fetch step, i.e. while
  the run holds the ``oscars.org`` pool slot (dagster.yaml: ``pools.default_limit: 1``).

Previous rows come from the simulator's pre-ceremony pages (``pre_ceremony="2024"``: nominations
without winners); the killed run writes the awarded ceremony. After the kill the partition shows
exactly the pre-ceremony rows (same ids, values, updated_at); a normal rerun writes the winners.

Dagster side (documented by the second test): a run whose worker is SIGKILLed stays STARTED.
The DefaultRunLauncher does not support run-worker health checks, so `run_monitoring` never marks
it failed, and `free_slots_after_run_end_seconds` only frees slots of *finished* runs - a run killed
inside a pool step keeps that pool's only slot until an operator marks the run failed/canceled
(UI: Terminate -> force) or frees it (`instance.event_log_storage.free_concurrency_slots_for_run`).
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
from dagster import DagsterRunStatus

from festival_pipeline.database import connection
from festival_pipeline_tests.conftest import requires_shared, run_oscars

pytestmark = pytest.mark.integration

PARTITION = "2024"
PAUSE_SECONDS = 90

DRIVER = textwrap.dedent(
    """
    import json, os, sys, time

    sites_url, marker, pause_in, partition = sys.argv[1:5]

    from dagster import DagsterInstance, materialize

    import festival_pipeline.assets.tables as tables
    import festival_pipeline.database.ceremony_writer as writer
    import festival_pipeline.sources.page_store as page_store
    from festival_pipeline.assets.oscars import oscars_assets
    from festival_pipeline.resources import FestivalDatabase, SourceWebsites

    def report(**facts):
        with open(marker + ".tmp", "w") as handle:
            json.dump({"pid": os.getpid(), **facts}, handle)
        os.replace(marker + ".tmp", marker)
        time.sleep(float(os.environ.get("CRASH_PAUSE_SECONDS", "90")))

    if pause_in == "write":
        real_write = writer.write_ceremony

        def write_then_pause(cursor, record, scraped_at):
            result = real_write(cursor, record, scraped_at)
            cursor.execute("SELECT pg_backend_pid()")
            report(backend_pid=cursor.fetchone()[0], nominations=result.nominations,
                   winners=sum(n.won for n in record.nominations))
            return result

        tables.write_ceremony = write_then_pause  # the name the write step calls
        writer.write_ceremony = write_then_pause
    elif pause_in == "fetch":
        real_page = page_store.page

        def fetch_then_pause(client, cursor, url, *, reparse):
            stored = real_page(client, cursor, url, reparse=reparse)
            if "/oscars/ceremonies/" in url:
                report(url=url)
            return stored

        page_store.page = fetch_then_pause

    instance = DagsterInstance.get()
    resources = {"festival_db": FestivalDatabase(),
                 "sites": SourceWebsites(oscars_base_url=sites_url, imdb_base_url=sites_url)}
    materialize(oscars_assets, partition_key=partition, instance=instance, resources=resources)
    print("driver finished without being killed", flush=True)
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
        env = {**os.environ, "CRASH_PAUSE_SECONDS": str(PAUSE_SECONDS)}
        self.process = subprocess.Popen(
            [sys.executable, str(script), sites_url, str(self.marker), pause_in, PARTITION],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_until_paused(self, timeout: float = 90) -> dict:
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
    assert killed.status not in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE)  # stays STARTED (see doc)
    dagster_instance.report_run_failed(killed)

    assert run_oscars(dagster_instance, simulator_url, PARTITION).success  # the next run completes the partition
    after = partition_rows(festival_database_url, int(PARTITION))
    nominations_before = [row for row in before if len(row) == 9]
    nominations_after = [row for row in after if len(row) == 9]
    assert [r[0] for r in nominations_after] == [r[0] for r in nominations_before]  # same rows, same ids
    assert sum(r[2] for r in nominations_after) == paused["winners"]
    assert after[-1][0] == "complete"


def test_kill_9_inside_a_pool_step_keeps_the_pool_slot_until_the_run_is_marked_failed(
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
    # the dead run still holds the oscars.org slot: nothing in Dagster frees it on its own
    assert killed.run_id in {slot.run_id for slot in info.claimed_slots}, info
    assert dagster_instance.get_run_by_id(killed.run_id).status == DagsterRunStatus.STARTED
    assert partition_rows(festival_database_url, int(PARTITION)) == before

    # the next run waits for that slot, and keeps waiting
    waiting = Driver(tmp_path, simulator_url, "none")
    try:
        assert not wait_for(lambda: waiting.process.poll() is not None, timeout=15), "the next run did not wait"
        waiting_run = dagster_instance.get_runs(limit=1)[0]
        assert waiting_run.run_id != killed.run_id
        assert waiting_run.run_id in storage.get_concurrency_run_ids()  # pending on the oscars.org pool
        assert killed.run_id in {slot.run_id for slot in storage.get_concurrency_info("oscars.org").claimed_slots}

        # the operator's remedy: mark the dead run failed and give its slots back; the waiting run proceeds
        dagster_instance.report_run_failed(dagster_instance.get_run_by_id(killed.run_id))
        storage.free_concurrency_slots_for_run(killed.run_id)
        assert wait_for(lambda: waiting.process.poll() is not None, timeout=90), "the waiting run never finished"
    finally:
        waiting.kill()
    assert waiting.process.returncode == 0, Path(waiting.log.name).read_text()[-3000:]
    assert dagster_instance.get_run_by_id(waiting_run.run_id).status == DagsterRunStatus.SUCCESS
    assert not storage.get_concurrency_info("oscars.org").claimed_slots
    assert [r[:8] for r in partition_rows(festival_database_url, int(PARTITION))[:-2]] == [
        r[:8] for r in before[:-2]]

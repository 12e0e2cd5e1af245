"""`festival-pipeline status`: every status a festival year can have, read back as JSON.

The states are produced the real way (Dagster runs against recorded pages or the simulator),
then the command reads them from the festival database.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from dagster import DagsterInstance, materialize

from festival_pipeline.assets.oscars import oscars_org_ceremony_page
from festival_pipeline.cli import cli
from festival_pipeline.operations import festival_names, partition_keys
from festival_pipeline.registry import ACADEMY_AWARDS_SLUG, festival
from festival_pipeline_tests.conftest import FIXTURE_PAGES, pipeline_resources, recorded_sites, run_oscars
from festival_pipeline_tests.test_festival_pipeline import run_festival

PRE_CEREMONY_PAGES = {
    "/oscars/ceremonies/2026": "oscars_2026_pre-ceremony.html",
    "/event/ev0000003/2026/1": "imdb_ev0000003_2026_1_pre-ceremony.html",
}


def status(*args: str) -> str:
    result = CliRunner().invoke(cli, ["status", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def status_json(*args: str) -> dict[tuple[int, int | None], dict]:
    rows = json.loads(status(*args, "--format", "json"))
    return {(row["year"], row["edition"]): row for row in rows}


def pre_ceremony(path: str, body: bytes) -> bytes:
    """2026 as it looked between the nominations and the ceremony: no winners on either site."""
    name = PRE_CEREMONY_PAGES.get(path)
    return (FIXTURE_PAGES / name).read_bytes() if name else body


def test_oscar_statuses_and_a_stale_year(ephemeral_instance: DagsterInstance, festival_database_url: str) -> None:
    corrected = {"on": False}

    def correct_2024(path: str, body: bytes) -> bytes:
        return body + b"<!-- corrected -->" if corrected["on"] and path == "/oscars/ceremonies/2024" else body

    sites, before_ceremony = recorded_sites(transform=correct_2024), recorded_sites(transform=pre_ceremony)
    try:
        assert run_oscars(ephemeral_instance, sites.url, "2024").success
        assert not run_oscars(ephemeral_instance, sites.url, "2023", raise_on_error=False).success  # 404
        assert run_oscars(ephemeral_instance, before_ceremony.url, "2026").success
        rows = status_json("--festival", "oscars", "--years", "2023-2026")

        # oscars.org corrects its 2024 page: fetched and archived, not yet written
        corrected["on"] = True
        assert materialize([oscars_org_ceremony_page], partition_key="2024", instance=ephemeral_instance,
                           resources=pipeline_resources(sites.url)).success
        after = status_json("--festival", "oscars", "--years", "2024")
    finally:
        sites.close()
        before_ceremony.close()

    assert sorted(rows) == [(2023, 1), (2024, 1), (2025, None), (2026, 1)]
    assert {key: row["status"] for key, row in rows.items()} == {
        (2023, 1): "failed", (2024, 1): "complete", (2025, None): "missing", (2026, 1): "announced-not-awarded"}
    failed = rows[(2023, 1)]
    assert "404" in failed["error"] and "2023" in failed["error"] and failed["rows_written"] is None
    complete = rows[(2024, 1)]
    assert complete["rows_written"] == complete["rows_listed"] > 100 and complete["rows_match"] is True
    assert complete["nomination_match_rate"] >= 0.98 and complete["film_id_rate"] is not None
    assert complete["last_materialized"] and complete["stale"] is False and complete["error"] is None
    announced = rows[(2026, 1)]
    assert announced["winners"] == 0 and announced["rows_written"] > 0
    assert rows[(2025, None)]["last_materialized"] is None

    assert after[(2024, 1)]["status"] == "complete" and after[(2024, 1)]["stale"] is True

    # without --festival: a line per festival, its years counted; its last import (2026's run)
    summary = {line.split()[0]: line.split() for line in status().splitlines()
               if line.strip() and line.split()[0] in festival_names()}
    assert list(summary) == festival_names()  # every festival, once, in the registry's order
    years = len(partition_keys(festival(ACADEMY_AWARDS_SLUG)))
    # festival, years, complete, failed, missing, other (2026: announced, not awarded), date, time, run
    assert summary["oscars"][1:6] == [str(years), "1", "1", str(years - 3), "1"]
    assert summary["oscars"][8] == rows[(2026, 1)]["run_id"][:8]
    assert summary["cannes"][1:6] == [str(len(partition_keys(festival("cannes")))), "0", "0",
                                      str(len(partition_keys(festival("cannes")))), "0"]
    per_year = status("--festival", "oscars", "--years", "2023-2024")  # the per-year table
    assert "2023" in per_year and "2024" in per_year and "failed" in per_year and "404" in per_year


@pytest.mark.integration
def test_festival_statuses(dagster_instance: DagsterInstance, festival_database_url: str, simulator_url: str) -> None:
    assert run_festival(dagster_instance, simulator_url, "cannes", "1942").success
    assert run_festival(dagster_instance, simulator_url, "actor-awards", "1990").success
    cannes = status_json("--festival", "cannes", "--years", "1942-1943")
    assert cannes[(1942, 1)]["status"] == "no-edition" and cannes[(1942, 1)]["rows_written"] is None
    assert cannes[(1943, None)]["status"] == "missing"
    actor_awards = status_json("--festival", "actor-awards", "--years", "1990")
    assert actor_awards[(1990, 1)]["status"] == "nothing-to-import"
    assert actor_awards[(1990, 1)]["rows_written"] == 0


def test_every_year_of_every_festival_is_listed_in_table_and_csv(festival_database_url: str) -> None:
    table = status("--years", "2024")
    assert "14 missing" in table and "academy" not in table  # the Oscars go by `oscars`
    rows = list(csv.DictReader(io.StringIO(status("--festival", "oscars", "--format", "csv"))))
    assert [row["year"] for row in rows] == partition_keys(festival(ACADEMY_AWARDS_SLUG))  # 1929 … this year
    assert {row["status"] for row in rows} == {"missing"}


@pytest.mark.parametrize(("status_args", "backfill_args", "message"), [
    (["--festival", "oscars", "--years", "1800"], ["oscars", "--years", "1800"], "oscars has partitions 1929-"),
    (["--years", "1800"], ["all", "--years", "1800"], "no festival has a partition in these years"),
    (["--festival", "oscar"], ["oscar"], "unknown festival 'oscar'; known: oscars, cannes"),
])
def test_years_or_a_festival_outside_the_partitions_are_a_usage_error_as_for_backfill(
        status_args: list[str], backfill_args: list[str], message: str, festival_database_url: str) -> None:
    for arguments in (["status", *status_args], ["backfill", *backfill_args]):
        result = CliRunner().invoke(cli, arguments)
        assert result.exit_code == 2, (arguments, result.output)
        assert message in " ".join(result.output.split()), (arguments, result.output)


def test_status_answers_in_under_a_second_on_the_embedded_database(pg_home: Path) -> None:
    """The command as users run it (a process of its own), on the embedded server of a home; the
    server is running, as after any earlier command."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FESTIVAL_")}
    env["FESTIVAL_PIPELINE_HOME"] = str(pg_home)
    command = [str(Path(sys.executable).with_name("festival-pipeline")), "status"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)  # starts the server
    assert first.returncode == 0, first.stderr
    seconds = []
    for _ in range(3):
        started = time.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        seconds.append(time.perf_counter() - started)
        assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines() if line.strip()]
    assert [line[0] for line in lines if line[0] in festival_names()] == festival_names()  # a line each
    assert min(seconds) < 1.0, seconds

"""`festival-pipeline backfill` and `festival-pipeline dagster asset materialize`, run as a user runs them.

The real command in a subprocess, against the simulator (or the recorded pages), with the
Dagster instance of the `dagster_instance` fixture: the runs must be in that instance.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import AssetSelection, DagsterInstance, DagsterRunStatus

from festival_pipeline.database import connection
from festival_pipeline.definitions import defs
from festival_pipeline.operations import SelectionError
from festival_pipeline.operations.backfill import chunk_keys, plan

pytestmark = pytest.mark.timeout(600)

CLI = str(Path(sys.executable).with_name("festival-pipeline"))
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def run_cli(sites_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, with the environment the fixtures prepared (database, home) and the sites."""
    env = {**os.environ, "OSCARS_BASE_URL": sites_url, "IMDB_BASE_URL": sites_url,
           "FESTIVAL_HTTP_REQUESTS_PER_SECOND": "0"}
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=540)


def outcomes(url: str, slug: str) -> dict[int, list[str]]:
    with connection.transaction(url) as cursor:
        cursor.execute(
            """SELECT i.year, i.status FROM import_outcomes i JOIN festival_organizations o
               ON o.id = i.organization_id WHERE o.slug = %s ORDER BY i.year, i.edition""",
            (slug,),
        )
        found: dict[int, list[str]] = {}
        for year, status in cursor.fetchall():
            found.setdefault(year, []).append(status)
        return found


def nominations(url: str, slug: str, year: int) -> int:
    with connection.transaction(url) as cursor:
        cursor.execute(
            """SELECT count(*) FROM festival_nominations n JOIN festival_ceremonies c ON c.id = n.ceremony_id
               JOIN festival_organizations o ON o.id = c.organization_id WHERE o.slug = %s AND c.year = %s""",
            (slug, year),
        )
        return cursor.fetchone()[0]


def job_runs(instance: DagsterInstance, job: str) -> list:
    return [run for run in instance.get_runs() if run.job_name == job]


@pytest.mark.integration
def test_backfill_two_oscar_years_through_the_instance(
    dagster_instance: DagsterInstance, festival_database_url: str, simulator_url: str
) -> None:
    result = run_cli(simulator_url, "backfill", "oscars", "--years", "2023-2024")
    assert result.returncode == 0, result.stdout + result.stderr
    assert outcomes(festival_database_url, "academy-awards") == {2023: ["complete"], 2024: ["complete"]}
    assert nominations(festival_database_url, "academy-awards", 2024) > 100
    (run,) = job_runs(dagster_instance, "oscars_job")  # one ranged run for both years
    assert run.status == DagsterRunStatus.SUCCESS
    assert (run.tags[RANGE_START], run.tags[RANGE_END]) == ("2023", "2024")
    # the summary: one line per year with its status, then the verdict
    assert "2023" in result.stdout and "2024" in result.stdout and "complete" in result.stdout
    assert "all 2 partition(s) landed" in result.stdout


def test_failing_year_is_isolated_named_and_the_good_year_lands(
    dagster_instance: DagsterInstance, festival_database_url: str, recorded_sites_url: str
) -> None:
    # the recorded pages have 2024 but not 2023: both sites answer 404 for it
    result = run_cli(recorded_sites_url, "backfill", "oscars", "--years", "2023-2024")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "oscars 2023" in result.stderr and "404" in result.stderr
    assert "2024" not in result.stderr
    assert outcomes(festival_database_url, "academy-awards") == {2023: ["failed"], 2024: ["complete"]}
    assert nominations(festival_database_url, "academy-awards", 2024) > 100
    runs = job_runs(dagster_instance, "oscars_job")
    ranged = [r for r in runs if RANGE_START in r.tags]
    single = {r.tags["dagster/partition"]: r.status for r in runs if "dagster/partition" in r.tags}
    assert [r.status for r in ranged] == [DagsterRunStatus.FAILURE]
    # 2023 failed inside the ranged run already; only 2024, which never got to its write, runs again
    assert single == {"2024": DagsterRunStatus.SUCCESS}


@pytest.mark.integration
def test_cannes_years_without_edition_are_recorded(
    dagster_instance: DagsterInstance, festival_database_url: str, simulator_url: str
) -> None:
    result = run_cli(simulator_url, "backfill", "cannes", "--years", "1941-1946")
    assert result.returncode == 0, result.stdout + result.stderr
    found = outcomes(festival_database_url, "cannes")
    assert {year: found[year] for year in range(1941, 1946)} == {year: ["no-edition"] for year in range(1941, 1946)}
    assert found[1946] == ["complete"]
    assert "no-edition" in result.stdout


def test_years_outside_the_partitions_are_a_usage_error(tmp_path: Path) -> None:
    env = {**os.environ, "FESTIVAL_PIPELINE_HOME": str(tmp_path)}
    result = subprocess.run([CLI, "backfill", "oscars", "--years", "1900-1930"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert "outside them: 1900" in " ".join(result.stderr.split())


def test_plan_aliases_and_chunks() -> None:
    (target,) = plan("oscars", "1990,1995-1999")
    assert target.festival.slug == "academy-awards" and target.keys == ["1990", *map(str, range(1995, 2000))]
    assert chunk_keys(target.keys, target.all_keys) == [["1990"], [str(y) for y in range(1995, 2000)]]
    (every,) = plan("oscars", None)
    chunks = chunk_keys(every.keys, every.all_keys)
    assert [len(c) for c in chunks] == [25, 25, 24, 24] and chunks[0][0] == "1929"
    assert [key for chunk in chunks for key in chunk] == every.keys
    assert len(plan("all", "2024")) == 14
    assert [t.keys for t in plan("all", "1930")] == [["1930"]]  # only the Oscars existed
    with pytest.raises(SelectionError):
        plan("oscar", None)
    with pytest.raises(SelectionError):
        plan("oscars", "2024-2020")


def test_selection_syntax_for_the_passthrough() -> None:
    """'oscars/*' is not a selection in Dagster 1.13; `group:oscars` and `key:oscars/*` are."""
    graph = defs.resolve_asset_graph()
    group = AssetSelection.from_coercible(["group:oscars"]).resolve(graph)
    assert AssetSelection.from_coercible(["key:oscars/*"]).resolve(graph) == group
    assert len(group) == 6


@pytest.mark.integration
def test_dagster_passthrough_materializes_a_partition(
    dagster_instance: DagsterInstance, festival_database_url: str, simulator_url: str
) -> None:
    result = run_cli(simulator_url, "dagster", "asset", "materialize", "-m", "festival_pipeline.definitions",
                     "--select", "group:oscars", "--partition", "2024")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert outcomes(festival_database_url, "academy-awards") == {2024: ["complete"]}
    (run,) = dagster_instance.get_runs()
    assert run.status == DagsterRunStatus.SUCCESS and run.tags["dagster/partition"] == "2024"

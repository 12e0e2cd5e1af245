"""`festival-pipeline backfill` and `festival-pipeline dagster asset materialize`, run as a user runs them.

The real command in a subprocess, against the simulator (through the fault proxy where a page must
break), with the Dagster instance of the `dagster_instance` fixture (its FESTIVAL_PIPELINE_HOME and
DAGSTER_HOME): the command starts a code server, a webserver and a daemon of its own, launches a
Dagster asset backfill through GraphQL and follows it; the backfill and its runs must be in that
instance.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from dagster import AssetKey, AssetSelection, DagsterInstance, DagsterRunStatus, Definitions, RunsFilter

from festival_pipeline.database import connection
from festival_pipeline.definitions import code_location_resources, defs
from festival_pipeline.operations import SelectionError, plan
from festival_pipeline.operations.backfill import (
    LAUNCHED_BY_TAG,
    backfill_partitions,
    backfill_title,
    contiguous_ranges,
)
from festival_pipeline.operations.dagster_api import AssetNode
from festival_pipeline.pools import IMDB_API_POOL, IMDB_PAGES_POOL, OSCARS_POOL
from festival_pipeline.runtime.services import free_port, wait_for_webserver
from festival_pipeline.tags import BACKFILL_TAG
from festival_pipeline_tests.conftest import sites_env, stop_on_sigterm
from festival_pipeline_tests.fault_proxy import by_path, transform

pytestmark = pytest.mark.timeout(600)

CLI = str(Path(sys.executable).with_name("festival-pipeline"))
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
NOMINATIONS = AssetKey(["oscars", "festival_nominations"])


def run_cli(sites_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, with the environment the fixtures prepared (database, homes) and the sites."""
    env = {**os.environ, **sites_env(sites_url),
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


def own_tags(tags: dict[str, str]) -> list[str]:
    return [key for key in tags if key.startswith("festival_pipeline/")]


def one_line(text: str) -> str:
    """The command's output with rich's line wrapping undone."""
    return " ".join(text.split())


# ----------------------------------------------------------------------------- planning


def test_plan_aliases_years_and_festivals() -> None:
    (target,) = plan("oscars", "1990,1995-1999")
    assert target.festival.slug == "academy-awards" and target.keys == ["1990", *map(str, range(1995, 2000))]
    (every,) = plan("oscars", None)
    assert every.keys == every.all_keys and every.keys[0] == "1929"
    assert len(plan("all", "2024")) == 14
    assert [t.keys for t in plan("all", "1930")] == [["1930"]]  # only the Oscars existed
    with pytest.raises(SelectionError, match="unknown festival 'oscar'"):
        plan("oscar", None)
    with pytest.raises(SelectionError, match="runs backwards"):
        plan("oscars", "2024-2020")
    with pytest.raises(SelectionError, match="outside them: 1900"):
        plan("oscars", "1900-1930")


def test_selected_years_become_contiguous_partition_ranges() -> None:
    (target,) = plan("oscars", "1990,1995-1999,2001")
    assert contiguous_ranges(target.keys, target.all_keys) == [("1990", "1990"), ("1995", "1999"),
                                                                ("2001", "2001")]
    (every,) = plan("oscars", None)
    assert contiguous_ranges(every.keys, every.all_keys) == [(every.all_keys[0], every.all_keys[-1])]
    # a festival without editions in some years still has those partitions: one range
    (cannes,) = plan("cannes", "1939-1947")
    assert contiguous_ranges(cannes.keys, cannes.all_keys) == [("1939", "1947")]


def _asset_nodes() -> list[AssetNode]:
    """The code location's assets as the webserver lists them (key, group, kinds), from the definitions."""
    graph = defs.resolve_asset_graph()
    return [AssetNode(tuple(key.path), graph.get(key).group_name, frozenset(graph.get(key).kinds))
            for key in graph.get_all_asset_keys()]


def test_a_backfill_targets_every_asset_of_the_festival_for_its_ranges() -> None:
    targets = plan("oscars", "1990,1995-1999")
    requested = {tuple(p.asset_key): list(p.ranges) for p in backfill_partitions(_asset_nodes(), targets)}
    oscars_group = AssetSelection.groups("oscars").resolve(defs.resolve_asset_graph())
    assert {AssetKey(list(key)) for key in requested} == oscars_group
    assert set(map(tuple, requested.values())) == {(("1990", "1990"), ("1995", "1999"))}
    # --from-archive: the same years without the page assets (the parse and tables from archived pages)
    rebuilt = {AssetKey(list(p.asset_key)) for p in backfill_partitions(_asset_nodes(), targets, from_archive=True)}
    assert rebuilt == oscars_group - {AssetKey(["oscars", "oscars_org_ceremony_page"]),
                                      AssetKey(["oscars", "imdb_edition_page"])}
    # Dagster runs a festival's backfill as one ranged run (the assets' policy)
    policies = {defs.resolve_assets_def(key).backfill_policy for key in oscars_group}
    assert {policy.max_partitions_per_run for policy in policies} == {None}


def test_backfill_titles_name_what_they_do_within_dagsters_limit() -> None:
    assert backfill_title(plan("oscars", "2023-2024")) == "festival-pipeline backfill oscars 2023–2024"
    assert backfill_title(plan("cannes", "1946"), from_archive=True) == (
        "festival-pipeline backfill cannes 1946 from the archived pages")
    everything = backfill_title(plan("all", None), from_archive=True)
    assert everything.startswith("festival-pipeline backfill 14 festivals 1929–")
    assert len(everything) <= 100  # Dagster refuses a longer title, and with it the backfill


def test_years_outside_the_partitions_are_a_usage_error(festival_database_url: str, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "DAGSTER_HOME"}
    env.update(FESTIVAL_PIPELINE_HOME=str(tmp_path), FESTIVAL_DATABASE_URL=festival_database_url)
    result = subprocess.run([CLI, "backfill", "oscars", "--years", "1900-1930"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "oscars has partitions 1929-" in one_line(result.stderr)
    assert "outside them: 1900, 1901" in one_line(result.stderr)
    assert "Traceback" not in result.stderr


# ----------------------------------------------------------------------------- the command, for real


@pytest.mark.integration
def test_backfill_two_oscar_years_is_a_dagster_backfill_that_lands_both(
    dagster_instance: DagsterInstance, festival_database_url: str, simulator_url: str
) -> None:
    # an operator's own limit of a site pool is kept by every later command
    dagster_instance.event_log_storage.set_concurrency_slots(IMDB_PAGES_POOL, 3)
    result = run_cli(simulator_url, "backfill", "oscars", "--years", "2023-2024")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert outcomes(festival_database_url, "academy-awards") == {2023: ["complete"], 2024: ["complete"]}
    assert nominations(festival_database_url, "academy-awards", 2023) > 100
    assert nominations(festival_database_url, "academy-awards", 2024) > 100

    # a Dagster backfill (Overview → Backfills), completed, whose one ranged run did both years
    (backfill,) = dagster_instance.get_backfills()
    assert backfill.status.value == "COMPLETED_SUCCESS"
    assert backfill.title and "oscars 2023–2024" in backfill.title
    assert own_tags(backfill.tags) == [LAUNCHED_BY_TAG]  # one bookkeeping tag in the UI's row
    (run,) = dagster_instance.get_runs(filters=RunsFilter(tags={BACKFILL_TAG: backfill.backfill_id}))
    assert run.status == DagsterRunStatus.SUCCESS and run.job_name == "__ASSET_JOB"
    assert (run.tags[RANGE_START], run.tags[RANGE_END]) == ("2023", "2024")
    for key in AssetSelection.groups("oscars").resolve(defs.resolve_asset_graph()):
        assert dagster_instance.get_materialized_partitions(key) == {"2023", "2024"}, key

    # the site pools, created before any run (not on first use, which races), two slots unless changed
    oscars_org, imdb, imdb_api = (dagster_instance.event_log_storage.get_concurrency_info(pool)
                                  for pool in (OSCARS_POOL, IMDB_PAGES_POOL, IMDB_API_POOL))
    assert (oscars_org.slot_count, oscars_org.using_default_limit) == (2, False)
    assert (imdb_api.slot_count, imdb_api.using_default_limit) == (2, False)
    assert imdb.slot_count == 3

    # the summary: one line per year with its status, then the verdict naming the backfill
    assert "2023" in result.stdout and "2024" in result.stdout and "complete" in result.stdout
    assert f"all 2 partition(s) landed (backfill {backfill.backfill_id}: completed_success)" in one_line(
        result.stdout)

    # what a notebook user does next: the year's rows as a DataFrame
    code_location = Definitions(assets=defs.assets, resources=code_location_resources())
    frame = code_location.load_asset_value(NOMINATIONS, partition_key="2024", instance=dagster_instance)
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == nominations(festival_database_url, "academy-awards", 2024)


@pytest.mark.integration
def test_with_dev_running_the_backfills_page_shows_a_landed_backfill_completed(
    dagster_instance: DagsterInstance, festival_database_url: str, simulator_url: str, tmp_path: Path
) -> None:
    """The command reports "landed" only once Dagster has closed the backfill, also when the daemon is
    `festival-pipeline dev`'s (which looks at backfills every 30 s and cannot be restarted by us)."""
    port = free_port()
    env = {**os.environ, **sites_env(simulator_url), "FESTIVAL_HTTP_REQUESTS_PER_SECOND": "0"}
    with (tmp_path / "dev.log").open("w") as log:
        dev = subprocess.Popen([CLI, "dev", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        wait_for_webserver(f"http://127.0.0.1:{port}", None, timeout=240)
        result = run_cli(simulator_url, "backfill", "oscars", "--years", "2024")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        (backfill,) = dagster_instance.get_backfills()
        # what the UI's Backfills page shows at the moment the command said it landed
        assert backfill.status.value == "COMPLETED_SUCCESS"
        assert f"all 1 partition(s) landed (backfill {backfill.backfill_id}: completed_success)" in one_line(
            result.stdout)
        assert f"127.0.0.1:{port}/runs/b/{backfill.backfill_id}" in one_line(result.stdout)  # dev's webserver
        assert own_tags(backfill.tags) == [LAUNCHED_BY_TAG]
    finally:
        assert stop_on_sigterm("festival-pipeline dev", dev) is None


def _changed_markup(_path: str, body: bytes) -> bytes:
    return body.replace(b"paragraph--type--award-category", b"award-category-card")


@pytest.mark.integration
def test_a_broken_page_fails_its_year_by_name_and_the_good_year_lands(
    dagster_instance: DagsterInstance, festival_database_url: str, proxy
) -> None:
    proxy.plan = by_path({"/oscars/ceremonies/2023": transform(_changed_markup)})
    result = run_cli(proxy.url, "backfill", "oscars", "--years", "2023-2024")
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    errors = one_line(result.stderr)
    assert "1 partition(s) failed" in errors
    assert "oscars 2023:" in errors and "/oscars/ceremonies/2023" in errors  # the year, and why (its page)
    assert "oscars 2024" not in errors
    assert outcomes(festival_database_url, "academy-awards") == {2023: ["failed"], 2024: ["complete"]}
    assert nominations(festival_database_url, "academy-awards", 2023) == 0
    assert nominations(festival_database_url, "academy-awards", 2024) > 100
    # 2023 failed in the parse step of the ranged run; 2024, which that run never got to write, landed
    # when the command re-executed the failed partitions
    backfills = {b.backfill_id: b for b in dagster_instance.get_backfills()}
    assert len(backfills) == 2 and all(backfill_id in result.stderr for backfill_id in backfills)
    assert dagster_instance.get_materialized_partitions(NOMINATIONS) == {"2024"}


@pytest.mark.integration
def test_cannes_years_without_edition_are_recorded(
    dagster_instance: DagsterInstance, festival_database_url: str, simulator_url: str
) -> None:
    result = run_cli(simulator_url, "backfill", "cannes", "--years", "1941-1946")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    found = outcomes(festival_database_url, "cannes")
    assert {year: found[year] for year in range(1941, 1946)} == {year: ["no-edition"] for year in range(1941, 1946)}
    assert found[1946] == ["complete"]
    assert "no-edition" in result.stdout


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

"""The code location loads, in-process and through the `dagster` CLI, and writes organizations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster import AssetKey, Definitions, materialize

from festival_pipeline.assets.organizations import festival_organizations
from festival_pipeline.database import connection
from festival_pipeline.definitions import code_location_resources, defs
from festival_pipeline.executor import step_executor
from festival_pipeline.jobs import festival_selection, job_name
from festival_pipeline.registry import FESTIVALS
from festival_pipeline_tests.conftest import PROJECT_ROOT


def test_definitions_are_loadable() -> None:
    Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"festival_organizations", "oscars/festival_nominations", "oscars/enhanced_ceremony"} <= keys
    # lineage: the tables stand downstream of the enhanced ceremony and the organizations
    parents = graph.get(AssetKey(["oscars", "festival_nominations"])).parent_keys
    assert parents == {AssetKey(["oscars", "enhanced_ceremony"]), AssetKey("festival_organizations")}
    # one job per festival, each exactly that festival's assets, run by the step executor that
    # records the worker process (festival_pipeline.runtime.dead_runs ends a run whose process died)
    jobs = {job.name: job for job in defs.resolve_all_job_defs() if not job.name.startswith("__")}
    assert set(jobs) == {job_name(f) for f in FESTIVALS}
    for entry in FESTIVALS:
        job = jobs[job_name(entry)]
        group = festival_selection(entry).resolve(graph)
        assert set(job.asset_layer.executable_asset_keys) == group and group, entry.slug
        assert job.executor_def.name == step_executor.name


def test_dg_check_defs_works_in_the_repo_root(tmp_path) -> None:
    """`dg check defs`, as Dagster's docs teach it: in the repo root, nothing set (dg.toml names the code)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DAGSTER_", "FESTIVAL_"))}
    env["FESTIVAL_PIPELINE_HOME"] = str(tmp_path / "home")  # were the database touched, not the repo's own
    result = subprocess.run([str(Path(sys.executable).with_name("dg")), "check", "defs"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "All definitions loaded successfully" in output
    assert "Warning" not in output, output


def test_materializing_organizations_writes_every_festival(ephemeral_instance, festival_database_url: str) -> None:
    resources = code_location_resources()  # the code location's, from the environment the fixture set
    for _ in range(2):  # twice: the upsert is idempotent
        result = materialize([festival_organizations], instance=ephemeral_instance, resources=resources)
        assert result.success
    with connection.transaction(festival_database_url) as cursor:
        cursor.execute("SELECT slug, imdb_event_id FROM festival_organizations")
        rows = dict(cursor.fetchall())
    assert rows == {f.slug: f.imdb_event_id for f in FESTIVALS}
    (materialization,) = ephemeral_instance.fetch_materializations(AssetKey("festival_organizations"), limit=1).records
    metadata = materialization.asset_materialization.metadata
    assert metadata["dagster/row_count"].value == len(FESTIVALS)

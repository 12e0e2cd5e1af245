"""The code location loads, in-process and through the `dagster` CLI, and writes organizations."""

from __future__ import annotations

import os
import subprocess
import sys

from dagster import AssetKey, Definitions, materialize

from festival_pipeline.assets.organizations import festival_organizations
from festival_pipeline.database import connection
from festival_pipeline.definitions import defs
from festival_pipeline.registry import FESTIVALS
from festival_pipeline.resources import FestivalDatabase
from festival_pipeline_tests.conftest import PROJECT_ROOT


def test_definitions_are_loadable() -> None:
    Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"festival_organizations", "oscars/festival_nominations", "oscars/enhanced_ceremony"} <= keys
    # lineage: the tables stand downstream of the enhanced ceremony and the organizations
    parents = graph.get(AssetKey(["oscars", "festival_nominations"])).parent_keys
    assert parents == {AssetKey(["oscars", "enhanced_ceremony"]), AssetKey("festival_organizations")}
    for job in defs.resolve_all_job_defs():
        assert job.name


def test_dagster_cli_validates_the_workspace(tmp_path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_materializing_organizations_writes_every_festival(dagster_instance, festival_database_url: str) -> None:
    resources = {"festival_db": FestivalDatabase()}
    for _ in range(2):  # twice: the upsert is idempotent
        result = materialize([festival_organizations], instance=dagster_instance, resources=resources)
        assert result.success
    with connection.transaction(festival_database_url) as cursor:
        cursor.execute("SELECT slug, imdb_event_id FROM festival_organizations")
        rows = dict(cursor.fetchall())
    assert rows == {f.slug: f.imdb_event_id for f in FESTIVALS}
    (materialization,) = dagster_instance.fetch_materializations(AssetKey("festival_organizations"), limit=1).records
    metadata = materialization.asset_materialization.metadata
    assert metadata["dagster/row_count"].value == len(FESTIVALS)

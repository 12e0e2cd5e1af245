"""The Dagster UI's GraphQL API against a real webserver, daemon, instance and database.

What the UI's buttons send, to `festival-pipeline dev`: a partition backfill of the Oscar assets (run by
the backfill daemon as one ranged run, BackfillPolicy.single_run()) and a single-partition run (queued,
then launched by the daemon).
"""

from __future__ import annotations

import time

import pytest

from festival_pipeline.database import connection
from festival_pipeline_tests.ui_harness import DagsterUI, dagster_ui  # noqa: F401 - the fixture

pytestmark = [pytest.mark.integration, pytest.mark.timeout(290)]

OSCAR_ASSETS = [
    ["oscars", "oscars_org_ceremony_page"],
    ["oscars", "imdb_edition_page"],
    ["oscars", "enhanced_ceremony"],
    ["oscars", "festival_ceremonies"],
    ["oscars", "festival_categories"],
    ["oscars", "festival_nominations"],
]
WAIT_SECONDS = 240
TERMINAL_BACKFILL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
TERMINAL_RUN = {"SUCCESS", "FAILURE", "CANCELED"}

LAUNCH_BACKFILL = """
mutation LaunchBackfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on Error { message }
  }
}
"""

BACKFILL = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      status
      partitionNames
      runs { runId status tags { key value } }
      error { message }
    }
    ... on Error { message }
  }
}
"""

LAUNCH_RUN = """
mutation LaunchRun($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}
"""

RUN = """
query Run($id: ID!) {
  runOrError(runId: $id) {
    __typename
    ... on Run { runId status tags { key value } assetSelection { path } }
    ... on Error { message }
  }
}
"""


def asset_keys(paths: list[list[str]]) -> list[dict]:
    return [{"path": path} for path in paths]


def wait_for(what: str, ui: DagsterUI, poll, done, timeout: float = WAIT_SECONDS):
    """Poll until `done(value)`; fails naming `what`, the last value and the daemon's log."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = poll()
        if done(value):
            return value
        time.sleep(2)
    pytest.fail(f"{what} did not finish within {timeout} s; last state: {value}\n{ui.log_tail()}")


def nominations_by_year(url: str) -> dict[int, int]:
    with connection.transaction(url) as cursor:
        cursor.execute(
            """SELECT fc.year, count(n.id)
               FROM festival_ceremonies fc
               JOIN festival_organizations o ON o.id = fc.organization_id AND o.slug = 'academy-awards'
               JOIN festival_nominations n ON n.ceremony_id = fc.id
               GROUP BY fc.year"""
        )
        return dict(cursor.fetchall())


def test_partition_backfill_2023_2024_runs_once_through_the_daemon(dagster_ui: DagsterUI) -> None:  # noqa: F811
    launched = dagster_ui.graphql(LAUNCH_BACKFILL, {"params": {
        "assetSelection": asset_keys(OSCAR_ASSETS),
        "partitionNames": ["2023", "2024"],
        "title": "ui test: oscars 2023-2024",
    }})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]

    def poll() -> dict:
        return dagster_ui.graphql(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]

    backfill = wait_for(f"backfill {backfill_id}", dagster_ui, poll, lambda b: b.get("status") in TERMINAL_BACKFILL)
    assert backfill["status"] in {"COMPLETED", "COMPLETED_SUCCESS"}, (backfill, dagster_ui.log_tail())
    assert sorted(backfill["partitionNames"]) == ["2023", "2024"]
    # BackfillPolicy.single_run(): both years in one run, as a partition range
    assert len(backfill["runs"]) == 1, backfill["runs"]
    (run,) = backfill["runs"]
    assert run["status"] == "SUCCESS", run
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    assert tags.get("dagster/backfill") == backfill_id
    assert (tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")) == (
        "2023", "2024"), tags

    counts = nominations_by_year(dagster_ui.database_url)
    assert counts.get(2023, 0) > 100 and counts.get(2024, 0) > 100, counts


def test_single_partition_run_2022_launched_through_graphql(dagster_ui: DagsterUI) -> None:  # noqa: F811
    launched = dagster_ui.graphql(LAUNCH_RUN, {"params": {
        "selector": {
            "repositoryLocationName": dagster_ui.location_name,
            "repositoryName": dagster_ui.repository_name,
            "jobName": "__ASSET_JOB",
            "assetSelection": asset_keys(OSCAR_ASSETS),
        },
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "2022"}]},
    }})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    def poll() -> dict:
        return dagster_ui.graphql(RUN, {"id": run_id})["runOrError"]

    run = wait_for(f"run {run_id}", dagster_ui, poll, lambda r: r.get("status") in TERMINAL_RUN)
    assert run["status"] == "SUCCESS", (run, dagster_ui.log_tail())
    assert {"key": "dagster/partition", "value": "2022"} in run["tags"]
    assert sorted(key["path"] for key in run["assetSelection"]) == sorted(OSCAR_ASSETS)
    assert nominations_by_year(dagster_ui.database_url).get(2022, 0) > 100

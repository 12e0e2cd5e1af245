"""The Dagster webserver's GraphQL API — the public interface the UI itself uses — for what the
command line does with backfills: launch, follow, re-execute failed, cancel; pools"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

FINAL_BACKFILL_STATUSES = frozenset({"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"})


_SUCCESS_TYPES = ("LaunchBackfillSuccess", "PartitionBackfill", "CancelBackfillSuccess")


class DagsterApiError(RuntimeError):
    """The webserver refused a request or answered with an error; the message is Dagster's."""


@dataclass(frozen=True)
class AssetPartitions:
    """The years of one asset a backfill targets, as partition-key ranges."""

    asset_key: Sequence[str]
    ranges: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class AssetCounts:
    asset_key: tuple[str, ...]
    targeted: int
    in_progress: int
    materialized: int
    failed: int


@dataclass(frozen=True)
class BackfillState:
    backfill_id: str
    status: str
    counts: tuple[AssetCounts, ...]
    error: str | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL_BACKFILL_STATUSES


@dataclass(frozen=True)
class AssetNode:
    key: tuple[str, ...]
    group: str
    kinds: frozenset[str]


@dataclass(frozen=True)
class PoolState:
    pool: str
    slot_count: int
    claimed: tuple[tuple[str, str], ...]  # (run id, step key)
    pending: tuple[tuple[str, str], ...] = field(default=())


_LAUNCH = """
mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message }
  ... on InvalidSubsetError { message } ... on UnauthorizedError { message }
  ... on InvalidStepError { invalidStepKey } ... on PartitionSetNotFoundError { message }
  ... on RunConflict { message } ... on ConflictingExecutionParamsError { message }
  ... on NoModeProvidedError { message } ... on InvalidOutputError { stepKey } ... on PresetNotFoundError { message }
}}"""

_BACKFILL = """
query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  __typename ... on PythonError { message } ... on BackfillNotFoundError { message }
  ... on PartitionBackfill { id status error { message }
    assetBackfillData { assetBackfillStatuses {
      ... on AssetPartitionsStatusCounts { assetKey { path } numPartitionsTargeted numPartitionsInProgress
                                           numPartitionsMaterialized numPartitionsFailed }
      ... on UnpartitionedAssetStatus { assetKey { path } inProgress materialized failed } } } } } }"""

_REEXECUTE = """
mutation($params: ReexecutionParams!) { reexecutePartitionBackfill(reexecutionParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message }
  ... on UnauthorizedError { message } } }"""

_CANCEL = """
mutation($id: String!) { cancelPartitionBackfill(backfillId: $id) {
  __typename ... on PythonError { message } ... on UnauthorizedError { message } } }"""

_POOLS = """{ instance { concurrencyLimits { concurrencyKey slotCount claimedSlots { runId stepKey }
  pendingSteps { runId stepKey } } } }"""

_FREE_SLOTS = """mutation($runId: String!) { freeConcurrencySlotsForRun(runId: $runId) }"""

_REQUESTED_BACKFILLS = """{ partitionBackfillsOrError(status: REQUESTED) { __typename
  ... on PartitionBackfills { results { id tags { key value } } } ... on PythonError { message } } }"""

_ASSET_NODES = """{ assetNodes { assetKey { path } groupName kinds } }"""


class DagsterApi:
    """GraphQL over HTTP to one Dagster webserver."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def query(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self.session.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}},
                                         timeout=self.timeout)
        except requests.RequestException as exc:
            raise DagsterApiError(f"the Dagster webserver at {self.url} is unreachable: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            raise DagsterApiError(f"{self.url}/graphql answered {response.status_code} without JSON") from None
        if body.get("errors"):
            raise DagsterApiError("; ".join(str(error.get("message")) for error in body["errors"]))
        return body["data"]

    def _result(self, data: dict[str, Any], field_name: str) -> dict[str, Any]:
        result = data[field_name]
        if result.get("__typename") not in (None, *_SUCCESS_TYPES):
            detail = result.get("message") or result
            raise DagsterApiError(f"{field_name}: {result['__typename']}: {detail}")
        return result

    def launch_backfill(self, targets: Sequence[AssetPartitions], *, tags: Mapping[str, str], title: str) -> str:
        params = {
            "partitionsByAssets": [
                {"assetKey": {"path": list(target.asset_key)},
                 "partitions": {"ranges": [{"start": start, "end": end} for start, end in target.ranges]}}
                for target in targets
            ],
            "tags": [{"key": key, "value": value} for key, value in tags.items()],
            "title": title,
        }
        return self._result(self.query(_LAUNCH, {"params": params}), "launchPartitionBackfill")["backfillId"]

    def backfill(self, backfill_id: str) -> BackfillState:
        result = self._result(self.query(_BACKFILL, {"id": backfill_id}), "partitionBackfillOrError")
        counts = []
        for status in (result.get("assetBackfillData") or {}).get("assetBackfillStatuses") or []:
            key = tuple(status["assetKey"]["path"])
            if "numPartitionsTargeted" in status:
                counts.append(AssetCounts(key, status["numPartitionsTargeted"], status["numPartitionsInProgress"],
                                          status["numPartitionsMaterialized"], status["numPartitionsFailed"]))
            else:
                counts.append(AssetCounts(key, 1, int(status["inProgress"]), int(status["materialized"]),
                                          int(status["failed"])))
        error = (result.get("error") or {}).get("message")
        return BackfillState(result["id"], result["status"], tuple(counts), error)

    def reexecute_failed(self, backfill_id: str) -> str:
        params = {"parentRunId": backfill_id, "strategy": "FROM_FAILURE"}
        return self._result(self.query(_REEXECUTE, {"params": params}), "reexecutePartitionBackfill")["backfillId"]

    def cancel_backfill(self, backfill_id: str) -> None:
        self._result(self.query(_CANCEL, {"id": backfill_id}), "cancelPartitionBackfill")

    def pools(self) -> dict[str, PoolState]:
        limits = self.query(_POOLS)["instance"]["concurrencyLimits"]
        return {
            item["concurrencyKey"]: PoolState(
                item["concurrencyKey"], item["slotCount"],
                tuple((slot["runId"], slot["stepKey"]) for slot in item["claimedSlots"]),
                tuple((step["runId"], step["stepKey"]) for step in item["pendingSteps"]))
            for item in limits
        }

    def free_slots_for_run(self, run_id: str) -> None:
        self.query(_FREE_SLOTS, {"runId": run_id})

    def requested_backfills(self) -> dict[str, dict[str, str]]:
        """Backfills the daemon still works on: id → tags."""
        result = self.query(_REQUESTED_BACKFILLS)["partitionBackfillsOrError"]
        if result["__typename"] != "PartitionBackfills":
            raise DagsterApiError(f"partitionBackfillsOrError: {result.get('message', result['__typename'])}")
        return {item["id"]: {tag["key"]: tag["value"] for tag in item["tags"]} for item in result["results"]}

    def asset_nodes(self) -> list[AssetNode]:
        """Every asset of the code location, as the webserver has it loaded."""
        return [AssetNode(tuple(node["assetKey"]["path"]), node["groupName"], frozenset(node["kinds"]))
                for node in self.query(_ASSET_NODES)["assetNodes"]]

"""A real Dagster deployment for UI tests: the simulator and `festival-pipeline dev` on a fresh database.

Not a test module: `test_ui_graphql.py` and `test_ui_browser.py` import the `dagster_ui` fixture from
here. It starts, on free ports of 127.0.0.1,

* the oscars.org/IMDb simulator from ../shared/festival_web (in-process, skipped when absent),
* `festival-pipeline dev` — what a user runs: it prepares the instance (`runtime.instance_home.prepare`) and runs
  `dagster dev` (webserver, daemon, code server) in a process group of its own — with a fresh festival
  database of the session's embedded PostgreSQL as FESTIVAL_DATABASE_URL (the Dagster instance goes
  to `<that database>_dagster`) and its own FESTIVAL_PIPELINE_HOME,

waits until the webserver has loaded the code location and the daemons a backfill and a queued run
need report healthy, and stops it afterwards as a user does (SIGTERM: dev stops its whole group).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from festival_pipeline.database.embedded import RunningServer
from festival_pipeline.runtime.services import free_port
from festival_pipeline_tests.conftest import (
    PROJECT_ROOT,
    SHARED,
    create_database,
    requires_shared,
    sites_env,
)

CLI = str(Path(sys.executable).with_name("festival-pipeline"))
STARTUP_TIMEOUT = 180  # seconds: the webserver loads the code location, the daemon heartbeats
STOP_TIMEOUT = 20
# the daemons a backfill and a queued run need
REQUIRED_DAEMONS = ("BACKFILL", "QUEUED_RUN_COORDINATOR")


@dataclass
class DagsterUI:
    """What a UI test needs: where things listen, and the festival database to assert on."""

    url: str  # the webserver, e.g. http://127.0.0.1:PORT
    simulator_url: str
    database_url: str  # the festival database (psycopg2 URL)
    env: dict[str, str]
    logs: dict[str, Path] = field(default_factory=dict)
    location_name: str = ""
    repository_name: str = ""

    def graphql(self, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
        """POST to /graphql; raises with the server's errors, returns `data`."""
        response = requests.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}},
                                 timeout=timeout)
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def log_tail(self, lines: int = 60) -> str:
        """The end of the services' log, for failure messages."""
        parts = []
        for name, path in self.logs.items():
            text = path.read_text(errors="replace").splitlines() if path.exists() else []
            parts.append(f"--- {name} ({path}) ---\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)


_LOCATIONS_QUERY = """
query {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { name repositories { name } }
          ... on PythonError { message }
        }
      }
    }
  }
}
"""

_DAEMONS_QUERY = """
query { instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }
"""


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:  # the child keeps its own handle
        # its own process group, so teardown reaches whatever it started even if it dies first
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (dev forwards it to the webserver, daemon and code server), wait, then SIGKILL what is
    left of its process group."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT)
    # children may outlive a leader that exited: the group id is still the leader's pid
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_TIMEOUT)


def _wait_until_ready(ui: DagsterUI, processes: dict[str, subprocess.Popen]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last = "nothing answered yet"
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode} during startup\n{ui.log_tail()}")
        try:
            requests.get(f"{ui.url}/server_info", timeout=5).raise_for_status()
            if not ui.location_name:
                ui.location_name, ui.repository_name = _loaded_location(ui)
            unhealthy = _unhealthy_daemons(ui)
            if not unhealthy:
                return
            last = f"daemons not healthy yet: {unhealthy}"
        except (requests.RequestException, _NotReady) as exc:
            last = str(exc)
        time.sleep(1)
    raise RuntimeError(f"the Dagster UI was not ready within {STARTUP_TIMEOUT} s ({last})\n{ui.log_tail()}")


class _NotReady(Exception):
    pass


def _loaded_location(ui: DagsterUI) -> tuple[str, str]:
    workspace = ui.graphql(_LOCATIONS_QUERY)["workspaceOrError"]
    if workspace["__typename"] != "Workspace":
        raise _NotReady(f"workspace: {workspace}")
    for entry in workspace["locationEntries"]:
        location = entry["locationOrLoadError"]
        if location is None or entry["loadStatus"] != "LOADED":
            raise _NotReady(f"code location {entry['name']} is {entry['loadStatus']}")
        if location["__typename"] == "PythonError":
            raise RuntimeError(f"code location {entry['name']} failed to load: {location['message']}")
        return location["name"], location["repositories"][0]["name"]
    raise _NotReady("no code location yet")


def _unhealthy_daemons(ui: DagsterUI) -> list[str]:
    statuses = ui.graphql(_DAEMONS_QUERY)["instance"]["daemonHealth"]["allDaemonStatuses"]
    healthy = {status["daemonType"] for status in statuses if status["healthy"]}
    return [daemon for daemon in REQUIRED_DAEMONS if daemon not in healthy]


@pytest.fixture(scope="module")
def dagster_ui(pg_server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterUI]:
    """The simulator and `festival-pipeline dev` on a fresh database, for one test module."""
    requires_shared()
    if str(SHARED) not in sys.path:
        sys.path.insert(0, str(SHARED))
    from festival_web import start_server

    simulator_url, stop_simulator = start_server(port=0)
    processes: dict[str, subprocess.Popen] = {}
    try:
        home = tmp_path_factory.mktemp("dagster_ui_home")
        database_url = create_database(pg_server, prefix="ui")
        # a developer's own DAGSTER_HOME or Dagster database must not be used
        env = {key: value for key, value in os.environ.items()
               if key not in ("DAGSTER_HOME", "FESTIVAL_DAGSTER_DATABASE_URL", "FESTIVAL_DAGSTER_PG_URL")}
        env.update(FESTIVAL_DATABASE_URL=database_url, FESTIVAL_PIPELINE_HOME=str(home),
                   **sites_env(simulator_url),
                   FESTIVAL_HTTP_REQUESTS_PER_SECOND="0", PYTHONUNBUFFERED="1")
        port = free_port()
        ui = DagsterUI(url=f"http://127.0.0.1:{port}", simulator_url=simulator_url, database_url=database_url,
                       env=env, logs={"festival-pipeline dev": home / "dev.log"})
        processes["festival-pipeline dev"] = _start([CLI, "dev", "--host", "127.0.0.1", "--port", str(port)],
                                                    env, ui.logs["festival-pipeline dev"])
        _wait_until_ready(ui, processes)
        yield ui
    finally:
        for process in processes.values():
            _stop(process)
        stop_simulator()

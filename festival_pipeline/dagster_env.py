"""The environment Dagster processes run in: DAGSTER_HOME and the instance's database."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from festival_pipeline import settings
from festival_pipeline.database import connection, migrate
from festival_pipeline.settings import ConfigurationError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# one pool per source host (the `pool=` of the page assets); limits in dagster.yaml
SOURCE_POOLS = ("oscars.org", "imdb.com")
EVENT_BATCH_SIZE = 500  # more than the partitions of any one run


def project_file(name: str) -> Path:
    """A file at the project root (dagster.yaml, workspace.yaml); the install is editable."""
    path = PROJECT_ROOT / name
    if not path.exists():
        raise ConfigurationError(f"{name} not found at {PROJECT_ROOT}; install the project with `pip install -e .`")
    return path


def prepare() -> dict[str, str]:
    """Start/migrate the database, lay out DAGSTER_HOME, and return the environment to run Dagster with."""
    urls = connection.resolve_database_urls()
    migrate.upgrade(urls.festival)
    connection.ensure_database_exists(urls.dagster)
    home = settings.pipeline_home()
    dagster_home = home / "dagster_home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(project_file("dagster.yaml"), dagster_home / "dagster.yaml")
    env = dict(os.environ)
    env.update(
        DAGSTER_HOME=str(dagster_home),
        FESTIVAL_PIPELINE_HOME=str(home),
        FESTIVAL_DAGSTER_PG_URL=urls.dagster_sqlalchemy,
        FESTIVAL_DAGSTER_STORAGE=str(home / "dagster_storage"),
        FESTIVAL_DAGSTER_COMPUTE_LOGS=str(home / "compute_logs"),
    )
    # Dagster's opt-in batched event writes: a ranged step's per-partition materializations
    # (98 for the Oscars) go to the event log in one statement instead of one each
    env.setdefault("DAGSTER_EVENT_BATCH_SIZE", str(EVENT_BATCH_SIZE))
    _create_pools(env, urls.dagster)
    return env


def _create_pools(env: dict[str, str], dagster_url: str) -> None:
    """Create the pools' limit rows up front, once.

    Dagster creates them on first use, and several runs starting together on a fresh instance race
    on that insert (one fails with a unique violation). Its initializer is not idempotent on
    PostgreSQL either, so only missing pools are created, under an advisory lock.
    """
    from dagster import DagsterInstance

    lock = connection.connect(dagster_url)
    saved = dict(os.environ)
    try:
        with lock.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(hashtext('festival_pipeline.pools'))")
        os.environ.update(env)
        with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
            storage = instance.event_log_storage
            for pool in set(SOURCE_POOLS) - set(storage.get_concurrency_keys()):
                storage.initialize_concurrency_limit_to_default(pool)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        lock.close()  # ends the session, which releases the lock


def apply(env: dict[str, str]) -> None:
    """Make this process use the prepared environment (for in-process Dagster calls)."""
    os.environ.update(env)

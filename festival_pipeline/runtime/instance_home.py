"""The Dagster instance festival-pipeline's commands run on: DAGSTER_HOME, its dagster.yaml, and
the environment Dagster's processes get.

The instance settings are the repo's `dagster.yaml` (the file plain `dagster dev` reads) plus
PostgreSQL storage on the server that holds the festival tables, in a database of its own
(`dagster`, or `<name>_dagster` next to an external festival database). A deployment that sets
DAGSTER_HOME to a folder with its own dagster.yaml keeps it unchanged.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from festival_pipeline.database import connection, migrate
from festival_pipeline.errors import ConfigurationError
from festival_pipeline.pools import SITE_POOLS
from festival_pipeline.settings import DatabaseSettings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PG_URL_VARIABLE = "FESTIVAL_DAGSTER_PG_URL"
POOLS_MARKER = ".site_pools_created"
POSTGRES_STORAGE = {"storage": {"postgres": {"postgres_url": {"env": PG_URL_VARIABLE}}}}


def project_file(name: str) -> Path:
    """A file at the project root (dagster.yaml, workspace.yaml); the install is editable."""
    path = PROJECT_ROOT / name
    if not path.exists():
        raise ConfigurationError(f"{name} not found at {PROJECT_ROOT}; install the project with `pip install -e .`")
    return path


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` unless it holds it already; several services starting at once
    never read a half-written file."""
    if path.exists() and path.read_text() == text:
        return
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(text)
    os.replace(partial, path)


@dataclass(frozen=True)
class DagsterEnvironment:
    """What a command needs to run Dagster on this project's instance."""

    env: dict[str, str]  # the environment for Dagster processes (DAGSTER_HOME, the storage URL, …)
    dagster_home: Path
    festival_url: str
    dagster_url: str


def instance_config() -> dict:
    """The repo's dagster.yaml with PostgreSQL storage added."""
    config = yaml.safe_load(project_file("dagster.yaml").read_text()) or {}
    return {**config, **POSTGRES_STORAGE}


def prepare(database: DatabaseSettings, home: Path, environ: Mapping[str, str] | None = None) -> DagsterEnvironment:
    """Start (or find) the database, migrate it, lay out DAGSTER_HOME, and return the environment."""
    base = dict(os.environ if environ is None else environ)
    urls = connection.resolve_database_urls(database)
    migrate.upgrade(urls.festival)
    connection.ensure_database_exists(urls.dagster)
    own_home = base.get("DAGSTER_HOME")
    if own_home and (Path(own_home) / "dagster.yaml").exists():
        dagster_home = Path(own_home)  # a deployment's own instance config
    else:
        dagster_home = home / "dagster_home"
        dagster_home.mkdir(parents=True, exist_ok=True)
        config = yaml.safe_dump(instance_config(), sort_keys=False)
        write_atomically(dagster_home / "dagster.yaml", config)
    env = {**base, "DAGSTER_HOME": str(dagster_home), "FESTIVAL_PIPELINE_HOME": str(home),
           PG_URL_VARIABLE: connection.dagster_storage_url(database, urls)}
    create_site_pools(env, dagster_home)
    return DagsterEnvironment(env=env, dagster_home=dagster_home, festival_url=urls.festival,
                              dagster_url=urls.dagster)


def create_site_pools(env: Mapping[str, str], dagster_home: Path) -> None:
    """Create the site pools that do not exist yet, with dagster.yaml's `pools.default_limit` and
    Dagster's own commands, before any run needs them; a limit an operator set (UI, CLI) is kept.

    Dagster creates a pool on its first use from `pools.default_limit`, but runs starting together on
    a fresh PostgreSQL instance race on that insert and one of them fails; created up front, there is
    nothing to race on. A marker in DAGSTER_HOME naming the Dagster database keeps later commands
    from paying for the check again (a home pointed at another database checks again).
    """
    marker = dagster_home / POOLS_MARKER
    database = hashlib.sha256(env[PG_URL_VARIABLE].encode()).hexdigest()[:16]
    if marker.exists() and marker.read_text().strip() == database:
        return
    with _one_preparer_at_a_time(env[PG_URL_VARIABLE]):
        existing = _existing_pools(env, dagster_home)
        limit = pool_limit(dagster_home)
        creating = {pool: subprocess.Popen([*DAGSTER_CONCURRENCY, "set", pool, str(limit)], env=dict(env),
                                           cwd=dagster_home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                           text=True)
                    for pool in SITE_POOLS if pool not in existing}
        for pool, process in creating.items():
            output, _ = process.communicate(timeout=120)
            if process.returncode != 0:
                raise ConfigurationError(f"cannot create the Dagster pool {pool}: {_last_line(output)}")
    write_atomically(marker, database + "\n")


def pool_limit(dagster_home: Path) -> int:
    """The instance's default pool limit (dagster.yaml `concurrency.pools.default_limit`, Dagster's 1
    when unset): the site pools are created with it."""
    config = yaml.safe_load((dagster_home / "dagster.yaml").read_text()) or {}
    return int(((config.get("concurrency") or {}).get("pools") or {}).get("default_limit", 1))


@contextmanager
def _one_preparer_at_a_time(dagster_url: str) -> Iterator[None]:
    """Hold a PostgreSQL advisory lock on the Dagster database: services started together (a
    deployment's code server, webserver and daemon) would otherwise all find the pools missing and
    race on creating them (and on Dagster's first creation of its tables); the later ones wait, then
    find the pools."""
    lock = connection.connect(dagster_url)
    lock.autocommit = True
    try:
        with lock.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(hashtext('festival_pipeline.site_pools'))")
        yield
    finally:
        lock.close()  # the lock ends with the session


DAGSTER_CONCURRENCY = [sys.executable, "-m", "dagster", "instance", "concurrency"]


def _existing_pools(env: Mapping[str, str], dagster_home: Path) -> set[str]:
    """The pools with a limit on the instance (`dagster instance concurrency get --all`)."""
    result = subprocess.run([*DAGSTER_CONCURRENCY, "get", "--all"], env=dict(env), cwd=dagster_home,
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise ConfigurationError(f"cannot list the Dagster pools: {_last_line(result.stderr or result.stdout)}")
    return set(re.findall(r'^"(.+)": \d+ / \d+ slots occupied', result.stdout, flags=re.MULTILINE))


def _last_line(output: str) -> str:
    return (output.strip().splitlines() or ["no output"])[-1]

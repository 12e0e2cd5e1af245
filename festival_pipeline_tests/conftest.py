"""Shared fixtures: a real embedded PostgreSQL, fresh databases, and the site simulator; stopping a
service as a deployment does."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import psycopg2
import pytest
from psycopg2 import sql

from festival_pipeline.database import migrate
from festival_pipeline.database.connection import stop_embedded
from festival_pipeline.database.embedded import EmbeddedPostgres, RunningServer
from festival_pipeline.database.server_location import SYSTEM_ROOT
from festival_pipeline.tags import RANGE_END_TAG, RANGE_START_TAG

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
SIMULATOR_PACKAGE = SHARED / "festival_web"
FIXTURE_PAGES = Path(__file__).parent / "fixtures" / "pages"


def stop_on_sigterm(name: str, process: subprocess.Popen) -> str | None:
    """SIGTERM `process` (started in a session of its own); what went wrong if it did not stop with
    every child it started (all killed then)."""
    tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)] \
        if process.poll() is None else []
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return f"the {name} did not stop on SIGTERM"
    _, alive = psutil.wait_procs(tree, timeout=30)
    for left in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            left.kill()
    return f"the {name} left {[p.pid for p in alive]} behind" if alive else None


def requires_shared() -> None:
    if not SIMULATOR_PACKAGE.exists():
        pytest.skip(f"../shared/festival_web is absent ({SIMULATOR_PACKAGE}); simulator tests need it")


@pytest.fixture(scope="session")
def service_tmp() -> Iterator[Path]:
    """A temporary folder for the session's embedded servers: `system/` stands in for the system
    location their files live in as root (SYSTEM_ROOT), so the session leaves nothing there."""
    base = Path(tempfile.mkdtemp(prefix="festival-pg-"))
    base.chmod(0o755)  # as root the server's account passes through to system/<key>
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def system_root(service_tmp: Path) -> Path:
    return service_tmp / "system"


@pytest.fixture
def pg_home(service_tmp: Path) -> Iterator[Path]:
    """A FESTIVAL_PIPELINE_HOME that does not exist yet, for a server of this test's own; its server
    is stopped afterwards, and (as root) the files it made in SYSTEM_ROOT removed."""
    home = service_tmp / f"home-{uuid.uuid4().hex[:8]}"
    yield home
    remove_server(home)


def remove_server(home: Path) -> None:
    """Stop the embedded server of `home` started through the environment (SYSTEM_ROOT as root), and
    its pgbouncer, and remove the files it has outside the home."""
    server = EmbeddedPostgres(home)
    stop_embedded(home)
    if server.location.system and server.location.root.parent == SYSTEM_ROOT:
        shutil.rmtree(server.location.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server(service_tmp: Path, system_root: Path) -> Iterator[RunningServer]:
    """One embedded PostgreSQL for the whole session, as users get it by default.

    Its data is thrown away with the session, so it does not flush to disk (`fsync = off`): the
    hundreds of databases the tests create made every CREATE DATABASE and the final checkpoint
    wait on the disk (4-10 s at shutdown alone). Nothing the tests assert depends on durability
    across a server crash; the crash tests kill the pipeline's processes, not the server."""
    manager = EmbeddedPostgres(service_tmp / "pg_home", system_root=system_root)
    server = manager.ensure_running()
    with _admin(server) as cursor:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            cursor.execute(sql.SQL("ALTER SYSTEM SET {} = off").format(sql.Identifier(setting)))
        cursor.execute("SELECT pg_reload_conf()")
    yield server
    manager.stop()


@contextmanager
def _admin(server: RunningServer) -> Iterator[psycopg2.extensions.cursor]:
    admin = psycopg2.connect(server.url("postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            yield cursor
    finally:
        admin.close()


def create_database(server: RunningServer, prefix: str = "test", template: str | None = None) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with _admin(server) as cursor:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        cursor.execute(statement)
    return server.url(name)


@pytest.fixture(scope="session")
def migrated_template(pg_server: RunningServer) -> str:
    """A database migrated once, copied for every test that wants a fresh migrated database."""
    url = create_database(pg_server, "template_festival")
    migrate.upgrade(url)
    return urlsplit(url).path.lstrip("/")


@pytest.fixture
def empty_database_url(pg_server: RunningServer) -> str:
    return create_database(pg_server)


@pytest.fixture
def festival_database_url(pg_server: RunningServer, migrated_template: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, migrated festival database, also exported as FESTIVAL_DATABASE_URL."""
    url = create_database(pg_server, template=migrated_template)
    monkeypatch.setenv("FESTIVAL_DATABASE_URL", url)
    return url


@pytest.fixture(scope="session")
def simulator_url() -> Iterator[str]:
    """The oscars.org + IMDb simulator on a free port (skipped when ../shared is absent)."""
    requires_shared()
    sys.path.insert(0, str(SHARED))
    from festival_web import start_server

    url, shutdown = start_server(port=0)
    yield url
    shutdown()


def fixture_page(name: str) -> str:
    return (FIXTURE_PAGES / name).read_text(encoding="utf-8")


class _RecordedSites:
    """Serves the committed fixture pages at the simulator's routes (for runs without ../shared)."""

    def __init__(self, transform=None, status_override: int | None = None) -> None:
        import http.server
        import re
        import threading

        pages = FIXTURE_PAGES

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0].rstrip("/")
                if path == "/event/ev0000003":
                    self.send_response(302)
                    self.send_header("Location", "/event/ev0000003/2026/1/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                name = None
                if match := re.fullmatch(r"/oscars/ceremonies/(\d{4})", path):
                    name = f"oscars_{match.group(1)}.html"
                elif match := re.fullmatch(r"/event/ev0000003/(\d{4})/(\d+)", path):
                    name = f"imdb_ev0000003_{match.group(1)}_{match.group(2)}.html"
                body = (pages / name).read_bytes() if name and (pages / name).exists() else b"not found"
                status = 200 if body != b"not found" else 404
                if status == 200 and transform is not None:
                    body = transform(path, body)
                if status == 200 and status_override is not None and "/oscars/" in path:
                    status, body = status_override, b""
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# years whose oscars.org and IMDb pages are both among the committed fixtures
RECORDED_YEARS = ("1930", "1931", "2024", "2026")


def recorded_sites(transform=None, status_override: int | None = None) -> _RecordedSites:
    """Recorded pages, optionally altered (changed markup) or answered with another status (blocked)."""
    return _RecordedSites(transform, status_override)


@pytest.fixture(scope="session")
def recorded_sites_url() -> Iterator[str]:
    sites = _RecordedSites()
    yield sites.url
    sites.close()


@pytest.fixture
def dagster_instance(festival_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A real Dagster instance stored in PostgreSQL, laid out as `festival-pipeline dev` does."""
    from dagster import DagsterInstance

    from festival_pipeline import settings
    from festival_pipeline.runtime import instance_home

    home = tmp_path / "home"
    monkeypatch.setenv("FESTIVAL_PIPELINE_HOME", str(home))
    monkeypatch.setenv("FESTIVAL_HTTP_REQUESTS_PER_SECOND", "0")
    environment = instance_home.prepare(settings.database_settings(), home)
    monkeypatch.setenv("DAGSTER_HOME", str(environment.dagster_home))
    monkeypatch.setenv(instance_home.PG_URL_VARIABLE, environment.env[instance_home.PG_URL_VARIABLE])
    instance = DagsterInstance.from_config(str(environment.dagster_home))
    yield instance
    instance.dispose()


@pytest.fixture
def ephemeral_instance(festival_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Dagster's in-memory instance, for runs whose Dagster records need not outlive the test (the
    festival tables still go to the real PostgreSQL of `festival_database_url`)."""
    from dagster import DagsterInstance

    monkeypatch.setenv("FESTIVAL_PIPELINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FESTIVAL_HTTP_REQUESTS_PER_SECOND", "0")
    with DagsterInstance.ephemeral() as instance:
        yield instance


def sites_env(sites_url: str) -> dict[str, str]:
    """The environment that points the pipeline at `sites_url` for oscars.org, IMDb's pages and its API
    (the simulator serves all three)."""
    return {"OSCARS_BASE_URL": sites_url, "IMDB_BASE_URL": sites_url, "IMDB_GRAPHQL_URL": f"{sites_url}/graphql"}


def pipeline_resources(sites_url: str, **sites_settings) -> dict:
    """The code location's resources (from the environment), with both sites and IMDb's GraphQL API at
    `sites_url` (as the simulator serves them)."""
    from festival_pipeline.definitions import code_location_resources
    from festival_pipeline.resources import SourceWebsites

    resources = code_location_resources()
    sites_settings = {"imdb_graphql_url": f"{sites_url}/graphql", "requests_per_second": 0, **sites_settings}
    return {**resources, "sites": SourceWebsites(festival_db=resources["festival_db"], oscars_base_url=sites_url,
                                                 imdb_base_url=sites_url, **sites_settings)}


def run_oscars(instance, sites_url: str, first: str, last: str | None = None, raise_on_error: bool = True,
               run_config: dict | None = None, tags: dict | None = None, sites_settings: dict | None = None):
    """Materialize the registry, then the Oscar assets for `first` (or the range `first`..`last`)
    against `sites_url` standing in for both oscars.org and IMDb, as one run (`sites_settings`: more
    SourceWebsites fields)."""
    from dagster import materialize

    from festival_pipeline.assets.organizations import festival_organizations
    from festival_pipeline.assets.oscars import oscars_assets

    resources = pipeline_resources(sites_url, **(sites_settings or {}))
    materialize([festival_organizations], instance=instance, resources=resources)
    if last is None:
        return materialize(oscars_assets, partition_key=first, instance=instance, resources=resources,
                           raise_on_error=raise_on_error, run_config=run_config, tags=tags)
    return materialize(oscars_assets, instance=instance, resources=resources, raise_on_error=raise_on_error,
                       run_config=run_config, tags={**(tags or {}), RANGE_START: first, RANGE_END: last})


RANGE_START, RANGE_END = RANGE_START_TAG, RANGE_END_TAG


@pytest.fixture
def proxy(simulator_url: str):
    """The fault-injecting proxy in front of the simulator (festival_pipeline_tests/fault_proxy.py)."""
    from festival_pipeline_tests.fault_proxy import FaultProxy

    with FaultProxy(simulator_url) as fault_proxy:
        yield fault_proxy

"""Shared fixtures: a real embedded PostgreSQL, fresh databases, and the site simulator."""

from __future__ import annotations

import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from festival_pipeline.database import migrate
from festival_pipeline.database.embedded import EmbeddedPostgres, RunningServer

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
SIMULATOR_PACKAGE = SHARED / "festival_web"
FIXTURE_PAGES = Path(__file__).parent / "fixtures" / "pages"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def requires_shared() -> None:
    if not SIMULATOR_PACKAGE.exists():
        pytest.skip(f"../shared/festival_web is absent ({SIMULATOR_PACKAGE}); simulator tests need it")


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One embedded PostgreSQL for the whole session, as users get it by default."""
    manager = EmbeddedPostgres(tmp_path_factory.mktemp("pg_home"), free_port())
    server = manager.ensure_running()
    yield server
    manager.stop()


def create_database(server: RunningServer, prefix: str = "test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(server.url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()
    return server.url(name)


@pytest.fixture
def empty_database_url(pg_server: RunningServer) -> str:
    return create_database(pg_server)


@pytest.fixture
def festival_database_url(pg_server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, migrated festival database, also exported as FESTIVAL_DATABASE_URL."""
    url = create_database(pg_server)
    migrate.upgrade(url)
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

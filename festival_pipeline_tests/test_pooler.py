"""pgbouncer in front of the embedded server's Dagster database (festival_pipeline/database/pooler.py):
Dagster's storage goes through it with the same password, a pgbouncer that died is started again on
its port, `db stop` stops it, and without it (off, or failing to start) Dagster connects directly."""

from __future__ import annotations

import os
import signal
import stat
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import psycopg2
import pytest
from dagster import DagsterInstance

from festival_pipeline import settings
from festival_pipeline.database import connection
from festival_pipeline.database.embedded import EmbeddedPostgres
from festival_pipeline.database.pooler import DagsterPooler, find_pgbouncer
from festival_pipeline.database.service_account import server_account
from festival_pipeline.runtime import instance_home
from festival_pipeline.settings import ConfigurationError
from festival_pipeline_tests.conftest import free_port

needs_pgbouncer = pytest.mark.skipif(
    find_pgbouncer(None) is None, reason="pgbouncer is not installed (`apt-get install pgbouncer`; .ci/run does)")


@pytest.fixture
def embedded_home(pg_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("FESTIVAL_DATABASE_URL", raising=False)
    monkeypatch.delenv("FESTIVAL_DAGSTER_DATABASE_URL", raising=False)
    monkeypatch.delenv("FESTIVAL_PGBOUNCER", raising=False)
    monkeypatch.setenv("FESTIVAL_PIPELINE_HOME", str(pg_home))
    monkeypatch.setenv("FESTIVAL_EMBEDDED_PG_PORT", str(free_port()))
    yield pg_home
    EmbeddedPostgres(pg_home, 0).stop()


def _port(url: str) -> int:
    return int(urlsplit(url).port)


def _pgbouncer_process(home: Path) -> psutil.Process:
    return psutil.Process(int((home / "pgbouncer" / "pgbouncer.pid").read_text().split()[0]))


def _wait_until_dead(process: psutil.Process, timeout: float = 10.0) -> None:
    """Until the process is gone or a zombie (this container's init does not reap orphans)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {process.pid} still runs {timeout:.0f} s after SIGKILL")


@needs_pgbouncer
def test_dagster_storage_goes_through_pgbouncer_and_needs_the_password(embedded_home: Path) -> None:
    environment = instance_home.prepare(settings.database_settings(), embedded_home)
    urls = connection.resolve_database_urls(settings.database_settings())
    assert urls.dagster_pooled is not None
    server_port, pooler_port = _port(urls.dagster), _port(urls.dagster_pooled)
    assert pooler_port != server_port
    assert _port(environment.env[instance_home.PG_URL_VARIABLE]) == pooler_port  # what Dagster's processes get
    assert _port(urls.festival) == server_port  # the festival tables connect directly

    # Dagster's storage works through it (its tables were created through it by `prepare`)
    os.environ[instance_home.PG_URL_VARIABLE] = environment.env[instance_home.PG_URL_VARIABLE]
    try:
        with DagsterInstance.from_config(str(environment.dagster_home)) as instance:
            assert instance.get_run_records() == []
    finally:
        del os.environ[instance_home.PG_URL_VARIABLE]

    with psycopg2.connect(urls.dagster_pooled) as session, session.cursor() as cursor:
        cursor.execute("SELECT current_database(), inet_server_port()")
        assert cursor.fetchone() == ("dagster", server_port)  # pgbouncer's own session on the server
    password = urlsplit(urls.dagster_pooled).password
    with pytest.raises(psycopg2.OperationalError, match="no password supplied"):
        psycopg2.connect(urls.dagster_pooled.replace(f":{password}@", "@"))
    with pytest.raises(psycopg2.OperationalError, match="authentication failed"):
        psycopg2.connect(urls.dagster_pooled.replace(f":{password}@", ":wrong@"))

    folder = embedded_home / "pgbouncer"
    for private in ("userlist.txt", "pgbouncer.ini"):
        assert stat.S_IMODE((folder / private).stat().st_mode) == 0o600
    assert password not in (folder / "userlist.txt").read_text()  # the SCRAM secret, not the password
    assert "listen_addr = 127.0.0.1" in (folder / "pgbouncer.ini").read_text()
    assert _pgbouncer_process(embedded_home).username() == (server_account() or psutil.Process().username())


@needs_pgbouncer
def test_a_pgbouncer_that_died_is_started_again_on_its_port(embedded_home: Path) -> None:
    first = connection.resolve_database_urls(settings.database_settings())
    process = _pgbouncer_process(embedded_home)
    process.send_signal(signal.SIGKILL)
    _wait_until_dead(process)  # died, not dying: a kill takes effect a moment later
    again = connection.resolve_database_urls(settings.database_settings())
    assert again.dagster_pooled == first.dagster_pooled  # services started earlier keep their URL
    connection.ensure_database_exists(again.dagster)
    psycopg2.connect(again.dagster_pooled).close()


@needs_pgbouncer
def test_db_stop_stops_pgbouncer_too(embedded_home: Path) -> None:
    connection.resolve_database_urls(settings.database_settings())
    process = _pgbouncer_process(embedded_home)
    assert EmbeddedPostgres(embedded_home, 0).stop()
    assert not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    assert DagsterPooler(embedded_home, server_account()).running_port() is None


def test_off_connects_dagster_directly(embedded_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FESTIVAL_PGBOUNCER", "off")
    urls = connection.resolve_database_urls(settings.database_settings())
    assert urls.dagster_pooled is None
    assert _port(urls.dagster_sqlalchemy) == _port(urls.festival)
    assert not (embedded_home / "pgbouncer").exists()


def test_a_pgbouncer_that_cannot_start_leaves_dagster_direct(
    embedded_home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("FESTIVAL_PGBOUNCER", "/bin/false")  # executable, exits 1 at once
    urls = connection.resolve_database_urls(settings.database_settings())
    assert urls.dagster_pooled is None
    assert _port(urls.dagster_sqlalchemy) == _port(urls.festival)
    assert "pgbouncer did not start" in caplog.text and "connects to PostgreSQL directly" in caplog.text


def test_a_pgbouncer_path_that_is_not_a_program_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"FESTIVAL_PGBOUNCER=.*not an executable"):
        find_pgbouncer(str(tmp_path / "pgbouncer"))

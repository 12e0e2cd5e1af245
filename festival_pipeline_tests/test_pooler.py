"""pgbouncer in front of the embedded server's Dagster database (festival_pipeline/database/pooler.py):
Dagster's storage goes through it on a Unix socket, only the account running the project gets in, a
pgbouncer that died is started again, `db stop` stops it, a step never starts it, and without it (off,
or failing to start) Dagster connects to the server directly."""

from __future__ import annotations

import os
import pwd
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psutil
import psycopg2
import pytest
from dagster import DagsterInstance

from festival_pipeline import settings
from festival_pipeline.database import connection, server_location
from festival_pipeline.database.embedded import EmbeddedPostgres
from festival_pipeline.database.pooler import DagsterPooler, find_pgbouncer
from festival_pipeline.database.service_account import run_as, server_account
from festival_pipeline.errors import ConfigurationError
from festival_pipeline.resources import FestivalDatabase
from festival_pipeline.runtime import instance_home

needs_pgbouncer = pytest.mark.skipif(
    find_pgbouncer(None) is None, reason="pgbouncer is not installed (`apt-get install pgbouncer`; .ci/run does)")


@pytest.fixture
def embedded_home(pg_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for variable in ("FESTIVAL_DATABASE_URL", "FESTIVAL_DAGSTER_DATABASE_URL", "FESTIVAL_PGBOUNCER"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("FESTIVAL_PIPELINE_HOME", str(pg_home))
    return pg_home  # the pg_home fixture stops the server and its pgbouncer


def _pooler(home: Path) -> DagsterPooler:
    return DagsterPooler(EmbeddedPostgres(home).location)


def _pgbouncer_process(home: Path) -> psutil.Process:
    return psutil.Process(int(_pooler(home).pid_file.read_text().split()[0]))


def _socket_folder(url: str) -> str:
    return parse_qs(urlsplit(url).query)["host"][0]


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
def test_dagster_storage_goes_through_pgbouncer_on_a_private_socket(
        embedded_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    environment = instance_home.prepare(settings.database_settings(), embedded_home)
    storage_url = environment.env[instance_home.PG_URL_VARIABLE]
    monkeypatch.setenv(instance_home.PG_URL_VARIABLE, storage_url)
    pooler = _pooler(embedded_home)
    assert _socket_folder(storage_url) == str(pooler.folder)  # what Dagster's processes get
    with DagsterInstance.from_config(str(environment.dagster_home)) as instance:
        assert instance.get_runs() == []  # Dagster's storage works through it
    # through pgbouncer, a session of the Dagster database on the server's socket
    with psycopg2.connect(connection.to_libpq_url(storage_url)) as through, through.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_user, inet_server_addr() IS NULL")
        assert cursor.fetchone() == ("dagster", "postgres", True)
    through.close()
    # its folder and files are the server account's alone; it runs as that account, no TCP, no password
    account = server_account()
    owner = account.pw_uid if account else os.geteuid()
    folder = pooler.folder.stat()
    assert stat.S_IMODE(folder.st_mode) == 0o700 and folder.st_uid == owner
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in (pooler.config_file, pooler.users_file))
    assert "password" not in pooler.users_file.read_text() and '""' in pooler.users_file.read_text()
    process = _pgbouncer_process(embedded_home)
    assert process.net_connections(kind="inet") == []
    status = dict(line.split(":", 1) for line in Path(f"/proc/{process.pid}/status").read_text().splitlines())
    assert status["Uid"].split()[0] == str(owner)
    if account is not None:
        assert status["Gid"].split()[0] == str(account.pw_gid) and status["Groups"].strip() == ""


@needs_pgbouncer
@pytest.mark.skipif(os.geteuid() != 0, reason="needs a second account (the server's, as root)")
def test_through_pgbouncer_an_account_gets_in_only_under_its_own_name(embedded_home: Path) -> None:
    """Peer on pgbouncer's socket: the server's account can enter the folder, but naming root fails."""
    environment = instance_home.prepare(settings.database_settings(), embedded_home)
    url = connection.to_libpq_url(environment.env[instance_home.PG_URL_VARIABLE])
    psql = server_location.binaries(EmbeddedPostgres(embedded_home).location) / "psql"
    result = subprocess.run([str(psql), url, "-c", "SELECT 1"], cwd="/", capture_output=True, text=True, timeout=60,
                            **run_as(server_account()))
    assert result.returncode != 0 and "login rejected" in result.stderr, result.stderr
    assert pwd.getpwuid(os.geteuid()).pw_name == urlsplit(url).username


@needs_pgbouncer
def test_a_pgbouncer_that_died_is_started_again(embedded_home: Path) -> None:
    instance_home.prepare(settings.database_settings(), embedded_home)
    process = _pgbouncer_process(embedded_home)
    os.kill(process.pid, signal.SIGKILL)
    _wait_until_dead(process)
    environment = instance_home.prepare(settings.database_settings(), embedded_home)
    assert _pgbouncer_process(embedded_home).pid != process.pid
    with psycopg2.connect(connection.to_libpq_url(environment.env[instance_home.PG_URL_VARIABLE])):
        pass


@needs_pgbouncer
def test_db_stop_stops_pgbouncer_too(embedded_home: Path) -> None:
    instance_home.prepare(settings.database_settings(), embedded_home)
    process = _pgbouncer_process(embedded_home)
    result = subprocess.run([str(Path(sys.executable).with_name("festival-pipeline")), "db", "stop"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    assert not _pooler(embedded_home).running()


@needs_pgbouncer
def test_a_step_never_starts_pgbouncer(embedded_home: Path) -> None:
    """A step's database resource needs the festival tables only: it starts the server, not pgbouncer
    (it used to start one even with FESTIVAL_PGBOUNCER=off, the setting being dropped on its way)."""
    FestivalDatabase(pipeline_home=str(embedded_home)).start()
    assert EmbeddedPostgres(embedded_home).running() is not None
    assert not _pooler(embedded_home).running() and not _pooler(embedded_home).folder.exists()


def test_switched_off_dagster_connects_to_the_server_directly(
        embedded_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FESTIVAL_PGBOUNCER", "off")
    environment = instance_home.prepare(settings.database_settings(), embedded_home)
    location = EmbeddedPostgres(embedded_home).location
    assert _socket_folder(environment.env[instance_home.PG_URL_VARIABLE]) == str(location.socket_dir)
    assert not _pooler(embedded_home).folder.exists()


def test_a_pgbouncer_that_cannot_start_leaves_dagster_direct(
        embedded_home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("FESTIVAL_PGBOUNCER", "/bin/false")  # executable, exits 1 at once
    environment = instance_home.prepare(settings.database_settings(), embedded_home)
    location = EmbeddedPostgres(embedded_home).location
    assert _socket_folder(environment.env[instance_home.PG_URL_VARIABLE]) == str(location.socket_dir)
    assert "pgbouncer did not start" in caplog.text and "connects to PostgreSQL directly" in caplog.text


def test_a_pgbouncer_path_that_is_not_a_program_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"FESTIVAL_PGBOUNCER=.*not an executable"):
        find_pgbouncer(str(tmp_path / "pgbouncer"))

"""pgbouncer in front of the embedded server, for Dagster's own storage, when pgbouncer is installed.

dagster-postgres opens a new PostgreSQL connection for every event it stores (SQLAlchemy's NullPool;
no public setting changes it), and a backfill of the Oscars stores about 1,900 events. A connection
to PostgreSQL starts a server process (≈3.5 ms here); one to pgbouncer reuses one (≈0.9 ms). Measured
on the full unpolite Oscar backfill: 52-60 s → 40 s (benchmarks/README.md).

Session mode, so every Dagster connection keeps its own server session (LISTEN/NOTIFY, advisory locks
and transactions mean what they meant). pgbouncer listens on 127.0.0.1 only, runs as the embedded
server's account, and asks for the same password: its auth file holds the superuser's SCRAM secret
(0600, written before pgbouncer starts), which also logs pgbouncer into the server. The festival
tables connect directly: each step keeps one connection, there is nothing to save.

Optional: without pgbouncer (or with FESTIVAL_PGBOUNCER=off) Dagster connects directly, as before.
"""

from __future__ import annotations

import configparser
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import fasteners
import psutil
import psycopg2

from festival_pipeline.database.embedded import port_is_free
from festival_pipeline.settings import ConfigurationError

logger = logging.getLogger(__name__)

OFF = "off"
DEBIAN_BINARY = Path("/usr/sbin/pgbouncer")  # not on a non-root PATH
START_TIMEOUT_SECONDS = 10


def find_pgbouncer(setting: str | None) -> str | None:
    """The pgbouncer binary to use: FESTIVAL_PGBOUNCER (a path, or `off`), else one installed."""
    if setting == OFF:
        return None
    if setting:
        if not os.access(setting, os.X_OK):
            raise ConfigurationError(f"FESTIVAL_PGBOUNCER={setting!r} is not an executable file; "
                                     "name pgbouncer's path, or `off` to connect Dagster directly")
        return setting
    found = shutil.which("pgbouncer")
    if found:
        return found
    return str(DEBIAN_BINARY) if os.access(DEBIAN_BINARY, os.X_OK) else None


def _port_answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _same_port_if_free(previous: int | None) -> int:
    """The port pgbouncer had (services started earlier keep their URL) once it is free — a pgbouncer
    that was just killed may hold it a moment longer — else a free one."""
    if previous is not None:
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            if port_is_free(previous):
                return previous
            time.sleep(0.05)
    return _free_port()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DagsterPooler:
    """The pgbouncer of one embedded server; its files live in `<home>/pgbouncer` (0700)."""

    def __init__(self, home: Path, account: str | None) -> None:
        self.home = Path(home).absolute()
        self.account = account  # None: runs as the current user
        self.folder = self.home / "pgbouncer"
        self.config_file = self.folder / "pgbouncer.ini"
        self.auth_file = self.folder / "userlist.txt"
        self.pid_file = self.folder / "pgbouncer.pid"
        self.log_file = self.folder / "pgbouncer.log"

    def running_port(self) -> int | None:
        """The port of this home's pgbouncer, when it runs."""
        try:
            pid = int(self.pid_file.read_text().split()[0])
            process = psutil.Process(pid)
            if process.status() == psutil.STATUS_ZOMBIE or "pgbouncer" not in process.name():
                return None
        except (FileNotFoundError, IndexError, ValueError, psutil.Error):
            return None
        port = self._configured_port()
        return port if port is not None and _port_answers(port) else None

    def ensure_running(self, binary: str, server_url: str, server_port: int, database: str) -> int | None:
        """Start pgbouncer for `database` unless it runs; its port, or None (with a warning in the log)
        when it cannot start: Dagster then connects directly. Safe to call from many processes."""
        with fasteners.InterProcessLock(str(self.home / "pgbouncer.start.lock")):
            port = self.running_port()
            if port is not None:
                return port
            try:
                return self._start(binary, server_url, server_port, database)
            except (OSError, subprocess.SubprocessError, psycopg2.Error, TimeoutError) as exc:
                logger.warning("pgbouncer did not start (%s; see %s): Dagster connects to PostgreSQL directly",
                               exc, self.log_file)
                return None

    def stop(self) -> bool:
        """Stop this home's pgbouncer if it runs (immediate shutdown); True when one was stopped."""
        if self.running_port() is None:
            return False
        pid = int(self.pid_file.read_text().split()[0])
        try:
            os.kill(pid, signal.SIGTERM)
            psutil.Process(pid).wait(timeout=10)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
        return True

    def _configured_port(self) -> int | None:
        parser = configparser.ConfigParser()
        try:
            parser.read_string(self.config_file.read_text())
            return parser.getint("pgbouncer", "listen_port")
        except (FileNotFoundError, configparser.Error, ValueError):
            return None

    def _start(self, binary: str, server_url: str, server_port: int, database: str) -> int:
        owner = pwd.getpwnam(self.account) if self.account else None
        self.folder.mkdir(mode=0o700, exist_ok=True)
        if owner is not None:
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        port = _same_port_if_free(self._configured_port())
        self._write(self.auth_file, f'"postgres" "{_scram_secret(server_url)}"\n', owner)
        self._write(self.config_file, _config(port, server_port, database, self), owner)
        # not a running pgbouncer of ours (running_port): a pid file left by one that died would stop
        # the new one from starting while its process id lives on (a zombie, or reused)
        self.pid_file.unlink(missing_ok=True)
        subprocess.run([binary, "--daemon", "--quiet", str(self.config_file)], check=True, user=self.account,
                       cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=30, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.running_port() == port:
                return port
            time.sleep(0.05)
        raise TimeoutError(f"pgbouncer did not listen on 127.0.0.1:{port} within {START_TIMEOUT_SECONDS} s")

    @staticmethod
    def _write(path: Path, text: str, owner: pwd.struct_passwd | None) -> None:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(handle, 0o600)
        if owner is not None:
            os.fchown(handle, owner.pw_uid, owner.pw_gid)
        with os.fdopen(handle, "w") as stream:
            stream.write(text)


def _scram_secret(server_url: str) -> str:
    """The superuser's SCRAM secret as the server stores it: pgbouncer checks clients against it and,
    with the client's proof, logs into the server (no password in clear on disk)."""
    connection = psycopg2.connect(server_url, connect_timeout=10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolpassword FROM pg_authid WHERE rolname = current_user")
            secret = cursor.fetchone()[0]
    finally:
        connection.close()
    if not secret or not secret.startswith("SCRAM-SHA-256$"):
        raise psycopg2.ProgrammingError("the superuser has no SCRAM password")
    return secret


def _config(port: int, server_port: int, database: str, pooler: DagsterPooler) -> str:
    return f"""\
; written by festival-pipeline (festival_pipeline/database/pooler.py); rewritten at each start
[databases]
{database} = host=127.0.0.1 port={server_port} dbname={database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {pooler.auth_file}
pool_mode = session
max_client_conn = 500
default_pool_size = 100
server_idle_timeout = 60
logfile = {pooler.log_file}
pidfile = {pooler.pid_file}
log_connections = 0
log_disconnections = 0
"""

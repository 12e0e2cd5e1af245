"""pgbouncer in front of the embedded server, for Dagster's own storage, when pgbouncer is installed.

dagster-postgres opens a new PostgreSQL connection for every event it stores (SQLAlchemy's NullPool
in run workers and the daemon; no public setting changes it), and a backfill of the Oscars stores
about 1,900 events. Even on the server's Unix socket a connection starts a server process, while one
to pgbouncer reuses one: the unpolite Oscar backfill is a quarter faster through it
(benchmarks/README.md).

Session mode, so every Dagster connection keeps its own server session (LISTEN/NOTIFY, advisory locks
and transactions mean what they meant). Like the server it listens on a Unix socket only, in a 0700
folder of the server's account beside the server's own files, and runs as that account (its own
group, no other group). Both hops authenticate by `peer`: a client logs in under its own account's
name, which pgbouncer checks with the kernel (pgbouncer 1.18 has no ident map, hence the name), and
pgbouncer logs into the server as the superuser under the server's account, which the server's ident
map lets in. The festival tables connect directly: each step keeps one connection, there is nothing
to save; so only the commands that lay out Dagster's instance start pgbouncer, never a step.

Optional: without pgbouncer, with FESTIVAL_PGBOUNCER=off, or if it cannot start (a warning says why),
Dagster connects to the server's socket directly.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import fasteners
import psutil

from festival_pipeline.database.embedded import SUPERUSER
from festival_pipeline.database.server_location import PORT as SERVER_PORT
from festival_pipeline.database.server_location import ServerLocation
from festival_pipeline.database.service_account import run_as
from festival_pipeline.errors import ConfigurationError

logger = logging.getLogger(__name__)

OFF = "off"
DEBIAN_BINARY = Path("/usr/sbin/pgbouncer")  # not on a non-root PATH
PORT = 6432  # only names its socket file, as the server's port does
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


def _client_user() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


class DagsterPooler:
    """The pgbouncer of one embedded server; its files live in `<server files>/pgbouncer` (0700)."""

    def __init__(self, location: ServerLocation) -> None:
        self.location = location
        self.folder = location.root / "pgbouncer"
        self.config_file = self.folder / "pgbouncer.ini"
        self.hba_file = self.folder / "pgbouncer_hba.conf"  # peer: pgbouncer 1.18 has it only as an hba method
        self.users_file = self.folder / "users.txt"  # the users pgbouncer knows (no passwords: peer)
        self.pid_file = self.folder / "pgbouncer.pid"
        self.log_file = self.folder / "pgbouncer.log"
        self.socket_file = self.folder / f".s.PGSQL.{PORT}"

    def url(self, database: str) -> str:
        """libpq's URL of `database` through pgbouncer, as the account running the project."""
        return f"postgresql://{quote(_client_user(), safe='')}@/{database}?host={quote(str(self.folder), safe='/')}" \
               f"&port={PORT}"

    def running(self) -> bool:
        try:
            process = psutil.Process(int(self.pid_file.read_text().split()[0]))
            alive = process.status() != psutil.STATUS_ZOMBIE and "pgbouncer" in process.name()
        except (FileNotFoundError, IndexError, ValueError, psutil.Error):
            return False
        return alive and self.socket_file.exists()

    def ensure_running(self, binary: str, account: pwd.struct_passwd | None, database: str) -> bool:
        """Start pgbouncer for `database` unless it runs; False (with a warning in the log) when it
        cannot start: Dagster then connects directly. Safe to call from many processes."""
        with fasteners.InterProcessLock(str(self.location.root / "pgbouncer.start.lock")):
            if self.running():
                return True
            try:
                self._start(binary, account, database)
                return True
            except (OSError, subprocess.SubprocessError, TimeoutError) as exc:
                logger.warning("pgbouncer did not start (%s; see %s): Dagster connects to PostgreSQL directly",
                               exc, self.log_file)
                return False

    def stop(self) -> bool:
        """Stop this server's pgbouncer if it runs (immediate shutdown); True when one was stopped."""
        if not self.running():
            return False
        pid = int(self.pid_file.read_text().split()[0])
        try:
            os.kill(pid, signal.SIGTERM)
            psutil.Process(pid).wait(timeout=10)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
        return True

    def _start(self, binary: str, account: pwd.struct_passwd | None, database: str) -> None:
        self.folder.mkdir(mode=0o700, exist_ok=True)
        self.folder.chmod(0o700)
        if account is not None:
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        files = {self.config_file: _config(self, database), self.hba_file: _HBA,
                 self.users_file: f'"{_client_user()}" ""\n'}
        for path, text in files.items():
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            if account is not None:
                os.fchown(handle, account.pw_uid, account.pw_gid)
            with os.fdopen(handle, "w") as stream:
                stream.write(text)
        # a pid file left by one that died would stop the new one from starting while its process id
        # lives on (a zombie, or reused)
        self.pid_file.unlink(missing_ok=True)
        subprocess.run([binary, "--daemon", "--quiet", str(self.config_file)], check=True, cwd="/",
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30,
                       start_new_session=True, **run_as(account))
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.running():
                return
            time.sleep(0.05)
        raise TimeoutError(f"pgbouncer did not listen on {self.socket_file} within {START_TIMEOUT_SECONDS} s")


_HBA = """\
# written by festival-pipeline: its Unix socket only, and a client only under its own account's name
local all all peer
"""


def _config(pooler: DagsterPooler, database: str) -> str:
    return f"""\
; written by festival-pipeline (festival_pipeline/database/pooler.py); rewritten at each start
[databases]
{database} = host={pooler.location.socket_dir} port={SERVER_PORT} dbname={database} user={SUPERUSER}

[pgbouncer]
listen_addr =
unix_socket_dir = {pooler.folder}
unix_socket_mode = 0700
listen_port = {PORT}
auth_type = hba
auth_hba_file = {pooler.hba_file}
auth_file = {pooler.users_file}
pool_mode = session
max_client_conn = 500
default_pool_size = 100
server_idle_timeout = 60
logfile = {pooler.log_file}
pidfile = {pooler.pid_file}
log_connections = 0
log_disconnections = 0
"""

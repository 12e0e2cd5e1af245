"""The embedded PostgreSQL server: the default when FESTIVAL_DATABASE_URL is unset.

It listens on a Unix-domain socket only (`listen_addresses = ''`: no TCP port, so two clones never
collide and nothing on the network reaches it), in a folder only the server's account and the user
running the project can enter (server_location.py). Authentication on that socket is `peer`: the
kernel tells the server which account connects, and pg_ident.conf maps exactly the account running
the project to the superuser. The folder's mode keeps every other account away from the socket;
peer keeps them out even if someone widened the folder, and costs no password to store, hand to
Dagster or leak (there is none). pg_hba.conf and pg_ident.conf are written before every start, from
what this process knows (who runs the project, the server's account).

We run the wheel's initdb and pg_ctl ourselves, as the server's account (its own group, no other
group: service_account.run_as), and leave the server running so that later commands reuse it
(`festival-pipeline db stop` ends it).
"""

from __future__ import annotations

import logging
import os
import pwd
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import fasteners
import psutil

from festival_pipeline.database import server_location
from festival_pipeline.database.server_location import PORT, SYSTEM_ROOT
from festival_pipeline.database.service_account import run_as, server_account
from festival_pipeline.errors import ConfigurationError

logger = logging.getLogger(__name__)

SUPERUSER = "postgres"
IDENT_MAP = "festival"
_HBA = f"""\
# Written by festival-pipeline before every start of the embedded server (database/embedded.py).
# The Unix socket only (the server listens on no TCP port); the kernel names the connecting
# account (peer), and only the accounts of pg_ident.conf's map "{IDENT_MAP}" log in, as {SUPERUSER}.
local all all peer map={IDENT_MAP}
"""


@dataclass(frozen=True)
class RunningServer:
    socket_dir: Path
    data_dir: Path
    pid: int

    def url(self, database: str) -> str:
        """libpq's URL of `database` on this server: the socket folder as `host`, no password."""
        return f"postgresql://{SUPERUSER}@/{database}?host={quote(str(self.socket_dir), safe='/')}&port={PORT}"


@dataclass(frozen=True)
class _Postmaster:
    """What a running server's postmaster.pid says: its process, socket folder and TCP addresses."""

    pid: int
    socket_dir: str
    listen_addresses: str


def _postmaster(data_dir: Path) -> _Postmaster | None:
    """The server that owns `data_dir`, or None when none is running."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        found = _Postmaster(int(lines[0]), lines[4].strip(), lines[5].strip())
    except (FileNotFoundError, PermissionError, IndexError, ValueError):
        return None
    try:
        process = psutil.Process(found.pid)
        running = process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        running = False
    return found if running else None


class EmbeddedPostgres:
    """The PostgreSQL server of one project home (see server_location.py for where its files live)."""

    def __init__(self, home: Path, system_root: Path = SYSTEM_ROOT) -> None:
        self.home = Path(home).absolute()
        self.system_root = system_root
        self.location = server_location.locate(self.home, as_root=os.geteuid() == 0, system_root=system_root)
        self.data_dir = self.location.data_dir
        self.log_file = self.location.log_file

    def running(self) -> RunningServer | None:
        """The server, when it runs as this version starts it (on its socket, without TCP)."""
        current = _postmaster(self.data_dir)
        if current is None or not self._ours(current):
            return None
        return RunningServer(self.location.socket_dir, self.data_dir, current.pid)

    def ensure_running(self) -> RunningServer:
        """Start the server unless it already runs; safe to call from many processes at once."""
        self._create_home()
        with fasteners.InterProcessLock(str(self.home / "postgres.start.lock")):
            current = _postmaster(self.data_dir)
            if current is not None and self._ours(current):
                return RunningServer(self.location.socket_dir, self.data_dir, current.pid)
            account = server_account()
            server_location.lay_out(self.location, self.home, account)
            if not (self.data_dir / "PG_VERSION").exists():
                self._run(account, "initdb", "--auth-local=peer", "--auth-host=reject", "--encoding=utf8",
                          "-U", SUPERUSER, "-D", str(self.data_dir))
            self._write_authentication(account)
            self._start(account)
            server = self.running()
            if server is None:
                raise ConfigurationError(f"embedded PostgreSQL did not start; see {self.log_file}")
            return server

    def stop(self) -> bool:
        """Stop the server if it runs; True when it was stopped."""
        if _postmaster(self.data_dir) is None:
            return False
        self._pg_ctl(server_account(), "stop", "-m", "fast")
        return True

    def _ours(self, postmaster: _Postmaster) -> bool:
        return postmaster.listen_addresses == "" and postmaster.socket_dir == str(self.location.socket_dir)

    def _create_home(self) -> None:
        """A missing home is created 0700: as root the server's files live elsewhere, and nobody
        else needs to enter it."""
        self.home.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.home.mkdir(mode=0o700)
        except FileExistsError:
            return  # there already, or another process was first

    def _write_authentication(self, account: pwd.struct_passwd | None) -> None:
        """pg_hba.conf (the socket, peer) and pg_ident.conf (the account running the project, and as
        root the server's own account)."""
        users = [pwd.getpwuid(os.geteuid()).pw_name]
        if account is not None:  # the server's own account, which pgbouncer runs as (database/pooler.py)
            users.append(account.pw_name)
        ident = f"# Written by festival-pipeline before every start: who may log in as {SUPERUSER}.\n" + \
                "".join(f"{IDENT_MAP} {user} {SUPERUSER}\n" for user in users)
        for name, text in (("pg_hba.conf", _HBA), ("pg_ident.conf", ident)):
            path = self.data_dir / name
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            if account is not None:
                os.fchown(handle, account.pw_uid, account.pw_gid)
            with os.fdopen(handle, "w") as stream:
                stream.write(text)

    def _start(self, account: pwd.struct_passwd | None) -> None:
        socket_dir = shlex.quote(str(self.location.socket_dir))
        # -h '': no TCP address at all; the socket file itself is the account's alone (0700)
        options = f"-h '' -k {socket_dir} -p {PORT} -c unix_socket_permissions=0700 -c max_connections=200"
        try:
            self._pg_ctl(account, "start", "-w", "-t", "60", "-o", options, "-l", str(self.log_file))
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
        return f"embedded PostgreSQL failed to start (log {self.log_file}): {tail}"

    def _binaries(self) -> Path:
        return server_location.binaries(self.location, self.system_root)

    def _pg_ctl(self, account: pwd.struct_passwd | None, *args: str) -> None:
        command = [str(self._binaries() / "pg_ctl"), "-D", str(self.data_dir), *args]
        logger.info("running %s", " ".join(command))
        subprocess.run(
            command,
            check=True,
            cwd="/",  # the account may not be able to enter ours
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=90,
            start_new_session=True,  # the server outlives the command that started it
            **run_as(account),
        )

    def _run(self, account: pwd.struct_passwd | None, tool: str, *args: str) -> None:
        """Run a PostgreSQL tool as the server's account; a one-line error when it fails."""
        result = subprocess.run([str(self._binaries() / tool), *args], cwd="/", capture_output=True, text=True,
                                timeout=120, **run_as(account))
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise ConfigurationError(f"{tool} failed for the embedded PostgreSQL in {self.data_dir}: {last}")

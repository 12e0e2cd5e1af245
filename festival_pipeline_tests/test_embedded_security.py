"""The embedded PostgreSQL listens on a private Unix socket only, lets in only the account running the
project, and, started as root, runs as its service account from files that account owns, with no
folder's mode changed."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import stat
import subprocess
import uuid
from pathlib import Path

import psutil
import psycopg2
import pytest

from festival_pipeline.database import server_location, service_account
from festival_pipeline.database.embedded import SUPERUSER, EmbeddedPostgres
from festival_pipeline.errors import ConfigurationError
from festival_pipeline_tests.conftest import remove_server

AS_ROOT = os.geteuid() == 0
ACCOUNT = service_account.SERVICE_ACCOUNT if AS_ROOT else None
NOLOGIN_SHELLS = {"/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false"}
root_only = pytest.mark.skipif(not AS_ROOT, reason="the server runs under another account only when started as root")


@pytest.fixture(autouse=True)
def _no_stored_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """libpq would otherwise send a password from the environment or ~/.pgpass."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent/pgpass")


def _hba_rules(data_dir: Path) -> list[list[str]]:
    lines = (data_dir / "pg_hba.conf").read_text().splitlines()
    return [line.split() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _proc_status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def test_the_server_listens_on_a_private_socket_only_and_keeps_no_password(pg_home: Path) -> None:
    manager = EmbeddedPostgres(pg_home)
    server = manager.ensure_running()
    # no TCP: nothing listens on any address, and postmaster.pid names no TCP address
    assert psutil.Process(server.pid).net_connections(kind="inet") == []
    assert (manager.data_dir / "postmaster.pid").read_text().splitlines()[5].strip() == ""
    # the socket is in a folder only the server's account (and root) may enter, and is theirs alone
    socket_dir = manager.location.socket_dir.stat()
    owner = pwd.getpwnam(ACCOUNT).pw_uid if ACCOUNT else os.geteuid()
    assert stat.S_IMODE(socket_dir.st_mode) == 0o700 and socket_dir.st_uid == owner
    assert stat.S_IMODE(manager.location.socket_file.stat().st_mode) == 0o700
    assert [rule[:4] for rule in _hba_rules(manager.data_dir)] == [["local", "all", "all", "peer"]]
    with psycopg2.connect(server.url("postgres")) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT rolpassword IS NULL, inet_server_addr() IS NULL FROM pg_authid WHERE rolname = %s",
                       (SUPERUSER,))
        assert cursor.fetchone() == (True, True)  # no password exists; we came over the socket
    connection.close()
    assert "password" not in server.url("festival")
    assert not any("password" in path.name for path in pg_home.rglob("*"))


def test_a_role_the_ident_map_does_not_grant_is_refused(pg_home: Path) -> None:
    server = EmbeddedPostgres(pg_home).ensure_running()
    with pytest.raises(psycopg2.OperationalError, match="Peer authentication failed"):
        psycopg2.connect(server.url("postgres").replace(f"{SUPERUSER}@", "someone_else@"))


@root_only
def test_an_account_that_reaches_a_widened_socket_is_still_refused(pg_home: Path) -> None:
    """Peer, not only the folder's mode: with the socket folder and file opened up by someone, another
    account reaches the socket but does not get in."""
    manager = EmbeddedPostgres(pg_home)
    server = manager.ensure_running()
    psql = server_location.binaries(manager.location) / "psql"
    nobody = pwd.getpwnam("nobody")
    try:
        manager.location.root.chmod(0o711)
        manager.location.socket_dir.chmod(0o711)
        manager.location.socket_file.chmod(0o777)
        result = subprocess.run([str(psql), server.url("postgres"), "-c", "SELECT 1"], cwd="/", capture_output=True,
                                text=True, timeout=60, **service_account.run_as(nobody))
    finally:
        for path in (manager.location.root, manager.location.socket_dir, manager.location.socket_file):
            path.chmod(0o700)
    assert result.returncode != 0 and "Peer authentication failed" in result.stderr, result.stderr


@root_only
def test_as_root_the_server_runs_as_its_account_with_its_own_group_only(pg_home: Path) -> None:
    server = EmbeddedPostgres(pg_home).ensure_running()
    entry = pwd.getpwnam(ACCOUNT)
    assert entry.pw_shell in NOLOGIN_SHELLS and entry.pw_gid != 0
    for process in [psutil.Process(server.pid), *psutil.Process(server.pid).children()]:
        status = _proc_status(process.pid)
        assert status["Uid"].split() == [str(entry.pw_uid)] * 4, status["Uid"]
        assert status["Gid"].split() == [str(entry.pw_gid)] * 4, status["Gid"]
        assert status["Groups"] == "", status["Groups"]  # not root's groups


def _modes(folder: Path) -> dict[Path, int]:
    return {path: stat.S_IMODE(path.stat().st_mode) for path in [folder, *folder.parents]}


@root_only
def test_as_root_a_home_in_a_closed_folder_starts_with_no_mode_changed(service_tmp: Path) -> None:
    """A clone under /root (0700): the server's files go to the system location, nothing is opened up."""
    closed = service_tmp / f"closed-{uuid.uuid4().hex[:8]}"
    closed.mkdir(mode=0o700)
    closed.chmod(0o700)
    before = _modes(closed)
    home = closed / "clone" / ".festival_pipeline"
    manager = EmbeddedPostgres(home)
    try:
        server = manager.ensure_running()
        psycopg2.connect(server.url("postgres")).close()
        assert _modes(closed) == before
        location = manager.location
        assert location.root.parent == server_location.SYSTEM_ROOT
        assert (location.root / "home").read_text().strip() == str(home)
        data = manager.data_dir.stat()
        assert stat.S_IMODE(data.st_mode) == 0o700 and data.st_uid == pwd.getpwnam(ACCOUNT).pw_uid
        binaries = server_location.binaries(location)
        assert server_location.SYSTEM_ROOT in binaries.parents  # a copy the account can reach
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
    finally:
        manager.stop()
        shutil.rmtree(manager.location.root, ignore_errors=True)


def test_two_homes_run_two_servers_side_by_side(pg_home: Path, service_tmp: Path) -> None:
    """Two clones on one machine, no setting: no port to share, one socket each."""
    other_home = service_tmp / f"home-{uuid.uuid4().hex[:8]}"
    first = EmbeddedPostgres(pg_home).ensure_running()
    try:
        second = EmbeddedPostgres(other_home).ensure_running()
        assert first.socket_dir != second.socket_dir and first.pid != second.pid
        for server, name in ((first, "first"), (second, "second")):
            with psycopg2.connect(server.url("postgres")) as connection, connection.cursor() as cursor:
                cursor.execute("SELECT setting FROM pg_settings WHERE name = 'data_directory'")
                assert cursor.fetchone()[0] == str(server.data_dir), name
            connection.close()
    finally:
        remove_server(other_home)


def test_a_home_too_deep_for_a_socket_is_one_clear_line(service_tmp: Path) -> None:
    if AS_ROOT:
        pytest.skip("as root the socket lives under the system location, whatever the home")
    home = service_tmp / ("d" * 60) / ("e" * 60)
    with pytest.raises(ConfigurationError, match=r"longer than the 107 characters.*FESTIVAL_PIPELINE_HOME") as raised:
        EmbeddedPostgres(home).ensure_running()
    assert "\n" not in str(raised.value)


def _uid_min() -> int:
    defs = Path("/etc/login.defs")
    found = re.search(r"^UID_MIN\s+(\d+)", defs.read_text(), re.MULTILINE) if defs.exists() else None
    return int(found.group(1)) if found else 1000


@root_only
def test_a_new_service_account_is_a_system_account_with_its_own_group_and_no_login_shell() -> None:
    name = f"fpsec{uuid.uuid4().hex[:8]}"
    try:
        entry = service_account.ensure_service_account(name)
        assert entry.pw_uid < _uid_min()  # a system account
        assert entry.pw_shell in NOLOGIN_SHELLS
        assert entry.pw_gid != 0
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

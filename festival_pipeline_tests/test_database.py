"""The database foundation: both modes, migrations, the registry upsert."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from festival_pipeline import settings
from festival_pipeline.database import connection, migrate
from festival_pipeline.database.embedded import EmbeddedPostgres
from festival_pipeline.database.organizations import upsert_organizations
from festival_pipeline.registry import FESTIVALS
from festival_pipeline.settings import ConfigurationError
from festival_pipeline_tests.conftest import free_port

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
    monkeypatch.setenv("FESTIVAL_EMBEDDED_PG_PORT", str(free_port()))
    try:
        urls = connection.resolve_database_urls(settings.database_settings())
        assert urls.embedded and urls.festival.endswith("/festival") and urls.dagster.endswith("/dagster")
        # TCP needs the generated password (kept 0600 in the home): no other local user gets in
        password_file = pg_home / "postgres.password"
        assert password_file.stat().st_mode & 0o777 == 0o600
        assert password_file.read_text() in urls.festival
        port = int(urls.festival.rsplit(":", 1)[1].split("/")[0])
        with pytest.raises(psycopg2.OperationalError, match="password"):
            psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        pid_file = pg_home / "postgres" / "postmaster.pid"
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
    finally:
        EmbeddedPostgres(pg_home, 0).stop()


def test_embedded_mode_reports_a_busy_port(pg_home: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(ConfigurationError, match=f"port {port} .*in use"):
            EmbeddedPostgres(pg_home, port).ensure_running()


def test_two_managers_never_start_two_servers_on_one_data_directory(pg_home: Path) -> None:
    first = EmbeddedPostgres(pg_home, free_port())
    second = EmbeddedPostgres(pg_home, free_port())  # another port, same data
    try:
        server = first.ensure_running()
        assert second.ensure_running() == server  # found the running one instead of starting another
    finally:
        first.stop()


def test_external_mode_never_starts_a_server(
    pg_server, pg_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """External = a second, separately started server; the embedded home stays untouched."""
    external = EmbeddedPostgres(pg_home, free_port())
    server = external.ensure_running()
    try:
        home = tmp_path / "unused_home"
        monkeypatch.setenv("FESTIVAL_PIPELINE_HOME", str(home))
        monkeypatch.setenv("FESTIVAL_DATABASE_URL", server.url("festival_ext"))
        urls = connection.resolve_database_urls(settings.database_settings())
        assert not urls.embedded
        assert urls.festival == server.url("festival_ext")
        assert urls.dagster == server.url("festival_ext_dagster")
        migrate.upgrade(urls.festival)
        assert "festival_ceremonies" in _tables(urls.festival)
        assert not (home / "postgres").exists()
    finally:
        external.stop()


def test_unreachable_external_database_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql://someone:secret@127.0.0.1:{free_port()}/festival"
    result = subprocess.run(
        [sys.executable, "-m", "festival_pipeline.cli", "db", "upgrade"],
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
        [sys.executable, "-m", "festival_pipeline.cli", "db", "url"], capture_output=True, text=True, timeout=60,
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

"""Network faults between the pipeline and the sites, injected by a proxy (fault_proxy.py).

Transient faults (5xx, 429 + Retry-After, connection resets, responses slower than the
timeout, bodies cut short on the wire) are retried by the HTTP client: a ranged backfill
through them ends with exactly the rows - and the archived pages - of a clean run.

Permanent faults are pages that arrive complete and consistent (status 200, matching
Content-Length) but are wrong. "Garbled" here means, per site:

* **cut short**: the first 60 % of the page served as if it were all of it (oscars.org: the
  markup just stops, lxml would close the open tags; IMDb: the cut falls inside __NEXT_DATA__);
* **half removed, well-formed**: every other award category taken out of an otherwise valid
  page (oscars.org: the category blocks of the Drupal markup; IMDb: every other category
  edge of every award in __NEXT_DATA__, re-serialised as valid JSON; fault_proxy's page edits) -
  these pass every check but the cross-site one, which refuses them, by name;
* **never served**: 503 on every attempt, or the body cut on the wire on every attempt.

None of them may be parsed as a smaller ceremony: the run fails, the year is recorded as
failed, and the rows written before stay exactly as they were (ids, values, updated_at).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

import pytest

from festival_pipeline.database import connection, migrate
from festival_pipeline_tests.conftest import create_database
from festival_pipeline_tests.conftest import run_oscars as run_oscars_raising
from festival_pipeline_tests.fault_proxy import (
    RESET,
    FaultProxy,
    always_ok,
    drop_categories,
    drop_oscars_categories,
    permanent,
    rotating,
    slow,
    status,
    transform,
    truncate,
)

pytestmark = pytest.mark.integration

# faults and hostile pages may fail a run: these tests assert on the result instead; IMDb is read
# from its event pages, where the faults are (the API's: test_imdb_api_pipeline.py)
run_oscars = functools.partial(run_oscars_raising, raise_on_error=False, sites_settings={"imdb_source": "pages"})

TIMEOUT = 1.0
TRANSIENT = (status(500), status(503), status(429, retry_after="1"), RESET, slow(TIMEOUT + 1.5), truncate(0.6))


@pytest.fixture
def http_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FESTIVAL_HTTP_REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("FESTIVAL_HTTP_TIMEOUT", str(TIMEOUT))
    monkeypatch.setenv("FESTIVAL_HTTP_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("FESTIVAL_HTTP_MAX_RETRIES", "6")


def fingerprint(url: str) -> dict[str, list]:
    """Every Oscar row as values (no serial ids, no timestamps), and the archived pages."""
    queries = {
        "ceremonies": """SELECT c.year, c.edition, c.ceremony_number, c.name, c.source_urls, c.data, c.data_source
                         FROM festival_ceremonies c ORDER BY c.year, c.edition""",
        "categories": """SELECT prize_name, name, tracks_person, category_type, metadata
                         FROM festival_categories ORDER BY prize_name, name""",
        "nominations": """SELECT c.year, n.nomination_key, n.position, n.won, k.prize_name, k.name, n.film_title,
                                 n.film_imdb_ids, n.person_imdb_ids, n.nominee_names, n.details
                          FROM festival_nominations n JOIN festival_ceremonies c ON c.id = n.ceremony_id
                          JOIN festival_categories k ON k.id = n.category_id
                          ORDER BY c.year, n.nomination_key""",
        "raw_pages": "SELECT url, status, sha256, size_bytes FROM raw_pages ORDER BY url, sha256",
    }
    with connection.transaction(url) as cursor:
        out = {}
        for name, query in queries.items():
            cursor.execute(query)
            out[name] = [tuple(json.dumps(v, sort_keys=True) if isinstance(v, dict) else v for v in row)
                         for row in cursor.fetchall()]
    return out


def exact_rows(url: str) -> list[tuple]:
    """Nomination and ceremony rows with their ids and updated_at: any write shows."""
    with connection.transaction(url) as cursor:
        cursor.execute("""SELECT n.id, n.nomination_key, n.won, n.category_id, n.nominee_names, n.updated_at
                          FROM festival_nominations n ORDER BY n.id""")
        nominations = cursor.fetchall()
        cursor.execute("SELECT id, year, updated_at, scraped_at FROM festival_ceremonies ORDER BY id")
        return nominations + cursor.fetchall()


def outcome(url: str, year: int) -> tuple[str, str | None]:
    with connection.transaction(url) as cursor:
        cursor.execute("SELECT status, error FROM import_outcomes WHERE year = %s", (year,))
        return cursor.fetchone()


# --------------------------------------------------------------------------- transient faults


def test_transient_faults_give_exactly_the_rows_of_a_clean_run(
    dagster_instance, festival_database_url: str, pg_server, proxy: FaultProxy, http_env,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run_oscars(dagster_instance, proxy.url, "2022", "2024").success
    clean = fingerprint(festival_database_url)
    assert len({row[0] for row in clean["nominations"]}) == 3

    faulty_db = create_database(pg_server)
    migrate.upgrade(faulty_db)
    monkeypatch.setenv("FESTIVAL_DATABASE_URL", faulty_db)  # FestivalDatabase reads it at every call
    proxy.plan = rotating(TRANSIENT, per_path=3)
    result = run_oscars(dagster_instance, proxy.url, "2022", "2024")

    served = proxy.faults_served()
    assert result.success, served
    assert {fault.label for fault in TRANSIENT} <= set(served), served  # every kind of fault was met
    assert sum(n for label, n in served.items() if label != "ok") >= 3 * len(proxy.attempts) - 3
    faulty = fingerprint(faulty_db)
    assert faulty == clean  # same rows, same pages archived: nothing cut short was kept


# --------------------------------------------------------------------------- permanent faults


def _cut(fraction: float) -> Callable[[str, bytes], bytes]:
    return lambda _path, body: body[: int(len(body) * fraction)]


OSCARS_2024 = "/oscars/ceremonies/2024"
IMDB_2024 = "/event/ev0000003/2024/1/"
PERMANENT = {
    "oscars.org page cut at 60 %": (OSCARS_2024, transform(_cut(0.6))),
    "IMDb page cut at 60 %": (IMDB_2024, transform(_cut(0.6))),
    "oscars.org 503 on every attempt": (OSCARS_2024, status(503)),
    "IMDb body cut on the wire on every attempt": (IMDB_2024, truncate(0.6)),
}


def test_permanently_garbled_pages_fail_the_run_and_keep_previous_rows(
    dagster_instance, festival_database_url: str, proxy: FaultProxy, http_env,
) -> None:
    assert run_oscars(dagster_instance, proxy.url, "2023", "2024").success
    before = exact_rows(festival_database_url)
    assert before
    failures = {}
    for label, (path, fault) in PERMANENT.items():
        proxy.plan = permanent(fault, lambda p, path=path: p.rstrip("/") == path.rstrip("/"))
        result = run_oscars(dagster_instance, proxy.url, "2023", "2024")
        status_2024, error = outcome(festival_database_url, 2024)
        failures[label] = error
        assert not result.success, f"{label}: the run succeeded"
        assert exact_rows(festival_database_url) == before, f"{label}: rows changed"
        assert status_2024 == "failed", f"{label}: 2024 recorded as {status_2024}"
        assert path.rstrip("/") in (error or ""), f"{label}: the error does not name the page: {error}"
        assert proxy.served, label
    # a clean rerun afterwards still works and changes nothing
    proxy.plan = always_ok
    assert run_oscars(dagster_instance, proxy.url, "2023", "2024").success
    after = exact_rows(festival_database_url)
    nominations = sum(1 for r in before if len(r) == 6)
    assert after[:nominations] == before[:nominations]  # same ids, values and updated_at
    assert len(failures) == len(PERMANENT), failures


HALF_REMOVED = {
    "oscars.org page without every other category (well-formed)": (
        OSCARS_2024, transform(drop_oscars_categories())),
    "IMDb page without every other category (valid JSON)": (
        IMDB_2024, transform(drop_categories())),
}


@pytest.mark.parametrize("label", list(HALF_REMOVED))
def test_page_missing_half_its_categories_is_not_written(
    dagster_instance, festival_database_url: str, proxy: FaultProxy, http_env, label: str,
) -> None:
    assert run_oscars(dagster_instance, proxy.url, "2024").success
    before = exact_rows(festival_database_url)
    path, fault = HALF_REMOVED[label]
    proxy.plan = permanent(fault, lambda p: p.rstrip("/") == path.rstrip("/"))
    result = run_oscars(dagster_instance, proxy.url, "2024")
    assert exact_rows(festival_database_url) == before
    assert not result.success
    # why: the cross-site check refuses a ceremony whose two sites list different categories (the other
    # site still lists every category); it is the only check that fails, and the year says so
    failed_checks = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    assert failed_checks == ["sites_agree_on_categories"], failed_checks
    (failure,) = result.get_step_failure_events()
    assert failure.step_key == "oscars__enhanced_ceremony"
    assert "2024" in failure.step_failure_data.error.message
    assert "check failed: sites_agree_on_categories" in failure.step_failure_data.error.message
    assert outcome(festival_database_url, 2024) == ("failed", "check failed: sites_agree_on_categories")

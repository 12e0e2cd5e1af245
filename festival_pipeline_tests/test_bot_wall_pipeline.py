"""The Oscar assets through the bot wall, end to end in Dagster (issue 11's acceptance, two years).

The simulator behind ``--waf all --waf-ttl 5 --render-key K``: each way through (a local browser in
``auto`` mode, the Zyte- and Crawlbase-shaped services) must write exactly the rows that the same run
writes against the simulator without the wall, archive every page with the fetcher that got it, and
leave no key in the archive; ``direct`` must fail each year, naming the challenge and the remedy.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from festival_pipeline.database import connection
from festival_pipeline.sources.browser import find_browser
from festival_pipeline_tests.conftest import SHARED, requires_shared, run_oscars

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

KEY = "K-secret-render-key"
YEARS = ("2023", "2024")
CHROMIUM = find_browser("/usr/bin/chromium", None) or find_browser(None, None)


@pytest.fixture(scope="module")
def walled_url() -> Iterator[str]:
    """The simulator behind AWS-WAF-like bot protection (tokens live 5 s), with both rendering services."""
    requires_shared()
    sys.path.insert(0, str(SHARED))
    from festival_web import start_server

    url, shutdown = start_server(port=0, waf="all", waf_ttl=5, render_key=KEY)
    yield url
    shutdown()


def ways_through(url: str) -> dict[str, dict]:
    pages = {"imdb_source": "pages"}  # both sites' pages through the wall (IMDb's API is not behind it)
    return {
        "auto": {"fetcher": "auto", "browser_executable": CHROMIUM, **pages},
        "zyte": {"fetcher": "zyte", "zyte_api_key": KEY, "zyte_api_url": f"{url}/__zyte/v1/extract", **pages},
        "crawlbase": {"fetcher": "crawlbase", "crawlbase_token": KEY, "crawlbase_api_url": f"{url}/__crawlbase/",
                      **pages},
    }


def oscar_rows(url: str) -> list[tuple]:
    """Every Oscar nomination of YEARS without ids or timestamps: what a user reads."""
    with connection.transaction(url) as cursor:
        cursor.execute(
            """SELECT fc.year, n.nomination_key, n.won, c.prize_name, c.name, n.film_title, n.film_imdb_ids,
                      n.person_imdb_ids, n.nominee_names
               FROM festival_nominations n
               JOIN festival_ceremonies fc ON fc.id = n.ceremony_id
               JOIN festival_organizations o ON o.id = fc.organization_id AND o.slug = 'academy-awards'
               JOIN festival_categories c ON c.id = n.category_id
               WHERE fc.year BETWEEN %s AND %s ORDER BY 1, 2""",
            (int(YEARS[0]), int(YEARS[-1])),
        )
        return cursor.fetchall()


def archived_fetchers(url: str) -> dict[str, str]:
    with connection.transaction(url) as cursor:
        cursor.execute("SELECT url, fetcher FROM raw_pages WHERE status = 200")
        return dict(cursor.fetchall())


@pytest.mark.parametrize("way", ["auto", "zyte", "crawlbase"])
def test_each_way_through_writes_the_rows_of_an_open_site(
    dagster_instance, festival_database_url: str, walled_url: str, simulator_url: str, way: str
) -> None:
    if way == "auto" and CHROMIUM is None:
        pytest.skip("no Chromium found (/usr/bin/chromium or chromium/chrome on PATH): apt-get install chromium")
    result = run_oscars(dagster_instance, walled_url, *YEARS, sites_settings=ways_through(walled_url)[way])
    assert result.success
    through_the_wall = oscar_rows(festival_database_url)
    assert len(through_the_wall) > 200  # two ceremonies' nominations

    fetchers = archived_fetchers(festival_database_url)
    pages = {f"{walled_url}/oscars/ceremonies/{year}" for year in YEARS}
    assert pages <= fetchers.keys()
    expected = {"auto": {"direct", "browser"}, "zyte": {"zyte"}, "crawlbase": {"crawlbase"}}[way]
    assert set(fetchers.values()) <= expected and set(fetchers.values()), fetchers
    with connection.transaction(festival_database_url) as cursor:
        cursor.execute("SELECT count(*) FROM raw_pages WHERE url LIKE %s OR headers::text LIKE %s",
                       (f"%{KEY}%", f"%{KEY}%"))
        assert cursor.fetchone()[0] == 0  # the key is never archived

    # the same run against the open site replaces the years with its rows: nothing may change
    assert run_oscars(dagster_instance, simulator_url, *YEARS).success
    assert oscar_rows(festival_database_url) == through_the_wall


def test_direct_fails_every_year_naming_the_challenge(
    dagster_instance, festival_database_url: str, walled_url: str
) -> None:
    result = run_oscars(dagster_instance, walled_url, *YEARS, raise_on_error=False,
                        sites_settings={"fetcher": "direct"})
    assert not result.success
    assert oscar_rows(festival_database_url) == []
    with connection.transaction(festival_database_url) as cursor:
        cursor.execute("SELECT year, status, error FROM import_outcomes ORDER BY year")
        outcomes = cursor.fetchall()
    assert {(year, status) for year, status, _ in outcomes} == {(int(y), "failed") for y in YEARS}
    for _, _, error in outcomes:
        assert "bot challenge" in error and "FESTIVAL_FETCHER=auto" in error, error

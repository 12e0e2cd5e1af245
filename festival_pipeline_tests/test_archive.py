"""The raw page archive: every fetch recorded, bodies stored once, and a rebuild from it fetches nothing."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from dagster import AssetKey, DagsterInstance, Definitions, materialize

from festival_pipeline.assets.organizations import festival_organizations
from festival_pipeline.assets.oscars import ENHANCED, IMDB_PAGE, OSCARS_ORG_PAGE, oscars_assets
from festival_pipeline.database import archive, connection
from festival_pipeline.database.archive import ArchivedPage, FetchContext
from festival_pipeline.database.partition_pages import PagesUnavailable
from festival_pipeline.definitions import defs
from festival_pipeline.parsers.errors import PageParseError
from festival_pipeline_tests.conftest import pipeline_resources, recorded_sites


def _store(cursor, url: str, body: bytes, when: datetime, run_id: str | None = None) -> ArchivedPage:
    return archive.store_page(cursor, url=url, fetched_at=when, status=200, headers={"etag": '"x"'},
                              sha256=hashlib.sha256(body).hexdigest(), body=body,
                              fetched_by=FetchContext(run_id=run_id, backfill_id="b1" if run_id else None))


def test_every_fetch_is_recorded_and_an_unchanged_body_is_stored_once(festival_database_url: str) -> None:
    url, now = "https://www.oscars.org/oscars/ceremonies/2024", datetime.now(UTC)
    with connection.transaction(festival_database_url) as cursor:
        first = _store(cursor, url, b"<html>same</html>", now - timedelta(days=2))
        _store(cursor, url, b"<html>same</html>", now - timedelta(days=1), run_id="r1")
        newest = _store(cursor, url, b"<html>changed</html>", now)
        cursor.execute("SELECT count(*) FROM raw_pages WHERE url = %s", (url,))
        assert cursor.fetchone()[0] == 3
        cursor.execute("SELECT count(*) FROM raw_page_bodies")
        assert cursor.fetchone()[0] == 2
        stored = archive.pages_by_id(cursor, [first.id, newest.id])
        # which run of which backfill fetched a copy: a later run of the same backfill reuses it
        again = archive.page_fetched_in_backfill(cursor, url, "b1")
    assert (stored[newest.id].body, stored[newest.id].headers) == (b"<html>changed</html>", {"etag": '"x"'})
    assert stored[first.id].text == "<html>same</html>" and newest.body == b"<html>changed</html>"
    assert again is not None and again.fetched_at == now - timedelta(days=1)


def test_the_archive_records_which_fetcher_got_each_page(festival_database_url: str) -> None:
    url, now, body = "https://www.imdb.com/event/ev0000003/2024/1/", datetime.now(UTC), b"<html>page</html>"
    with connection.transaction(festival_database_url) as cursor:
        for fetcher in ("direct", "browser", None):  # None: a caller that does not say
            archive.store_page(cursor, url=url, fetched_at=now, status=200, headers={},
                               sha256=hashlib.sha256(body).hexdigest(), body=body, fetcher=fetcher)
        cursor.execute("SELECT fetcher FROM raw_pages WHERE url = %s ORDER BY id", (url,))
        assert [row[0] for row in cursor.fetchall()] == ["direct", "browser", None]


def test_a_body_that_is_not_utf8_is_a_parse_error_naming_the_url(festival_database_url: str) -> None:
    url = "https://www.imdb.com/event/ev0000003/2024/1/"
    with connection.transaction(festival_database_url) as cursor:
        page = _store(cursor, url, b"<html>caf\xe9</html>", datetime.now(UTC))
    with pytest.raises(PageParseError, match="invalid UTF-8 at byte 9") as error:
        page.text  # noqa: B018 - the property decodes
    assert url in str(error.value)


def _with(resources: dict) -> Definitions:
    return Definitions(assets=defs.assets, resources=resources)


def test_pages_of_a_year_never_fetched_or_whose_fetch_failed_do_not_load(
        festival_database_url: str, recorded_sites_url: str) -> None:
    resources = pipeline_resources(recorded_sites_url)
    with DagsterInstance.ephemeral() as instance:
        materialize([festival_organizations], instance=instance, resources=resources)
        with pytest.raises(PagesUnavailable, match="oscars/oscars_org_ceremony_page 1999 was never fetched"):
            _with(resources).load_asset_value(OSCARS_ORG_PAGE, partition_key="1999", instance=instance)
        # the recorded sites have no 2025: its fetch is a 404
        assert not materialize(oscars_assets, selection=[OSCARS_ORG_PAGE], partition_key="2025", instance=instance,
                               resources=resources, raise_on_error=False).success
        with pytest.raises(PagesUnavailable, match=r"2025: its latest fetch failed \(.*404"):
            _with(resources).load_asset_value(OSCARS_ORG_PAGE, partition_key="2025", instance=instance)


def test_rebuilding_from_the_archive_fetches_nothing_and_writes_the_same_rows(
        festival_database_url: str, recorded_sites_url: str) -> None:
    """Materializing the parse and table assets without the page assets reads the archived pages."""
    with DagsterInstance.ephemeral() as instance:
        resources = pipeline_resources(recorded_sites_url)
        materialize([festival_organizations], instance=instance, resources=resources)
        assert materialize(oscars_assets, partition_key="2024", instance=instance, resources=resources).success
        before = _nominations(festival_database_url)

        requests: list[str] = []

        def count_requests(path: str, body: bytes) -> bytes:
            requests.append(path)
            return body

        watched = recorded_sites(transform=count_requests)
        try:
            rebuild = [key for asset in oscars_assets for key in asset.keys if key not in (OSCARS_ORG_PAGE, IMDB_PAGE)]
            assert ENHANCED in rebuild and len(rebuild) == 4
            result = materialize(oscars_assets, selection=rebuild, partition_key="2024", instance=instance,
                                 resources=pipeline_resources(watched.url))
        finally:
            watched.close()
        assert result.success
        assert requests == []
        assert _nominations(festival_database_url) == before
        assert len(before) > 100
        nominations = AssetKey(["oscars", "festival_nominations"])
        assert len(_with(resources).load_asset_value(nominations, partition_key="2024", instance=instance)) == len(
            before)


def _nominations(url: str) -> list[tuple]:
    with connection.transaction(url) as cursor:
        cursor.execute("SELECT id, nomination_key, won, updated_at FROM festival_nominations ORDER BY id")
        return cursor.fetchall()

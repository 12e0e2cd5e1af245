"""The raw page archive: every fetch recorded, bodies stored once, reparse reads it back."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from festival_pipeline.database import archive, connection


def _store(cursor, url: str, body: bytes, when: datetime) -> int:
    return archive.store_page(cursor, url=url, fetched_at=when, status=200, headers={"etag": '"x"'},
                              sha256=hashlib.sha256(body).hexdigest(), body=body)


def test_every_fetch_is_recorded_and_an_unchanged_body_is_stored_once(festival_database_url: str) -> None:
    url, now = "https://www.oscars.org/oscars/ceremonies/2024", datetime.now(UTC)
    with connection.transaction(festival_database_url) as cursor:
        _store(cursor, url, b"<html>same</html>", now - timedelta(days=2))
        _store(cursor, url, b"<html>same</html>", now - timedelta(days=1))
        newest = _store(cursor, url, b"<html>changed</html>", now)
        cursor.execute("SELECT count(*) FROM raw_pages WHERE url = %s", (url,))
        assert cursor.fetchone()[0] == 3
        cursor.execute("SELECT count(*) FROM raw_page_bodies")
        assert cursor.fetchone()[0] == 2
        page = archive.latest_page(cursor, url)
    assert (page.id, page.body, page.headers) == (newest, b"<html>changed</html>", {"etag": '"x"'})


def test_reparse_of_a_page_never_fetched_is_a_clear_error(festival_database_url: str) -> None:
    with connection.transaction(festival_database_url) as cursor, pytest.raises(archive.PageNotArchived,
                                                                                 match="not in the raw page archive"):
        archive.latest_page(cursor, "https://www.imdb.com/event/ev0000003/1999/1/")


def test_the_archive_records_which_fetcher_got_each_page(festival_database_url: str) -> None:
    url, now, body = "https://www.imdb.com/event/ev0000003/2024/1/", datetime.now(UTC), b"<html>page</html>"
    with connection.transaction(festival_database_url) as cursor:
        for fetcher in ("direct", "browser", None):  # None: a caller that does not say
            archive.store_page(cursor, url=url, fetched_at=now, status=200, headers={},
                               sha256=hashlib.sha256(body).hexdigest(), body=body, fetcher=fetcher)
        cursor.execute("SELECT fetcher FROM raw_pages WHERE url = %s ORDER BY id", (url,))
        assert [row[0] for row in cursor.fetchall()] == ["direct", "browser", None]

"""Zyte API, Crawlbase and auto against a scripted server playing the service (or the site): the
service's transient errors retried like a site's, its refusals named with the remedy, politeness
counted under the page's host, and keys never in logs, errors, pages or the archive."""

from __future__ import annotations

import base64
import functools
import json
import logging
import threading
import time
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from festival_pipeline.database import connection
from festival_pipeline.database.archive import FetchContext
from festival_pipeline.resources import FestivalDatabase
from festival_pipeline.sources.auto import AutoFetcher
from festival_pipeline.sources.browser import BrowserFetcher
from festival_pipeline.sources.crawlbase import CrawlbaseFetcher
from festival_pipeline.sources.direct import DirectFetcher
from festival_pipeline.sources.errors import (
    BotChallenge,
    FetcherConfigurationError,
    FetchError,
    FetchFailed,
    PageNotFound,
    RetryAfterTooLong,
    ServiceError,
    ServiceLimited,
    ServiceRejected,
)
from festival_pipeline.sources.page_store import PageStore
from festival_pipeline.sources.settings import BrowserSettings, CrawlbaseSettings, HttpSettings, ZyteSettings
from festival_pipeline.sources.zyte import ZyteFetcher
from festival_pipeline_tests.scripted_server import (  # noqa: F401 - scripted_server_fixture is `server`
    PAGE,
    ScriptedServer,
    assert_paced,
    reply,
    reset,
    scripted_server_fixture,
)

TOKEN = "s3cr3t/tok+en-9f2c"
PAGE_URL = "https://www.imdb.com/event/ev0000003/2024/1/"
FAST = HttpSettings(requests_per_second=0, max_retries=3, backoff_factor=0.01, backoff_jitter=0, timeout_seconds=5)


def zyte_answer(status: int = 200, body: bytes = PAGE) -> bytes:
    return json.dumps({
        "url": PAGE_URL,
        "statusCode": status,
        "httpResponseBody": base64.b64encode(body).decode(),
        "httpResponseHeaders": [{"name": "Content-Type", "value": "text/html; charset=utf-8"}],
    }).encode()


def problem(status: int, title: str) -> bytes:
    return json.dumps({"type": f"/x/{status}", "title": title, "status": status}).encode()


def zyte(server: ScriptedServer, http: HttpSettings = FAST, **options: object) -> ZyteFetcher:
    return ZyteFetcher(ZyteSettings(api_key=TOKEN, api_url=server.url("/v1/extract")), http, **options)  # type: ignore[arg-type]


def crawlbase(server: ScriptedServer, http: HttpSettings = FAST) -> CrawlbaseFetcher:
    return CrawlbaseFetcher(CrawlbaseSettings(token=TOKEN, api_url=server.url("/crawl/")), http)


def crawled(status: int = 200, body: bytes = PAGE) -> dict[str, str]:
    return {"original_status": str(status), "pc_status": str(status), "url": PAGE_URL}


# --------------------------------------------------------------------------- Zyte API


def test_zyte_asks_for_the_page_as_served_with_the_key_as_user_name(server: ScriptedServer) -> None:
    server.script("/v1/extract", reply(200, zyte_answer(), {"Content-Type": "application/json"}))
    page = zyte(server).fetch(PAGE_URL)
    (call,) = server.hits("/v1/extract")
    assert call.method == "POST" and json.loads(call.body) == {
        "url": PAGE_URL, "httpResponseBody": True, "httpResponseHeaders": True,
    }
    assert call.headers["Authorization"] == "Basic " + base64.b64encode(f"{TOKEN}:".encode()).decode()
    assert (page.url, page.final_url, page.status, page.body, page.fetcher) == (PAGE_URL, PAGE_URL, 200, PAGE, "zyte")
    assert page.headers == {"content-type": "text/html; charset=utf-8"}


def test_zyte_renders_when_the_site_needs_it(server: ScriptedServer) -> None:
    html = "<html><body>Pen\u00e9lope Cruz</body></html>"
    answer = json.dumps({"url": PAGE_URL, "statusCode": 200, "browserHtml": html}).encode()
    server.script("/v1/extract", reply(200, answer))
    page = zyte(server, render=True).fetch(PAGE_URL)
    assert json.loads(server.hits("/v1/extract")[0].body) == {"url": PAGE_URL, "browserHtml": True}
    assert page.body == html.encode("utf-8") and page.fetcher == "zyte-browser-html"
    assert page.headers["content-type"] == "text/html; charset=utf-8"


def test_zyte_temporary_errors_are_retried_like_a_sites(server: ScriptedServer) -> None:
    server.script("/v1/extract", reply(520, problem(520, "Website Ban")), reply(503, problem(503, "Busy")),
                  reply(200, zyte_answer()))
    page = zyte(server).fetch(PAGE_URL)
    assert page.body == PAGE and page.attempts == 3 and len(server.hits("/v1/extract")) == 3


def test_zyte_429_waits_for_retry_after(server: ScriptedServer) -> None:
    server.script("/v1/extract", reply(429, problem(429, "Rate limited"), {"Retry-After": "1"}),
                  reply(200, zyte_answer()))
    started = time.monotonic()
    assert zyte(server).fetch(PAGE_URL).attempts == 2
    assert time.monotonic() - started >= 0.95


def test_zyte_429_beyond_the_cap_fails_naming_the_wait(server: ScriptedServer) -> None:
    server.script("/v1/extract", reply(429, problem(429, "Rate limited"), {"Retry-After": "3600"}))
    with pytest.raises(RetryAfterTooLong, match="Zyte API answers 429 and asks to wait 3600 s"):
        zyte(server).fetch(PAGE_URL)
    assert len(server.hits("/v1/extract")) == 1


@pytest.mark.parametrize(
    ("status", "title", "error", "message"),
    [
        (401, "Authentication Key Not Found", ServiceRejected, r"rejected the API key \(401 .*\); check ZYTE_API_KEY"),
        (403, "Account Suspended", ServiceRejected, "refused the account .* check its plan and credits"),
        (429, "Too many requests", ServiceLimited, "still rate-limits after 4 attempt"),
        (520, "Website Ban", ServiceError, "could not get the page after 4 attempt"),
        (400, "Invalid request", ServiceError, "refused the request"),
    ],
)
def test_zyte_refusals_name_the_cause_and_remedy(
    server: ScriptedServer, status: int, title: str, error: type[FetchError], message: str
) -> None:
    server.script("/v1/extract", reply(status, problem(status, title), {"Content-Type": "application/problem+json"}))
    with pytest.raises(error, match=message) as caught:
        zyte(server).fetch(PAGE_URL)
    assert caught.value.url == PAGE_URL and title in str(caught.value) and "\n" not in str(caught.value)


def test_zyte_passes_the_websites_own_status_through(server: ScriptedServer) -> None:
    server.script("/v1/extract", reply(200, zyte_answer(404, b"<h1>Not found</h1>")))
    with pytest.raises(PageNotFound, match=r"GET https://www.imdb.com/\S+ via Zyte API -> 404"):
        zyte(server).fetch(PAGE_URL)


def test_zyte_follows_a_redirect_it_hands_back(server: ScriptedServer) -> None:
    moved = json.dumps({"url": PAGE_URL, "statusCode": 302, "httpResponseBody": "",
                        "httpResponseHeaders": [{"name": "Location", "value": "/event/ev0000003/2026/1/"}]}).encode()
    server.script("/v1/extract", reply(200, moved), reply(200, zyte_answer()))
    page = zyte(server).fetch(PAGE_URL)
    first, second = (json.loads(hit.body)["url"] for hit in server.hits("/v1/extract"))
    assert (first, second) == (PAGE_URL, "https://www.imdb.com/event/ev0000003/2026/1/")
    assert page.final_url == second and page.url == PAGE_URL and page.body == PAGE


def test_zyte_answer_that_is_not_the_api_is_a_service_error(server: ScriptedServer) -> None:
    server.script("/v1/extract", reply(200, b"<html>a captive portal</html>"))
    with pytest.raises(ServiceError, match="not a Zyte API answer"):
        zyte(server).fetch(PAGE_URL)


def test_zyte_without_a_key_is_a_configuration_error() -> None:
    with pytest.raises(FetcherConfigurationError, match="set ZYTE_API_KEY"):
        ZyteFetcher(ZyteSettings(api_key=None), FAST)


# --------------------------------------------------------------------------- Crawlbase


def test_crawlbase_sends_token_and_url_and_reads_the_original_status(server: ScriptedServer) -> None:
    server.script("/crawl/", reply(200, PAGE, crawled()))
    page = crawlbase(server).fetch(PAGE_URL)
    (call,) = server.hits("/crawl/")
    assert parse_qs(urlsplit(call.path).query) == {"token": [TOKEN], "url": [PAGE_URL]}
    assert f"url={quote(PAGE_URL, safe='')}" in call.path
    assert (page.url, page.status, page.body, page.fetcher) == (PAGE_URL, 200, PAGE, "crawlbase")


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (401, ServiceRejected, r"rejected the token \(401\); check CRAWLBASE_TOKEN"),
        (402, ServiceLimited, "out of credits"),
        (403, ServiceRejected, "no access to the Crawling API"),
        (429, ServiceLimited, "still rate-limits after 4 attempt"),
        (522, ServiceError, "could not get the page after 4 attempt"),
    ],
)
def test_crawlbase_refusals_name_the_cause_and_remedy(
    server: ScriptedServer, status: int, error: type[FetchError], message: str
) -> None:
    server.script("/crawl/", reply(status, b'{"error":"..."}', {"pc_status": str(status)}))
    with pytest.raises(error, match=message):
        crawlbase(server).fetch(PAGE_URL)


def test_crawlbase_temporary_errors_are_retried(server: ScriptedServer) -> None:
    server.script("/crawl/", reply(520, b"", {"pc_status": "520"}), reply(200, PAGE, crawled()))
    assert crawlbase(server).fetch(PAGE_URL).attempts == 2


# --------------------------------------------------------------------------- politeness


def test_services_are_rate_limited_by_the_pages_host(server: ScriptedServer) -> None:
    """Every call goes to the one service host, but the sites are what the limit protects: two page
    hosts in two threads run side by side, and each host's pages keep their spacing."""
    server.script("/v1/extract", reply(200, zyte_answer()))
    fetcher = zyte(server, HttpSettings(requests_per_second=5, max_retries=0))
    hosts = ("www.oscars.org", "www.imdb.com")

    def crawl(host: str) -> None:
        for year in range(2020, 2025):
            fetcher.fetch(f"https://{host}/page/{year}")

    threads = [threading.Thread(target=crawl, args=(host,)) for host in hosts]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert 0.75 <= elapsed < 1.5  # 5 per host at 5/s in parallel; one shared bucket would need ~1.8 s
    for host in hosts:
        arrivals = [s.at for s in server.hits("/v1/extract") if host in json.loads(s.body)["url"]]
        assert len(arrivals) == 5
        assert_paced(arrivals, 0.2)


# --------------------------------------------------------------------------- auto without a wall, captcha


def test_auto_never_starts_a_browser_when_nothing_blocks(server: ScriptedServer) -> None:
    url = server.script("/open", reply(200))
    direct = DirectFetcher(FAST)
    browser = BrowserFetcher(BrowserSettings(executable="/nonexistent/chromium"), FAST)  # would fail if started
    auto = AutoFetcher(direct, browser)
    try:
        pages = [auto.fetch(url) for _ in range(3)]
    finally:
        auto.close()
    assert [p.fetcher for p in pages] == ["direct"] * 3 and browser.executable is None


def test_auto_does_not_try_a_browser_on_a_captcha(server: ScriptedServer) -> None:
    url = server.script("/captcha", reply(405, b"<html>solve the puzzle</html>", {"x-amzn-waf-action": "captcha"}))
    auto = AutoFetcher(DirectFetcher(FAST), BrowserFetcher(BrowserSettings(executable="/nonexistent/chromium"), FAST))
    try:
        with pytest.raises(BotChallenge, match="AWS WAF captcha") as caught:
            auto.fetch(url)
    finally:
        auto.close()
    assert caught.value.captcha and len(server.hits("/captcha")) == 1


# --------------------------------------------------------------------------- secrets


def _secret_forms() -> tuple[str, ...]:
    return (TOKEN, quote(TOKEN, safe=""), quote(TOKEN, safe="").replace("%20", "+"),
            base64.b64encode(f"{TOKEN}:".encode()).decode())


def _assert_no_secret(text: str, where: str) -> None:
    for form in _secret_forms():
        assert form not in text, f"the token shows in {where}"


def test_keys_never_reach_logs_errors_pages_or_the_archive(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture, festival_database_url: str
) -> None:
    caplog.set_level(logging.DEBUG)
    fetchers = (zyte(server), crawlbase(server))
    errors: list[FetchError] = []
    # failures: a refused key, a dropped connection after retries (urllib3 logs "Retrying ... <url>")
    server.script("/v1/extract", reply(401, problem(401, "Authentication Key Not Found")))
    server.script("/crawl/", reset())
    for fetcher in fetchers:
        with pytest.raises(FetchError) as caught:
            fetcher.fetch(PAGE_URL)
        errors.append(caught.value)
    assert isinstance(errors[0], ServiceRejected) and isinstance(errors[1], FetchFailed)
    # successes, archived as the pipeline does
    server.script("/v1/extract", reply(200, zyte_answer()))
    server.script("/crawl/", reply(200, PAGE, crawled()))
    store = PageStore(FestivalDatabase(database_url=festival_database_url).transaction, FetchContext())
    stored = [store.fetch(functools.partial(fetcher.fetch, PAGE_URL)) for fetcher in fetchers]
    with connection.transaction(festival_database_url) as cursor:
        cursor.execute("SELECT url, headers::text, fetcher FROM raw_pages ORDER BY id")
        rows = cursor.fetchall()
        cursor.execute("SELECT body_zlib FROM raw_page_bodies")
        bodies = [bytes(row[0]) for row in cursor.fetchall()]
    assert [row[2] for row in rows] == ["zyte", "crawlbase"]

    assert "Retrying" in caplog.text  # urllib3 did log the crawlbase URL ...
    _assert_no_secret(caplog.text, "the log")  # ... with the token masked
    for error in errors:
        for text in (str(error), repr(error), str(error.__cause__), str(error.__context__)):
            _assert_no_secret(text, f"a {type(error).__name__}")
    for page in stored:
        _assert_no_secret(repr(page), "a stored page")
    _assert_no_secret(repr(rows), "raw_pages")
    assert all(TOKEN.encode() not in body for body in bodies)
    _assert_no_secret(repr(fetchers[0].settings) + repr(fetchers[1].settings), "the settings")

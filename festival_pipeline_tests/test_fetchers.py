"""Every fetcher against the simulator behind its bot wall (``--waf all --waf-ttl 5 --render-key K``).

The 22 pages of the Oscars 2016-2026 (oscars.org ceremonies and IMDb editions) must come through
exactly as the simulator serves them without the wall (same sha256; for Zyte's ``browserHtml``, the
rendered DOM, the same parsed records), each page requested from the site once (the simulator's
request log), the challenge's token renewed when it expires; the direct fetcher must fail naming
the challenge and the way through.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from festival_pipeline.parsers.imdb_event import parse_imdb_edition_page
from festival_pipeline.parsers.oscars_org import parse_oscars_ceremony_page
from festival_pipeline.sources.browser import find_browser
from festival_pipeline.sources.errors import BotChallenge, FetcherUnavailable
from festival_pipeline.sources.factory import Fetchers
from festival_pipeline.sources.settings import (
    BrowserSettings,
    CrawlbaseSettings,
    FetcherSettings,
    HttpSettings,
    ZyteSettings,
)
from festival_pipeline_tests.conftest import SHARED, requires_shared
from festival_pipeline_tests.scripted_server import assert_paced

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

YEARS = range(2016, 2027)
PATHS = [f"/oscars/ceremonies/{year}" for year in YEARS] + [f"/event/ev0000003/{year}/1/" for year in YEARS]
KEY = "K"
TTL = 5
CHROMIUM = find_browser("/usr/bin/chromium", None) or find_browser(None, None)
needs_browser = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium found (/usr/bin/chromium or chromium/chrome on PATH): apt-get install chromium",
)


@dataclass
class Simulator:
    url: str
    log: Path

    def requests(self) -> list[dict]:
        """The simulator's request log once it has settled.

        The simulator logs a request after it has sent the answer, so the last answer can reach us
        a moment before its log line is written: read until the log stops growing.
        """
        lines: list[str] = []
        deadline = time.monotonic() + 5
        while True:
            current = self.log.read_text().splitlines() if self.log.exists() else []
            if (current == lines and lines) or time.monotonic() > deadline:
                return [json.loads(line) for line in current]
            lines = current
            time.sleep(0.2)

    def page_hits(self) -> Counter[str]:
        """200 answers per page path: how often the site served each page."""
        return Counter(r["path"] for r in self.requests() if r["method"] == "GET" and r["status"] == 200)


def _start(tmp_path: Path, **options: object) -> Iterator[Simulator]:
    requires_shared()
    sys.path.insert(0, str(SHARED))
    from festival_web import start_server

    log = tmp_path / f"requests-{time.monotonic_ns()}.jsonl"
    url, shutdown = start_server(port=0, festival_data=None, log=str(log), **options)
    yield Simulator(url, log)
    shutdown()


@pytest.fixture
def walled(tmp_path: Path) -> Iterator[Simulator]:
    """The simulator behind AWS-WAF-like bot protection, with the two rendering services."""
    yield from _start(tmp_path, waf="all", waf_ttl=TTL, render_key=KEY)


@pytest.fixture
def plain(tmp_path: Path) -> Iterator[Simulator]:
    """The simulator without the wall."""
    yield from _start(tmp_path)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """What the simulator serves without the wall: the reference bodies."""
    for simulator in _start(tmp_path_factory.mktemp("plain")):
        fetchers = Fetchers(FetcherSettings(default="direct", http=HttpSettings(requests_per_second=0)))
        try:
            return {path: fetchers.for_site("oscars").fetch(simulator.url + path).body for path in PATHS}
        finally:
            fetchers.close()
    raise AssertionError("unreachable")


def settings(simulator: Simulator, kind: str, **overrides: object) -> FetcherSettings:
    values: dict[str, object] = {
        "default": kind,
        "http": HttpSettings(requests_per_second=0, max_retries=2, backoff_factor=0.05),
        "browser": BrowserSettings(executable=CHROMIUM or "chromium"),
        "zyte": ZyteSettings(api_key=KEY, api_url=f"{simulator.url}/__zyte/v1/extract"),
        "crawlbase": CrawlbaseSettings(token=KEY, api_url=f"{simulator.url}/__crawlbase/"),
    }
    values.update(overrides)
    return FetcherSettings(**values)  # type: ignore[arg-type]


def fetch_all(fetchers: Fetchers, simulator: Simulator, site_of: Callable[[str], str] | None = None) -> dict:
    site_of = site_of or (lambda path: "oscars" if path.startswith("/oscars/") else "imdb")
    try:
        return {path: fetchers.for_site(site_of(path)).fetch(simulator.url + path) for path in PATHS}
    finally:
        fetchers.close()


def assert_served_as_is(pages: dict, served: dict[str, bytes], fetcher: str | set[str]) -> None:
    for path, page in pages.items():
        assert page.body == served[path], f"{path} differs from what the simulator serves"
        assert page.status == 200 and page.url.endswith(path)
        assert page.fetcher in ({fetcher} if isinstance(fetcher, str) else fetcher)


def parsed(path: str, body: bytes) -> object:
    """The records a parser reads from a page (what must survive rendering)."""
    text = body.decode("utf-8")
    if path.startswith("/oscars/"):
        return parse_oscars_ceremony_page(text, "page")
    return parse_imdb_edition_page(text, "page")


# --------------------------------------------------------------------------- direct: no way through


def test_direct_fails_naming_the_challenge_and_the_way_through(walled: Simulator) -> None:
    fetchers = Fetchers(settings(walled, "direct"))
    try:
        for path in (PATHS[0], PATHS[-1]):
            with pytest.raises(BotChallenge) as caught:
                fetchers.for_site("oscars").fetch(walled.url + path)
            message = str(caught.value)
            assert caught.value.status == 202 and "AWS WAF challenge" in message
            assert "FESTIVAL_FETCHER=auto" in message and "FESTIVAL_FETCHER=zyte with ZYTE_API_KEY" in message
    finally:
        fetchers.close()
    assert walled.page_hits() == Counter()  # the site never served a page


# --------------------------------------------------------------------------- auto, browser


@needs_browser
def test_auto_passes_the_challenge_once_and_renews_the_token_when_it_expires(
    walled: Simulator, served: dict[str, bytes]
) -> None:
    """At 4 requests/s the 22 pages take longer than the 5 s token: auto must solve, fetch plainly
    with the browser's cookie, and solve again when it expires -- each page served once."""
    fetchers = Fetchers(settings(walled, "auto", http=HttpSettings(requests_per_second=4)))
    started = time.monotonic()
    pages = fetch_all(fetchers, walled)
    elapsed = time.monotonic() - started

    assert_served_as_is(pages, served, {"direct", "browser"})
    assert walled.page_hits() == Counter(PATHS)  # each page served exactly once
    solved = [r for r in walled.requests() if r["path"] == "/__challenge/verify" and r["status"] == 200]
    by_browser = [p for p in pages.values() if p.fetcher == "browser"]
    assert elapsed > TTL and len(solved) >= 2  # the token expired during the run and was renewed
    assert len(solved) <= elapsed / TTL + 2  # ... not solved page after page: the cookie was reused
    assert len(by_browser) == len(solved)  # the browser loaded only the page each solve was for
    assert sum(p.fetcher == "direct" for p in pages.values()) >= len(PATHS) - len(solved)
    # politeness whatever fetched: the plain client's, the browser's and the challenge's requests to
    # the site keep the 4/s pace (unlimited, the challenge's answer and reload come ~0.04 s apart; a
    # browser request may arrive ~0.1 s later than a plain one, so gaps are checked against a burst)
    assert_paced([datetime.fromisoformat(r["time"].replace("Z", "+00:00")).timestamp() - r["ms"] / 1000
                  for r in walled.requests()], 0.25)


@needs_browser
def test_browser_gets_every_page_as_served(walled: Simulator, served: dict[str, bytes]) -> None:
    pages = fetch_all(Fetchers(settings(walled, "browser")), walled)
    assert_served_as_is(pages, served, "browser")
    assert walled.page_hits() == Counter(PATHS)
    requested = Counter(r["path"] for r in walled.requests() if r["method"] == "GET")
    assert set(requested) <= {*PATHS}  # no images, styles, scripts or favicon fetched from the site


@needs_browser
def test_a_browser_that_dies_is_started_again(walled: Simulator, served: dict[str, bytes]) -> None:
    import psutil

    from festival_pipeline.sources.browser import BrowserFetcher

    with BrowserFetcher(BrowserSettings(executable=CHROMIUM), HttpSettings(requests_per_second=0)) as browser:
        assert browser.fetch(walled.url + PATHS[0]).body == served[PATHS[0]]
        chromium = [p for p in psutil.Process().children(recursive=True) if "chrom" in p.name().lower()]
        assert chromium
        for process in chromium:
            process.kill()
        psutil.wait_procs(chromium, timeout=10)
        page = browser.fetch(walled.url + PATHS[1])  # a new browser, which solves the challenge again
    assert page.body == served[PATHS[1]] and page.fetcher == "browser"


def test_no_browser_is_a_one_line_error_with_the_remedies(walled: Simulator) -> None:
    no_browser = BrowserSettings(executable="/nonexistent/chromium")
    fetchers = Fetchers(settings(walled, "auto", browser=no_browser))
    try:
        with pytest.raises(FetcherUnavailable) as caught:
            fetchers.for_site("imdb").fetch(walled.url + PATHS[-1])
    finally:
        fetchers.close()
    message = str(caught.value)
    assert "\n" not in message and caught.value.url == walled.url + PATHS[-1]
    assert "AWS WAF challenge" in message and "'/nonexistent/chromium' was not found" in message
    assert "pip install playwright && playwright install chromium" in message
    assert "install a system chromium" in message and "FESTIVAL_FETCHER=zyte with ZYTE_API_KEY" in message


# --------------------------------------------------------------------------- rendering services


def test_zyte_gets_every_page_as_served(walled: Simulator, served: dict[str, bytes]) -> None:
    pages = fetch_all(Fetchers(settings(walled, "zyte")), walled)
    assert_served_as_is(pages, served, "zyte")
    calls = [r for r in walled.requests() if r["path"] == "/__zyte/v1/extract"]
    assert len(calls) == len(PATHS) and all(r["status"] == 200 for r in calls)  # one call per page
    assert walled.page_hits() == Counter()  # the service fetched them, not us


def test_zyte_browser_html_parses_like_the_served_page(walled: Simulator, served: dict[str, bytes]) -> None:
    """browserHtml is the DOM after rendering, not the bytes served: what must match is what the
    parsers read from it."""
    pages = fetch_all(Fetchers(settings(walled, "zyte", render_sites=("oscars", "imdb"))), walled)
    for path, page in pages.items():
        assert page.fetcher == "zyte-browser-html"
        assert parsed(path, page.body) == parsed(path, served[path])
    assert len([r for r in walled.requests() if r["path"] == "/__zyte/v1/extract"]) == len(PATHS)


def test_crawlbase_gets_every_page_as_served(walled: Simulator, served: dict[str, bytes]) -> None:
    pages = fetch_all(Fetchers(settings(walled, "crawlbase")), walled)
    assert_served_as_is(pages, served, "crawlbase")
    calls = Counter(r["path"] for r in walled.requests() if r["path"].startswith("/__crawlbase/"))
    assert len(calls) == len(PATHS) and set(calls.values()) == {1}  # one call per page URL


def test_per_site_fetchers(walled: Simulator, served: dict[str, bytes]) -> None:
    """oscars.org through Crawlbase, IMDb through Zyte, as FetcherSettings(oscars=..., imdb=...) says."""
    fetchers = Fetchers(settings(walled, "direct", oscars="crawlbase", imdb="zyte"))
    pages = fetch_all(fetchers, walled)
    for path, page in pages.items():
        assert page.body == served[path]
        assert page.fetcher == ("crawlbase" if path.startswith("/oscars/") else "zyte")


@pytest.mark.parametrize("kind", ["direct", "auto", "browser", "zyte", "crawlbase"])
def test_the_event_page_redirect_is_followed(
    request: pytest.FixtureRequest, walled: Simulator, served: dict[str, bytes], kind: str
) -> None:
    """IMDb's event URL redirects to the latest edition (the pipeline reads the edition list there):
    every fetcher ends on that page -- the services too, whose simulated redirect carries no Location."""
    if kind in ("auto", "browser") and CHROMIUM is None:
        pytest.skip("no Chromium found (/usr/bin/chromium or chromium/chrome on PATH): apt-get install chromium")
    simulator: Simulator = request.getfixturevalue("plain") if kind == "direct" else walled
    fetchers = Fetchers(settings(simulator, kind))
    try:
        page = fetchers.for_site("imdb").fetch(simulator.url + "/event/ev0000003/")
    finally:
        fetchers.close()
    assert page.body == served["/event/ev0000003/2026/1/"]
    assert page.final_url == simulator.url + "/event/ev0000003/2026/1/"
    assert page.url == simulator.url + "/event/ev0000003/"


@pytest.mark.parametrize("kind", ["zyte", "crawlbase"])
def test_a_key_the_service_rejects_is_named_with_the_remedy(walled: Simulator, kind: str) -> None:
    wrong = {"zyte": ZyteSettings(api_key="wrong-key", api_url=f"{walled.url}/__zyte/v1/extract"),
             "crawlbase": CrawlbaseSettings(token="wrong-key", api_url=f"{walled.url}/__crawlbase/")}
    fetchers = Fetchers(settings(walled, kind, **{kind: wrong[kind]}))
    try:
        with pytest.raises(Exception) as caught:
            fetchers.for_site("imdb").fetch(walled.url + PATHS[-1])
    finally:
        fetchers.close()
    message = str(caught.value)
    assert type(caught.value).__name__ == "ServiceRejected" and caught.value.status == 401
    assert ("ZYTE_API_KEY" if kind == "zyte" else "CRAWLBASE_TOKEN") in message
    assert "wrong-key" not in message and "\n" not in message

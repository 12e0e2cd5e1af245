"""The browser fetcher: a real headless Chromium, driven by Playwright, loads each page.

A bot challenge (AWS WAF's 202 page and its script) is passed the way a person's browser passes it:
the page's own script runs and reloads the page; nothing here knows how a challenge works. What is
returned is the page *as served* (the navigation response's bytes, not the DOM after scripts ran),
so it hashes like the same page fetched directly.

One browser per fetcher, started on the first page, reused (one context: cookies, and so a solved
challenge, carry over) and closed by ``close``. Playwright's sync API belongs to the thread that
started it, so the browser lives on one worker thread of its own and ``fetch`` may be called from
any thread (pages are loaded one at a time).

Politeness: every request the browser makes to the page's host for the page itself (the
navigation, a challenge's verify call and reload) takes a slot of the shared per-host rate limit;
images, styles, fonts and media are never loaded, and once the page has arrived nothing else is.
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from festival_pipeline.sources.challenge import challenge_reason, is_captcha, waf_action
from festival_pipeline.sources.errors import (
    NO_BROWSER_REMEDY,
    BotChallenge,
    FetchError,
    FetcherUnavailable,
    FetchFailed,
    RateLimited,
    ResponseTooLarge,
    RetryAfterTooLong,
    ServerError,
)
from festival_pipeline.sources.fetcher import FetchedPage, page_host
from festival_pipeline.sources.rate_limit import HostRateLimiter, shared_limiter
from festival_pipeline.sources.responses import classify_response
from festival_pipeline.sources.settings import BrowserSettings, HttpSettings
from festival_pipeline.sources.transport import DEFAULT_REQUEST_HEADERS, retry_after_seconds

# Work as root in a container: no sandbox, no GPU; and no traffic of Chrome's own (updates, sync,
# QUIC probes). Playwright adds --headless and a fresh temporary user-data-dir per launch.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
PATH_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_CHALLENGE_TYPES = frozenset({"script", "xhr", "fetch"})  # what a challenge page needs to do its work
_PAGE_TYPES = frozenset({"document", "xhr", "fetch"})  # requests for the page itself: rate-limited
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRIED = (ServerError, FetchFailed, RateLimited)
_T = TypeVar("_T")


def find_browser(executable: str | None, playwright_chromium: str | None) -> str | None:
    """The Chromium to launch: ``executable`` (a path or a name on PATH) when given, else
    Playwright's own Chromium when installed, else a chromium/chrome on PATH; None if there is none."""
    if executable:
        found = shutil.which(executable)
        return found if found else None
    if playwright_chromium and Path(playwright_chromium).is_file() and os.access(playwright_chromium, os.X_OK):
        return playwright_chromium
    for name in PATH_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class _Navigation:
    """The page being loaded, as the route handler sees it."""

    host: str
    requests: int = 0  # requests made to the page's host for the page (rate-limited)
    challenged: bool = False  # the latest document is (or may be) a challenge: its scripts may run
    done: bool = False  # the page has arrived: load nothing more


class BrowserFetcher:
    """Loads pages in one headless Chromium (see the module docstring)."""

    name = "browser"

    def __init__(
        self,
        settings: BrowserSettings | None = None,
        http: HttpSettings | None = None,
        *,
        limiter: HostRateLimiter | None = None,
    ) -> None:
        self.settings = settings or BrowserSettings()
        self.http = http or HttpSettings()
        self._limiter = limiter or shared_limiter(self.http)
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._playwright: Any = None
        self._browser: Any = None
        self._context: Any = None
        self._page: Any = None  # one tab, reused: opening a tab costs more than loading a page
        self._documents: list[Any] = []  # the navigation responses of the page being loaded
        self._navigation: _Navigation | None = None
        self.executable: str | None = None  # the Chromium launched, once started

    # -- public API

    def fetch(self, url: str) -> FetchedPage:
        """Load ``url`` in the browser: the page as served, or one of the ``FetchError`` subclasses."""
        page_host(url)
        outcome = self._call(lambda: self._fetch_with_retries(url))
        if isinstance(outcome, FetchError):
            raise outcome
        return outcome

    def cookies(self, url: str) -> list[dict[str, Any]]:
        """The browser's cookies for ``url`` (Playwright cookie dicts), e.g. a challenge's clearance."""
        return self._call(lambda: list(self._context.cookies(url)) if self._context is not None else [])

    def close(self) -> None:
        """Close the browser and its worker thread; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is not None:
            done: Future[None] = Future()
            self._jobs.put((self._shutdown, done))
            self._jobs.put(None)
            done.result()
            thread.join(timeout=30)

    def __enter__(self) -> BrowserFetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the worker thread

    def _call(self, job: Callable[[], _T]) -> _T:
        future: Future[_T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the browser fetcher is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="festival-browser", daemon=True)
                self._thread.start()
            self._jobs.put((job, future))
        return future.result()

    def _work(self) -> None:
        while (item := self._jobs.get()) is not None:
            job, future = item
            try:
                future.set_result(job())
            except BaseException as exc:  # handed to the caller's thread
                future.set_exception(exc)

    def _shutdown(self) -> None:
        for closing in (self._context, self._browser):
            if closing is not None:
                with contextlib.suppress(Exception):  # already gone (crashed browser): nothing left to close
                    closing.close()
        if self._playwright is not None:
            with contextlib.suppress(Exception):
                self._playwright.stop()
        self._page = self._context = self._browser = self._playwright = None

    def _start(self, url: str) -> FetchError | None:
        """Start Playwright and Chromium (on the worker thread); an error naming the remedy if impossible."""
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            return FetcherUnavailable(
                url, None, f"no browser to load {url}: Playwright is not installed; {NO_BROWSER_REMEDY}"
            )
        playwright = sync_playwright().start()
        executable = find_browser(self.settings.executable, playwright.chromium.executable_path)
        if executable is None:
            playwright.stop()
            named = (f"the browser executable {self.settings.executable!r} was not found; "
                     if self.settings.executable else "")
            return FetcherUnavailable(url, None, f"no browser to load {url}: {named}{NO_BROWSER_REMEDY}")
        try:
            browser = playwright.chromium.launch(
                executable_path=executable,
                headless=True,
                args=list(CHROMIUM_FLAGS),
                timeout=self.settings.launch_timeout_seconds * 1000,
            )
        except Exception as exc:
            playwright.stop()
            return FetcherUnavailable(
                url, None, f"the browser {executable} did not start ({_first_line(exc)}); {NO_BROWSER_REMEDY}"
            )
        context = browser.new_context(
            user_agent=self.http.user_agent,  # the direct client's: a challenge token is bound to it
            extra_http_headers={"Accept-Language": DEFAULT_REQUEST_HEADERS["Accept-Language"]},
            service_workers="block",
        )
        context.route("**/*", self._route)
        self._playwright, self._browser, self._context, self.executable = playwright, browser, context, executable
        return None

    def _tab(self) -> Any:
        if self._page is None or self._page.is_closed():
            self._page = self._context.new_page()
            self._page.on("response", self._keep_navigation)
        return self._page

    def _keep_navigation(self, response: Any) -> None:
        """Collect the main frame's navigation responses (the challenge page, its reload, the page)."""
        page, navigation = self._page, self._navigation
        if page is None or response.frame != page.main_frame or not response.request.is_navigation_request():
            return
        self._documents.append(response)
        if navigation is not None and response.status not in _REDIRECTS:
            # what the route handler needs before the document's own subresources are requested
            navigation.challenged = _may_be_challenge(response.status, response.headers)

    def _route(self, route: Any, request: Any) -> None:
        """Every request of the browser: load only what the page and its challenge need; one rate-limit
        slot per request for the page itself. (Blocking here holds up only this one page.)"""
        navigation = self._navigation
        kind = request.resource_type
        wanted = kind == "document" or (navigation is not None and navigation.challenged and kind in _CHALLENGE_TYPES)
        if navigation is None or navigation.done or not wanted:
            route.abort()  # no images, styles, fonts; scripts only for a challenge, the page's own never run
            return
        if kind == "document":
            navigation.challenged = False  # a new document: its response says whether it is a challenge
        if kind in _PAGE_TYPES and (urlsplit(request.url).hostname or "").lower() == navigation.host:
            self._limiter.acquire(navigation.host)
            navigation.requests += 1
        route.continue_()

    # -- one page

    def _fetch_with_retries(self, url: str) -> FetchedPage | FetchError:
        """Like the direct client: 5xx, 429 and failed loads are retried with exponential backoff.
        A browser that broke down (crashed, closed) is started afresh for the next attempt."""
        attempts = 0
        while True:
            if self._context is None:
                failed = self._start(url)
                if failed is not None:
                    return failed
            from playwright.sync_api import Error as PlaywrightError  # importable: the browser started

            try:
                outcome, retry_after = self._fetch_once(url)
            except PlaywrightError as exc:
                self._shutdown()
                outcome, retry_after = FetchFailed(url, None, f"GET {url} in the browser: {_first_line(exc)}"), None
            attempts += 1
            if not isinstance(outcome, _RETRIED) or isinstance(outcome, RetryAfterTooLong):
                return outcome
            if attempts > self.http.max_retries:
                return outcome
            backoff = min(self.http.backoff_max, self.http.backoff_factor * 2 ** (attempts - 1))
            time.sleep(max(backoff + random.uniform(0, self.http.backoff_jitter), retry_after or 0.0))

    def _fetch_once(self, url: str) -> tuple[FetchedPage | FetchError, float | None]:
        from playwright.sync_api import Error as PlaywrightError

        navigation = _Navigation(page_host(url))
        deadline = time.monotonic() + self.settings.page_timeout_seconds
        page = self._tab()
        documents = self._documents = []
        self._navigation = navigation
        try:
            try:
                page.goto(url, wait_until="commit", timeout=self.settings.page_timeout_seconds * 1000)
            except PlaywrightError as exc:
                if not documents:
                    return FetchFailed(url, None, f"GET {url} in the browser failed: {_first_line(exc)}"), None
            return self._settle(url, page, documents, navigation, deadline)
        finally:
            navigation.done = True  # the rest of this page (and its scripts' requests) is not loaded
            self._navigation = None
            with contextlib.suppress(PlaywrightError):  # leave at once: no scripts, no favicon fetch
                page.goto("about:blank", timeout=5000)

    def _settle(
        self, url: str, page: Any, documents: list[Any], navigation: _Navigation, deadline: float
    ) -> tuple[FetchedPage | FetchError, float | None]:
        """Wait until a navigation response is the page (not a challenge) and classify it."""
        from playwright.sync_api import Error as PlaywrightError

        checked = 0
        challenge: tuple[int, str] | None = None
        while True:
            while checked < len(documents):
                response = documents[checked]
                checked += 1
                status, headers = response.status, response.headers
                if status in _REDIRECTS:
                    continue
                where = f"GET {url} in the browser -> {status}"
                if is_captcha(headers):
                    return BotChallenge(
                        url, status, f"{where}: blocked by a captcha (only a person can pass it); use "
                        "FESTIVAL_FETCHER=zyte with ZYTE_API_KEY or FESTIVAL_FETCHER=crawlbase with CRAWLBASE_TOKEN",
                        attempts=navigation.requests, captcha=True,
                    ), None
                if status == 202 or waf_action(headers):
                    challenge = (status, challenge_reason(b"", headers) or "202 instead of the page")
                    continue  # the page's script is at work; its reload is the next navigation
                navigation.done = True
                try:
                    body = response.body()
                except PlaywrightError:
                    navigation.done = False
                    continue  # replaced by a newer navigation before its body arrived
                if len(body) > self.http.max_body_bytes:
                    return ResponseTooLarge(
                        url, status, f"{where}: the body is larger than the {self.http.max_body_bytes} bytes allowed"
                    ), None
                error = classify_response(
                    url, status, body, headers, attempts=navigation.requests, via=" in the browser"
                )
                if isinstance(error, BotChallenge) and not error.captcha:
                    navigation.done = False
                    challenge = (status, challenge_reason(body, headers) or str(error))
                    continue
                if error is not None:
                    return self._with_retry_after(error, headers)
                page_found = FetchedPage.of(
                    url, final_url=response.url, status=status, headers=headers, body=body,
                    attempts=navigation.requests, fetcher=self.name,
                )
                return page_found, None
            if time.monotonic() >= deadline:
                if challenge is not None:
                    return BotChallenge(
                        url, challenge[0], f"GET {url} in the browser -> {challenge[0]}: the browser did not get past "
                        f"the bot challenge ({challenge[1]}) within {self.settings.page_timeout_seconds:g} s",
                        attempts=navigation.requests,
                    ), None
                return FetchFailed(
                    url, None, f"GET {url} in the browser: no page within {self.settings.page_timeout_seconds:g} s",
                    attempts=navigation.requests,
                ), None
            page.wait_for_timeout(50)  # lets Playwright deliver the next events

    def _with_retry_after(self, error: FetchError, headers: dict[str, str]) -> tuple[FetchError, float | None]:
        """A 429/503's Retry-After: waited for on the retry, or refused when beyond the cap."""
        wait = retry_after_seconds(headers.get("retry-after")) if error.status in (429, 503) else None
        if wait is not None and wait > self.http.retry_after_max:
            return RetryAfterTooLong(
                error.url, error.status,
                f"GET {error.url} in the browser -> {error.status}: the site asks to wait {wait:.0f} s before trying "
                f"again, longer than the {self.http.retry_after_max:g} s this pipeline waits; run it again later",
                attempts=error.attempts, wait_seconds=wait,
            ), None
        return error, wait


def _may_be_challenge(status: int, headers: dict[str, str]) -> bool:
    """A document whose script may be a bot challenge: AWS WAF's 202 or header, or an error status
    (Cloudflare's and others' challenge pages come as 403/503)."""
    return status == 202 or waf_action(headers) is not None or status >= 400


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return " ".join((text[0] if text else type(exc).__name__).split())[:300]

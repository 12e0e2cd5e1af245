"""The auto fetcher (the default): plain HTTP, and a real browser only to get past a bot challenge."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from festival_pipeline.sources.browser import BrowserFetcher
from festival_pipeline.sources.direct import DirectFetcher
from festival_pipeline.sources.errors import BotChallenge, FetcherUnavailable
from festival_pipeline.sources.fetcher import FetchedPage, page_host

CLEARANCE_COOKIES = ("aws-waf-token",)  # AWS WAF's; any cookie the browser got is handed over


class AutoFetcher:
    """Direct first. When the site answers with a bot challenge, the browser loads that page (its
    script passes the challenge) and the browser's cookies for the site -- AWS WAF's
    ``aws-waf-token`` -- go to the direct client, which uses the same User-Agent (tokens are bound
    to it): the next pages come plainly until the cookie expires, then the browser solves again.
    The page the browser loaded is the one returned, so no page is fetched twice.
    """

    name = "auto"

    def __init__(self, direct: DirectFetcher, browser: BrowserFetcher) -> None:
        if direct.settings.user_agent != browser.http.user_agent:
            raise ValueError("the direct client and the browser must send the same User-Agent")
        self._direct = direct
        self._browser = browser
        self._expiry: dict[str, float | None] = {}  # host -> when its clearance expires (epoch s)
        self._lock = threading.Lock()

    def fetch(self, url: str) -> FetchedPage:
        host = page_host(url)
        if self._clearance_expired(host):  # a direct request would only be challenged: go to the browser
            return self._solve(url, host, None)
        try:
            return self._direct.fetch(url)
        except BotChallenge as challenge:
            if challenge.captcha:
                raise
            blocked = challenge
        return self._solve(url, host, blocked)

    def close(self) -> None:
        self._direct.close()
        self._browser.close()

    def _solve(self, url: str, host: str, blocked: BotChallenge | None) -> FetchedPage:
        try:
            page = self._browser.fetch(url)
        except FetcherUnavailable as exc:
            why = f"GET {url} -> {blocked.status}: blocked by a bot challenge ({blocked.reason})" if blocked else url
            raise FetcherUnavailable(url, exc.status, f"{why}, and {exc}") from None
        cookies = self._browser.cookies(url)
        self._direct.add_cookies(cookies)
        with self._lock:
            self._expiry[host] = clearance_expiry(cookies)
        return page

    def _clearance_expired(self, host: str) -> bool:
        with self._lock:
            expiry = self._expiry.get(host)
        # expired for the direct client is expired in the browser's cookie jar too, so the browser
        # really solves a new challenge instead of loading the page with the old cookie
        return expiry is not None and time.time() >= expiry


def clearance_expiry(cookies: Iterable[Mapping[str, Any]]) -> float | None:
    """When the clearance runs out: the known clearance cookie's expiry, else the earliest of the
    cookies that expire; None when every cookie lasts the session (then only a challenge tells)."""
    expiring = [c for c in cookies if isinstance(c.get("expires"), (int, float)) and c["expires"] > 0]
    known = [c["expires"] for c in expiring if c.get("name") in CLEARANCE_COOKIES]
    if known:
        return float(min(known))
    return float(min(c["expires"] for c in expiring)) if expiring else None

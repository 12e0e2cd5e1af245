"""The direct fetcher: plain, polite HTTP GETs (per-host rate limit, retries, a fixed User-Agent)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from festival_pipeline.sources import transport
from festival_pipeline.sources.errors import CHALLENGE_REMEDIES, BotChallenge, FetchError
from festival_pipeline.sources.fetcher import FetchedPage, page_host
from festival_pipeline.sources.page_request import request_page
from festival_pipeline.sources.rate_limit import HostRateLimiter, shared_limiter
from festival_pipeline.sources.responses import classify_response
from festival_pipeline.sources.settings import HttpSettings


class DirectFetcher:
    """GETs pages itself and classifies them. Thread-safe: share one instance between threads.

    A bot challenge raises ``BotChallenge`` with the remedy (another fetcher); ``AutoFetcher``
    catches it, solves the challenge in a browser and hands the clearance cookie back here
    (``add_cookies``), to be sent with the same User-Agent until it expires.
    """

    name = "direct"

    def __init__(self, settings: HttpSettings | None = None, *, limiter: HostRateLimiter | None = None) -> None:
        self.settings = settings or HttpSettings()
        self._transport = transport.Transport(self.settings, limiter or shared_limiter(self.settings))

    def fetch(self, url: str) -> FetchedPage:
        """GET ``url``: a complete, real page or one of the ``FetchError`` subclasses."""
        page_host(url)  # ValueError for a non-http(s) URL, before any request
        outcome = self._get(url)
        if isinstance(outcome, FetchError):
            raise outcome  # raised outside any except block: no transport internals chained
        return outcome

    def add_cookies(self, cookies: Iterable[Mapping[str, Any]]) -> None:
        """Send these cookies (Playwright's cookie dicts: name, value, domain, path, expires,
        secure) from now on, each until it expires."""
        for cookie in cookies:
            expires = cookie.get("expires")
            domain = str(cookie.get("domain") or "")
            if domain and "." not in domain.strip("."):  # "localhost": http.cookiejar matches dotless
                domain = domain.strip(".") + ".local"  # hosts by their RFC 2965 name, "localhost.local"
            self._transport.session.cookies.set(
                cookie["name"],
                cookie["value"],
                domain=domain,
                path=cookie.get("path") or "/",
                secure=bool(cookie.get("secure")),
                # requests keeps whole seconds: round up, never drop the cookie before the browser does
                expires=math.ceil(expires) if expires is not None and expires > 0 else None,
                rest={"HttpOnly": None} if cookie.get("httpOnly") else {},
            )

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> DirectFetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _get(self, url: str) -> FetchedPage | FetchError:
        def too_long_wait(exc: transport.RetryAfterTooLong) -> str:
            return (f"GET {url} -> {exc.status}: the site asks to wait {exc.seconds:.0f} s before trying again, "
                    f"longer than the {self.settings.retry_after_max:g} s this pipeline waits; run it again later")

        exchange = request_page(self._transport, url, too_long_wait=too_long_wait)
        if isinstance(exchange, FetchError):
            return exchange
        error = classify_response(url, exchange.status, exchange.body, exchange.headers, attempts=exchange.attempts)
        if isinstance(error, BotChallenge):
            return BotChallenge(
                url, error.status, f"{error}; the direct fetcher cannot pass it: use {CHALLENGE_REMEDIES}",
                attempts=error.attempts, reason=error.reason, captcha=error.captcha,
            )
        if error is not None:
            return error
        return FetchedPage.of(
            url, final_url=exchange.url, status=exchange.status, headers=exchange.headers, body=exchange.body,
            attempts=exchange.attempts, fetcher=self.name,
        )

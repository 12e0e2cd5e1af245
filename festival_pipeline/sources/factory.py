"""Which fetcher gets each site's pages: one ``Fetchers`` per process, built from ``FetcherSettings``.

The fetchers of one ``Fetchers`` share what must be shared: the per-host rate limit (the process's,
``rate_limit.shared_limiter``), one direct client (its cookies hold a solved challenge's clearance)
and one browser, started only when a page needs it and closed by ``close``.
"""

from __future__ import annotations

import atexit
import functools
import threading

from festival_pipeline.sources.auto import AutoFetcher
from festival_pipeline.sources.browser import BrowserFetcher
from festival_pipeline.sources.crawlbase import CrawlbaseFetcher
from festival_pipeline.sources.direct import DirectFetcher
from festival_pipeline.sources.fetcher import Fetcher
from festival_pipeline.sources.imdb_api import ImdbApiClient
from festival_pipeline.sources.rate_limit import shared_limiter
from festival_pipeline.sources.settings import FetcherSettings
from festival_pipeline.sources.zyte import ZyteFetcher


class Fetchers:
    """The fetcher of each site (``for_site("oscars")``, ``for_site("imdb")``) and IMDb's API client
    (``imdb_api()``), built on first use.

    Raises ``FetcherConfigurationError`` when a site's fetcher lacks what it needs (a key, a token).
    Thread-safe.
    """

    def __init__(self, settings: FetcherSettings | None = None) -> None:
        self.settings = settings or FetcherSettings()
        self._limiter = shared_limiter(self.settings.http)
        self._built: dict[tuple[str, bool], Fetcher] = {}
        self._direct: DirectFetcher | None = None
        self._browser: BrowserFetcher | None = None
        self._api: ImdbApiClient | None = None
        self._lock = threading.Lock()

    def for_site(self, site: str) -> Fetcher:
        kind = self.settings.kind_for(site)
        render = site in self.settings.render_sites and kind in ("zyte", "crawlbase")
        with self._lock:
            fetcher = self._built.get((kind, render))
            if fetcher is None:
                fetcher = self._built[(kind, render)] = self._build(kind, render)
            return fetcher

    def imdb_api(self) -> ImdbApiClient:
        """The client of IMDb's GraphQL API (its host keeps its own pace in the shared limiter)."""
        with self._lock:
            if self._api is None:
                self._api = ImdbApiClient(self.settings.graphql, self.settings.http, limiter=self._limiter)
            return self._api

    def close(self) -> None:
        """Close every fetcher built (and so the browser); the object can build afresh afterwards."""
        with self._lock:
            built, self._built = list(self._built.values()), {}
            shared = [f for f in (self._direct, self._browser, self._api) if f is not None]
            self._direct = self._browser = self._api = None
        for fetcher in (*built, *shared):
            fetcher.close()

    def _build(self, kind: str, render: bool) -> Fetcher:
        s = self.settings
        if kind == "direct":
            return self._shared_direct()
        if kind == "browser":
            return self._shared_browser()
        if kind == "auto":
            return AutoFetcher(self._shared_direct(), self._shared_browser())
        if kind == "zyte":
            return ZyteFetcher(s.zyte, s.http, render=render, limiter=self._limiter)
        if kind == "crawlbase":
            return CrawlbaseFetcher(s.crawlbase, s.http, render=render, limiter=self._limiter)
        raise ValueError(f"unknown fetcher {kind!r}")  # FetcherSettings validated it already

    def _shared_direct(self) -> DirectFetcher:
        if self._direct is None:
            self._direct = DirectFetcher(self.settings.http, limiter=self._limiter)
        return self._direct

    def _shared_browser(self) -> BrowserFetcher:
        if self._browser is None:
            self._browser = BrowserFetcher(self.settings.browser, self.settings.http, limiter=self._limiter)
        return self._browser


@functools.cache
def process_fetchers(settings: FetcherSettings) -> Fetchers:
    """The process's ``Fetchers`` for ``settings``: every asset of a step process shares it (one
    browser per process); closed when the process exits, or earlier by ``close``."""
    fetchers = Fetchers(settings)
    atexit.register(fetchers.close)
    return fetchers

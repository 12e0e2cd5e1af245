"""Settings of the fetchers: frozen dataclasses, filled in by the caller.

Nothing in ``festival_pipeline.sources`` reads the environment; ``festival_pipeline/settings.py``
maps the variables onto these fields (FESTIVAL_HTTP_* → ``HttpSettings``, FESTIVAL_FETCHER /
OSCARS_FETCHER / IMDB_FETCHER → ``FetcherSettings``, FESTIVAL_BROWSER_EXECUTABLE →
``BrowserSettings.executable``, ZYTE_API_KEY / FESTIVAL_ZYTE_API_URL → ``ZyteSettings``,
CRAWLBASE_TOKEN / CRAWLBASE_JS_TOKEN / FESTIVAL_CRAWLBASE_API_URL → ``CrawlbaseSettings``).
Keys and tokens are left out of ``repr`` so a logged settings object shows none of them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

DEFAULT_USER_AGENT = "festival-pipeline/0.1 (+https://github.com/festival-pipeline)"
DEFAULT_ZYTE_API_URL = "https://api.zyte.com/v1/extract"
DEFAULT_CRAWLBASE_API_URL = "https://api.crawlbase.com/"
DEFAULT_IMDB_GRAPHQL_URL = "https://api.graphql.imdb.com/"
# what IMDb's own pages send to the API (public reports of 2026-07/08: without the client name and an
# imdb.com Origin or Referer it answers 403); User-Agent and Accept-Language are every fetcher's
DEFAULT_IMDB_GRAPHQL_HEADERS: Mapping[str, str] = {
    "x-imdb-client-name": "imdb-web-next",
    "Origin": "https://www.imdb.com",
    "Referer": "https://www.imdb.com/",
    "Accept": "application/graphql-response+json, application/json",
    "Content-Type": "application/json",
}
MEGABYTE = 1024 * 1024

FetcherKind = Literal["auto", "direct", "browser", "zyte", "crawlbase"]
ImdbSourceKind = Literal["auto", "graphql", "pages"]
IMDB_SOURCES: tuple[str, ...] = ("auto", "graphql", "pages")
FETCHER_KINDS: tuple[str, ...] = ("auto", "direct", "browser", "zyte", "crawlbase")
SITES: tuple[str, ...] = ("oscars", "imdb")  # oscars.org and IMDb


@dataclass(frozen=True)
class HttpSettings:
    """Politeness and transport limits, shared by every fetcher.

    ``host_requests_per_second`` overrides ``requests_per_second`` for a host and its subdomains
    (``{"imdb.com": 0.5}`` also covers ``www.imdb.com``; the longest match wins). It is left out of
    the hash, so two settings that differ only there hash alike (they still compare unequal).
    """

    user_agent: str = DEFAULT_USER_AGENT
    requests_per_second: float = 1.0  # per host, whatever the fetcher; <= 0 means unlimited
    timeout_seconds: float = 30.0  # connect timeout, and the longest wait for any one read
    deadline_seconds: float = 120.0  # one request from sending it to its last body byte
    max_body_bytes: int = 50 * MEGABYTE  # a response body, compressed and decompressed
    max_retries: int = 5
    backoff_factor: float = 0.5
    backoff_max: float = 60.0
    backoff_jitter: float = 0.5
    retry_after_max: float = 120.0  # a longer Retry-After fails ("the site asks to wait N s")
    host_requests_per_second: Mapping[str, float] = field(default_factory=dict, hash=False)
    # a PostgreSQL (libpq URL) where every process keeps the per-host pace together — steps, runs
    # and machines; None keeps it in this process only. Out of repr: the URL may hold a password.
    pace_database_url: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        _require(bool(self.user_agent.strip()), "user_agent must not be empty")
        _require(
            _finite(self.requests_per_second), f"requests_per_second must be a number, got {self.requests_per_second!r}"
        )
        for name in ("timeout_seconds", "deadline_seconds"):
            value = getattr(self, name)
            _require(_finite(value) and value > 0, f"{name} must be > 0, got {value!r}")
        _require(
            isinstance(self.max_body_bytes, int) and self.max_body_bytes > 0,
            f"max_body_bytes must be an integer > 0, got {self.max_body_bytes!r}",
        )
        _require(
            isinstance(self.max_retries, int) and self.max_retries >= 0,
            f"max_retries must be an integer >= 0, got {self.max_retries!r}",
        )
        for name in ("backoff_factor", "backoff_max", "backoff_jitter", "retry_after_max"):
            value = getattr(self, name)
            _require(_finite(value) and value >= 0, f"{name} must be >= 0, got {value!r}")
        rates = {host.strip().lower(): rate for host, rate in dict(self.host_requests_per_second).items()}
        for host, rate in rates.items():
            _require(bool(host) and _finite(rate), f"host_requests_per_second[{host!r}] must be a number, got {rate!r}")
        object.__setattr__(self, "host_requests_per_second", {host: float(rate) for host, rate in rates.items()})

    def rate_for(self, host: str) -> float:
        """Requests per second for ``host``: the longest matching override, else the default."""
        host = host.lower()
        matches = [h for h in self.host_requests_per_second if host == h or host.endswith("." + h)]
        if not matches:
            return self.requests_per_second
        return self.host_requests_per_second[max(matches, key=len)]


@dataclass(frozen=True)
class BrowserSettings:
    """The headless browser (Playwright driving Chromium).

    ``executable``: a Chromium/Chrome binary; when None, Playwright's own Chromium if it is
    installed, else the first of chromium, chromium-browser, google-chrome(-stable), chrome on PATH.
    """

    executable: str | None = None
    page_timeout_seconds: float = 60.0  # one page in the browser, a bot challenge included
    launch_timeout_seconds: float = 60.0

    def __post_init__(self) -> None:
        for name in ("page_timeout_seconds", "launch_timeout_seconds"):
            value = getattr(self, name)
            _require(_finite(value) and value > 0, f"{name} must be > 0, got {value!r}")
        if self.executable is not None:
            _require(bool(self.executable.strip()), "executable must not be blank (None picks one)")


@dataclass(frozen=True)
class ZyteSettings:
    """The Zyte API (https://docs.zyte.com/zyte-api/usage/reference.html)."""

    api_key: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_ZYTE_API_URL

    def __post_init__(self) -> None:
        _require(_http_url(self.api_url), f"api_url must be an http(s) URL, got {self.api_url!r}")


@dataclass(frozen=True)
class CrawlbaseSettings:
    """The Crawlbase Crawling API (https://crawlbase.com/docs/crawling-api). ``js_token`` is the
    account's JavaScript token, used for the sites that need rendering when it is set."""

    token: str | None = field(default=None, repr=False)
    js_token: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_CRAWLBASE_API_URL

    def __post_init__(self) -> None:
        _require(_http_url(self.api_url), f"api_url must be an http(s) URL, got {self.api_url!r}")


@dataclass(frozen=True)
class GraphQLSettings:
    """IMDb's GraphQL API: where it is, the headers sent (``headers`` override the defaults, a name
    given an empty value drops it), and which IMDb source the pipeline reads.

    ``source``: ``auto`` = the API, and the event pages when the API refuses; ``graphql`` = the API
    only; ``pages`` = the event pages only (through the configured fetcher).
    """

    url: str = DEFAULT_IMDB_GRAPHQL_URL
    headers: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_IMDB_GRAPHQL_HEADERS), hash=False)
    source: ImdbSourceKind = "auto"

    def __post_init__(self) -> None:
        _require(_http_url(self.url), f"the GraphQL URL must be an http(s) URL, got {self.url!r}")
        source = str(self.source).strip().lower()
        _require(source in IMDB_SOURCES, f"the IMDb source must be one of {', '.join(IMDB_SOURCES)}, got {source!r}")
        object.__setattr__(self, "source", source)
        merged = {**DEFAULT_IMDB_GRAPHQL_HEADERS, **dict(self.headers)}
        object.__setattr__(self, "headers", {name: value for name, value in merged.items() if value})


@dataclass(frozen=True)
class FetcherSettings:
    """Which fetcher gets each site's pages, and the settings of every fetcher and of IMDb's API.

    ``default`` applies to every site; ``oscars`` / ``imdb`` override it for oscars.org / IMDb.
    ``render_sites`` lists the sites whose pages need JavaScript rendering by a service (Zyte's
    ``browserHtml``, Crawlbase's JavaScript token); the others are asked for the page as served.
    """

    default: FetcherKind = "auto"
    oscars: FetcherKind | None = None
    imdb: FetcherKind | None = None
    render_sites: tuple[str, ...] = ()
    http: HttpSettings = field(default_factory=HttpSettings)
    browser: BrowserSettings = field(default_factory=BrowserSettings)
    zyte: ZyteSettings = field(default_factory=ZyteSettings)
    crawlbase: CrawlbaseSettings = field(default_factory=CrawlbaseSettings)
    graphql: GraphQLSettings = field(default_factory=GraphQLSettings)

    def __post_init__(self) -> None:
        for name in ("default", "oscars", "imdb"):
            kind = getattr(self, name)
            if kind is not None:
                kind = str(kind).strip().lower()
                _require(
                    kind in FETCHER_KINDS, f"fetcher {name} must be one of {', '.join(FETCHER_KINDS)}, got {kind!r}"
                )
                object.__setattr__(self, name, kind)
        sites = tuple(dict.fromkeys(s.strip().lower() for s in self.render_sites if s.strip()))
        for site in sites:
            _require(site in SITES, f"render_sites must name sites among {', '.join(SITES)}, got {site!r}")
        object.__setattr__(self, "render_sites", sites)

    def kind_for(self, site: str) -> str:
        """The fetcher kind for ``site`` ("oscars" or "imdb")."""
        _require(site in SITES, f"unknown site {site!r}; sites are {', '.join(SITES)}")
        return getattr(self, site) or self.default


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)

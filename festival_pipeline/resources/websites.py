"""The source websites resource: base URLs, politeness, and the fetchers that get the pages."""

from __future__ import annotations

import json

from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field

from festival_pipeline import settings
from festival_pipeline.resources.database import FestivalDatabase
from festival_pipeline.sources import (
    BrowserSettings,
    CrawlbaseSettings,
    Fetcher,
    Fetchers,
    FetcherSettings,
    HttpSettings,
    ZyteSettings,
    process_fetchers,
)
from festival_pipeline.sources.imdb_api import ImdbApiClient
from festival_pipeline.sources.imdb_editions import ImdbUrls
from festival_pipeline.sources.settings import (
    DEFAULT_CRAWLBASE_API_URL,
    DEFAULT_IMDB_GRAPHQL_URL,
    DEFAULT_USER_AGENT,
    DEFAULT_ZYTE_API_URL,
    GraphQLSettings,
)


def _host_rates(spec: str) -> dict[str, float]:
    """`www.imdb.com=0.5,www.oscars.org=2` → {host: requests per second}."""
    rates: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        host, sep, rate = part.partition("=")
        try:
            if not sep or not host.strip():
                raise ValueError
            rates[host.strip().lower()] = float(rate)
        except ValueError:
            raise settings.ConfigurationError(f"host rates must look like host=rate, got {part!r}") from None
    return rates


def _headers(spec: str) -> dict[str, str]:
    """`{"Origin": "https://m.imdb.com"}` (a JSON object of strings) → headers."""
    if not spec.strip():
        return {}
    try:
        headers = json.loads(spec)
    except ValueError as exc:
        raise settings.ConfigurationError(f"IMDB_GRAPHQL_HEADERS must be a JSON object of header names and values "
                                          f"({exc})") from None
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise settings.ConfigurationError('IMDB_GRAPHQL_HEADERS must be a JSON object of strings, e.g. '
                                          '{"Origin": "https://www.imdb.com"}')
    return headers


class SourceWebsites(ConfigurableResource):
    """oscars.org and IMDb (or the simulator standing in for them): where they are, how politely
    they are fetched, by which fetcher, and whether IMDb is read from its GraphQL API or its event
    pages (docs/sources.md)."""

    oscars_base_url: str = settings.DEFAULT_OSCARS_BASE_URL
    imdb_base_url: str = settings.DEFAULT_IMDB_BASE_URL
    imdb_source: str = Field(default="auto", description="auto (the API, then the pages when it refuses) | "
                                                         "graphql | pages")
    imdb_graphql_url: str = DEFAULT_IMDB_GRAPHQL_URL
    imdb_graphql_headers: str = Field(default="", description="A JSON object of headers sent to the API instead of "
                                                              "(or, with an empty value, without) the defaults.")
    # politeness and transport
    user_agent: str = DEFAULT_USER_AGENT
    requests_per_second: float = Field(default=1.0, description="Per host, whatever the fetcher; 0 = unlimited.")
    host_rates: str = Field(default="", description="Per-host overrides, e.g. `www.imdb.com=0.5,www.oscars.org=2`.")
    timeout_seconds: float = 30.0
    deadline_seconds: float = Field(default=120.0, description="One request, from sending it to its last byte.")
    max_body_bytes: int = Field(default=50 * 2**20, description="A response body, compressed and decompressed.")
    max_retries: int = 5
    backoff_factor: float = 0.5
    backoff_max: float = 60.0
    retry_after_max: float = Field(default=120.0, description="A longer Retry-After fails the year instead.")
    # fetchers
    fetcher: str = Field(default="auto", description="direct | browser | auto | zyte | crawlbase")
    oscars_fetcher: str | None = None
    imdb_fetcher: str | None = None
    render_sites: str = Field(default="", description="Sites (`oscars`, `imdb`) a service renders in a browser.")
    browser_executable: str | None = None
    browser_page_timeout_seconds: float = Field(
        default=60.0, description="One page in the browser, its bot challenge included; then the year fails.")
    zyte_api_key: str | None = None
    zyte_api_url: str = DEFAULT_ZYTE_API_URL
    crawlbase_token: str | None = None
    crawlbase_js_token: str | None = None
    crawlbase_api_url: str = DEFAULT_CRAWLBASE_API_URL

    # the festival database, where every process keeps each host's pace together
    festival_db: FestivalDatabase

    def fetcher_settings(self, pace_database_url: str | None = None) -> FetcherSettings:
        """The fetchers' settings; `pace_database_url` keeps the pace in that database (else in memory)."""
        try:
            return FetcherSettings(
                default=self.fetcher, oscars=self.oscars_fetcher, imdb=self.imdb_fetcher,  # type: ignore[arg-type]
                render_sites=tuple(site.strip() for site in self.render_sites.split(",") if site.strip()),
                http=HttpSettings(
                    user_agent=self.user_agent, requests_per_second=self.requests_per_second,
                    timeout_seconds=self.timeout_seconds, deadline_seconds=self.deadline_seconds,
                    max_body_bytes=self.max_body_bytes, max_retries=self.max_retries,
                    backoff_factor=self.backoff_factor, backoff_max=self.backoff_max,
                    retry_after_max=self.retry_after_max, host_requests_per_second=_host_rates(self.host_rates),
                    pace_database_url=pace_database_url),
                browser=BrowserSettings(executable=self.browser_executable,
                                        page_timeout_seconds=self.browser_page_timeout_seconds),
                zyte=ZyteSettings(api_key=self.zyte_api_key, api_url=self.zyte_api_url),
                crawlbase=CrawlbaseSettings(token=self.crawlbase_token, js_token=self.crawlbase_js_token,
                                            api_url=self.crawlbase_api_url),
                graphql=GraphQLSettings(url=self.imdb_graphql_url, headers=_headers(self.imdb_graphql_headers),
                                        source=self.imdb_source),  # type: ignore[arg-type]
            )
        except ValueError as exc:
            raise settings.ConfigurationError(f"invalid fetcher settings: {exc}") from None

    def fetchers(self) -> Fetchers:
        """One set of fetchers per process: the per-host rate limit (kept in the festival database, with
        every other step's, run's and machine's) and the browser are shared by every asset of a step."""
        return process_fetchers(self.fetcher_settings(self.festival_db.start()))

    def fetcher_for(self, site: str) -> Fetcher:
        """The fetcher of `site` ("oscars" or "imdb")."""
        return self.fetchers().for_site(site)

    def imdb_api(self) -> ImdbApiClient:
        """IMDb's GraphQL API client, paced like the fetchers."""
        return self.fetchers().imdb_api()

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self.fetchers().close()  # the step's browser, if one was started

    def oscars_ceremony_url(self, year: int) -> str:
        return f"{self.oscars_base_url.rstrip('/')}/oscars/ceremonies/{year}"

    def imdb_urls(self) -> ImdbUrls:
        return ImdbUrls(self.imdb_base_url)

"""Fetching the source websites, and the page archive.

| module | job |
|---|---|
| ``settings`` | frozen settings dataclasses (filled by the caller; nothing here reads the environment) |
| ``fetcher`` | ``Fetcher`` (the interface) and ``FetchedPage`` |
| ``factory`` | ``Fetchers``: the fetcher of each site, sharing one rate limit, client and browser |
| ``direct`` / ``browser`` / ``auto`` / ``zyte`` / ``crawlbase`` | the fetchers |
| ``transport`` | requests/urllib3: retries, rate-limit slots, body cap, per-request deadline |
| ``rate_limit`` | the per-host rate limit, one per process |
| ``responses`` / ``challenge`` | which error a response is; bot-challenge detection |
| ``errors`` | the exceptions, one per cause a user acts on |
| ``redaction`` | keys and tokens out of logs and messages |
| ``imdb_api`` / ``imdb_editions`` | IMDb's GraphQL API; an event's editions from the API or the pages (IMDB_SOURCE) |
| ``page_store`` | archive each fetch right after it |
"""

from festival_pipeline.sources.errors import (
    BotChallenge,
    EmptyResponse,
    FetcherConfigurationError,
    FetchError,
    FetcherUnavailable,
    FetchFailed,
    PageBlocked,
    PageNotFound,
    RateLimited,
    ResponseTooLarge,
    RetryAfterTooLong,
    ServerError,
    ServiceError,
    ServiceLimited,
    ServiceRejected,
    UnexpectedStatus,
)
from festival_pipeline.sources.factory import Fetchers, process_fetchers
from festival_pipeline.sources.fetcher import FetchedPage, Fetcher
from festival_pipeline.sources.settings import (
    BrowserSettings,
    CrawlbaseSettings,
    FetcherSettings,
    HttpSettings,
    ZyteSettings,
)

__all__ = [
    "BotChallenge",
    "BrowserSettings",
    "CrawlbaseSettings",
    "EmptyResponse",
    "FetchError",
    "FetchFailed",
    "FetchedPage",
    "Fetcher",
    "FetcherConfigurationError",
    "FetcherSettings",
    "FetcherUnavailable",
    "Fetchers",
    "HttpSettings",
    "PageBlocked",
    "PageNotFound",
    "RateLimited",
    "ResponseTooLarge",
    "RetryAfterTooLong",
    "ServerError",
    "ServiceError",
    "ServiceLimited",
    "ServiceRejected",
    "UnexpectedStatus",
    "ZyteSettings",
    "process_fetchers",
]

"""Fetching the source websites: one polite HTTP client (``http_client``) and the page archive."""

from festival_pipeline.sources.http_client import (
    EmptyResponse,
    FetchedPage,
    FetchError,
    FetchFailed,
    HttpSettings,
    InvalidEncoding,
    PageBlocked,
    PageNotFound,
    PoliteHttpClient,
    ProxyConfigurationError,
    RateLimited,
    ServerError,
    UnexpectedStatus,
)

__all__ = [
    "EmptyResponse",
    "FetchError",
    "FetchFailed",
    "FetchedPage",
    "HttpSettings",
    "InvalidEncoding",
    "PageBlocked",
    "PageNotFound",
    "PoliteHttpClient",
    "ProxyConfigurationError",
    "RateLimited",
    "ServerError",
    "UnexpectedStatus",
]

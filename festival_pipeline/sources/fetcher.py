"""The one interface every fetcher implements, and the page it returns."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit

# response headers worth archiving with a page (the rest is noise or per-request)
KEPT_HEADERS = (
    "content-type",
    "etag",
    "last-modified",
    "date",
    "content-length",
    "retry-after",
    "server",
    "cache-control",
    "x-cache",
)


@dataclass(frozen=True)
class FetchedPage:
    """A complete, real page. ``url`` is what was asked for, ``final_url`` after redirects;
    ``fetcher`` names what got it: "direct", "browser", "zyte", "zyte-browser-html" (the
    rendered DOM, not the bytes served), "crawlbase" or "crawlbase-js"."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime
    attempts: int
    sha256: str
    fetcher: str

    @classmethod
    def of(
        cls, url: str, *, final_url: str, status: int, headers: Mapping[str, str], body: bytes, attempts: int,
        fetcher: str,
    ) -> FetchedPage:
        """The page fetched just now; keeps only ``KEPT_HEADERS`` (names lower-cased)."""
        return cls(
            url=url,
            final_url=final_url,
            status=status,
            headers=kept_headers(headers),
            body=body,
            fetched_at=datetime.now(UTC),
            attempts=attempts,
            sha256=hashlib.sha256(body).hexdigest(),
            fetcher=fetcher,
        )


class Fetcher(Protocol):
    """Gets pages. ``fetch`` returns a real page or raises a ``FetchError`` naming the URL;
    ``close`` releases what the fetcher holds (connections, a browser)."""

    name: str

    def fetch(self, url: str) -> FetchedPage: ...

    def close(self) -> None: ...


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    lowered = {name.lower(): value for name, value in headers.items()}
    return {name: lowered[name] for name in KEPT_HEADERS if name in lowered}


def page_host(url: str) -> str:
    """The host of an http(s) page URL, lower-cased; ValueError for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return parts.hostname.lower()

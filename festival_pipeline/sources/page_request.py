"""One request for a page, through a transport: the answer, or the error a transport failure means
for that page, worded for the user (the direct fetcher and the rendering services share it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from festival_pipeline.sources import transport
from festival_pipeline.sources.errors import FetchError, FetchFailed, ResponseTooLarge, RetryAfterTooLong


def request_page(channel: transport.Transport, url: str, *, too_long_wait: Callable[[transport.RetryAfterTooLong], str],
                 via: str = "", method: str = "GET", wire_url: str | None = None,
                 **request: Any) -> transport.Exchange | FetchError:
    """`method wire_url` (the page itself unless a service's URL is given) through `channel`, for
    page `url`; `via` names the service in errors, `too_long_wait` words a Retry-After beyond the cap."""
    try:
        return channel.request(method, wire_url or url, **request)
    except transport.TransportFailure as exc:
        return FetchFailed(url, None, f"GET {url}{via} {exc.description}", attempts=exc.attempts)
    except transport.BodyTooLarge as exc:
        return ResponseTooLarge(url, None, f"GET {url}{via}: {exc}", attempts=exc.attempts)
    except transport.RetryAfterTooLong as exc:
        return RetryAfterTooLong(url, exc.status, too_long_wait(exc), attempts=exc.attempts, wait_seconds=exc.seconds)

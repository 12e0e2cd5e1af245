"""One call to a rendering service (Zyte API, Crawlbase) for a page: the service's answer, or the
error a transport failure means for that page — worded for the user, never holding the key."""

from __future__ import annotations

from typing import Any

from festival_pipeline.sources import transport
from festival_pipeline.sources.errors import FetchError, FetchFailed, ResponseTooLarge, RetryAfterTooLong


def call_service(channel: transport.Transport, url: str, *, service: str, via: str, retry_after_max: float,
                 method: str, wire_url: str, rate_host: str, **request: Any) -> transport.Exchange | FetchError:
    """`method wire_url` through `channel` for page `url` (rate-limited as `rate_host`)."""
    try:
        return channel.request(method, wire_url, rate_host=rate_host, **request)
    except transport.TransportFailure as exc:
        return FetchFailed(url, None, f"GET {url}{via} {exc.description}", attempts=exc.attempts)
    except transport.BodyTooLarge as exc:
        return ResponseTooLarge(url, None, f"GET {url}{via}: {exc}", attempts=exc.attempts)
    except transport.RetryAfterTooLong as exc:
        return RetryAfterTooLong(
            url, exc.status,
            f"GET {url}{via}: {service} answers {exc.status} and asks to wait {exc.seconds:.0f} s, longer than the "
            f"{retry_after_max:g} s this pipeline waits; run it again later",
            attempts=exc.attempts, wait_seconds=exc.seconds,
        )

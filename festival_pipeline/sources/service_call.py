"""One call to a rendering service (Zyte API, Crawlbase) for a page: the service's answer, or the
error a transport failure means for that page — worded for the user, never holding the key."""

from __future__ import annotations

from typing import Any

from festival_pipeline.sources import transport
from festival_pipeline.sources.errors import FetchError
from festival_pipeline.sources.page_request import request_page


def call_service(channel: transport.Transport, url: str, *, service: str, via: str, retry_after_max: float,
                 method: str, wire_url: str, rate_host: str, **request: Any) -> transport.Exchange | FetchError:
    """`method wire_url` through `channel` for page `url` (rate-limited as `rate_host`)."""

    def too_long_wait(exc: transport.RetryAfterTooLong) -> str:
        return (f"GET {url}{via}: {service} answers {exc.status} and asks to wait {exc.seconds:.0f} s, longer than "
                f"the {retry_after_max:g} s this pipeline waits; run it again later")

    return request_page(channel, url, too_long_wait=too_long_wait, via=via, method=method, wire_url=wire_url,
                        rate_host=rate_host, **request)

"""The zyte fetcher: pages through the Zyte API (``POST /v1/extract``), which gets past bot walls.

Why plain requests and not the maintained ``zyte-api`` client library: that client is built on
asyncio/aiohttp with its own connection pool and its own retry policy (tenacity: rate-limiting
responses retried until they stop, network errors for up to 15 minutes), and its sync ``ZyteAPI``
runs an event loop per call. None of this project's HTTP rules would hold through it -- the
per-host rate limit taken before *every* attempt under the page's host, the body cap, the
per-request deadline, the ``Retry-After`` cap, the same retry budget as every other fetcher --
and tests would need its internals to see attempts. The HTTP API itself is one POST with basic
auth (the key as user name, no password) and a JSON body, so ``transport.Transport`` does it with
the machinery every fetcher shares; the service's transient answers (429/503 rate limiting,
520 temporary download error, 5xx) are retried like a site's.

Request: ``{"url", "httpResponseBody": true, "httpResponseHeaders": true}`` -- the page as
served, base64 -- or, for sites that need rendering, ``{"url", "browserHtml": true}``: the DOM
after scripts ran, a different text than served (archived as fetcher "zyte-browser-html").
A website's own status comes back inside a 200 answer (``statusCode``) and is classified like a
direct fetch's.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from festival_pipeline.sources import transport
from festival_pipeline.sources.errors import (
    FetcherConfigurationError,
    FetchError,
    ResponseTooLarge,
    ServiceError,
    ServiceLimited,
    ServiceRejected,
)
from festival_pipeline.sources.fetcher import FetchedPage, page_host
from festival_pipeline.sources.rate_limit import HostRateLimiter, shared_limiter
from festival_pipeline.sources.redaction import register_secret
from festival_pipeline.sources.redirects import fetch_following_redirects, redirect_target
from festival_pipeline.sources.responses import classify_response
from festival_pipeline.sources.service_call import call_service
from festival_pipeline.sources.settings import HttpSettings, ZyteSettings

# 429/503: rate limiting (https://docs.zyte.com/zyte-api/usage/errors.html); 520: temporary download error
ZYTE_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520})
VIA = " via Zyte API"


class ZyteFetcher:
    """Fetches pages through the Zyte API; ``render=True`` asks for ``browserHtml``."""

    def __init__(
        self,
        settings: ZyteSettings,
        http: HttpSettings | None = None,
        *,
        render: bool = False,
        limiter: HostRateLimiter | None = None,
    ) -> None:
        if not settings.api_key:
            raise FetcherConfigurationError("the zyte fetcher needs an API key: set ZYTE_API_KEY")
        register_secret(settings.api_key)
        self.settings = settings
        self.http = http or HttpSettings()
        self.render = render
        self.name = "zyte-browser-html" if render else "zyte"
        self._transport = transport.Transport(
            self.http, limiter or shared_limiter(self.http),
            retry_statuses=ZYTE_RETRY_STATUSES, methods=frozenset({"POST"}),
        )

    def fetch(self, url: str) -> FetchedPage:
        host = page_host(url)  # every hop is counted under the page's host
        return fetch_following_redirects(url, lambda target, hops: self._extract(url, target, host, hops), VIA)

    def close(self) -> None:
        self._transport.close()

    def _extract(self, url: str, target: str, host: str, hops: int) -> FetchedPage | FetchError | str:
        """One call for ``target`` (``url`` or where it redirected): the page, an error, or the next URL."""
        query: dict[str, Any] = {"url": target}
        query.update({"browserHtml": True} if self.render else {"httpResponseBody": True, "httpResponseHeaders": True})
        exchange = call_service(
            self._transport, url, service="Zyte API", via=VIA, retry_after_max=self.http.retry_after_max,
            method="POST", wire_url=self.settings.api_url, rate_host=host, json=query,
            auth=(self.settings.api_key or "", ""), headers={"Accept": "application/json"},
        )
        if isinstance(exchange, FetchError):
            return exchange
        if exchange.status != 200:
            return service_error(url, exchange.status, exchange.body, exchange.attempts)
        try:
            answer = json.loads(exchange.body)
            status = int(answer["statusCode"])
            if self.render:
                body = str(answer["browserHtml"]).encode("utf-8")
                headers = {"content-type": "text/html; charset=utf-8"}
            else:
                body = base64.b64decode(answer["httpResponseBody"], validate=True)
                headers = {h["name"]: h["value"] for h in answer.get("httpResponseHeaders") or [] if "name" in h}
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            return ServiceError(
                url, None, f"GET {url}{VIA}: not a Zyte API answer ({type(exc).__name__}: {str(exc)[:200]})",
                attempts=exchange.attempts,
            )
        if len(body) > self.http.max_body_bytes:
            return ResponseTooLarge(
                url, status, f"GET {url}{VIA}: the body is larger than the {self.http.max_body_bytes} bytes allowed",
                attempts=exchange.attempts,
            )
        next_url = redirect_target(target, status, headers, body)
        if next_url is not None:
            return next_url
        attempts = hops + exchange.attempts
        error = classify_response(url, status, body, headers, attempts=attempts, via=VIA)
        if error is not None:
            return error
        return FetchedPage.of(
            url, final_url=target, status=status, headers=headers, body=body, attempts=attempts, fetcher=self.name,
        )


def service_error(url: str, status: int, body: bytes, attempts: int) -> FetchError:
    """Zyte API's own failure (https://docs.zyte.com/zyte-api/usage/errors.html), with its problem title."""
    try:
        problem = json.loads(body)
        title = " ".join(str(problem.get("title") or problem.get("detail") or "").split())[:200]
    except (ValueError, AttributeError):
        title = ""
    said = f"{status} {title}".strip()
    where = f"GET {url}{VIA}"
    if status == 401:
        return ServiceRejected(url, status, f"{where}: Zyte API rejected the API key ({said}); check ZYTE_API_KEY",
                               attempts=attempts)
    if status in (402, 403):
        return ServiceRejected(
            url, status, f"{where}: Zyte API refused the account ({said}); check its plan and credits at app.zyte.com",
            attempts=attempts,
        )
    if status in (429, 503):
        return ServiceLimited(
            url, status, f"{where}: Zyte API still rate-limits after {attempts} attempt(s) ({said}); "
            "lower FESTIVAL_HTTP_REQUESTS_PER_SECOND or raise the account's limit", attempts=attempts,
        )
    if status >= 500:
        return ServiceError(
            url, status, f"{where}: Zyte API could not get the page after {attempts} attempt(s) ({said})",
            attempts=attempts,
        )
    return ServiceError(url, status, f"{where}: Zyte API refused the request ({said})", attempts=attempts)

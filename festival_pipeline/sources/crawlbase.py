"""The crawlbase fetcher: pages through the Crawlbase Crawling API (``GET /?token=…&url=…``).

https://crawlbase.com/docs/crawling-api: the answer is the page's body; headers ``original_status``
(the website's status) and ``pc_status`` (Crawlbase's own) tell what happened. An answer without
``original_status`` is Crawlbase's own: 401 token missing or invalid, 402 out of credits, 403 the
token has no access to this product, 429 concurrency limit, 5xx/520/522/599 transient (retried
like a site's). The JavaScript token (``js_token``) renders the page in Crawlbase's browser; it is
used for sites that need rendering when it is set.

The token travels in the query string, so it is registered with ``redaction`` (urllib3 logs request
URLs) and no error or page ever carries the API URL.
"""

from __future__ import annotations

from urllib.parse import urlencode

from festival_pipeline.sources import transport
from festival_pipeline.sources.errors import (
    FetcherConfigurationError,
    FetchError,
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
from festival_pipeline.sources.settings import CrawlbaseSettings, HttpSettings

CRAWLBASE_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 522, 599})
VIA = " via Crawlbase"


class CrawlbaseFetcher:
    """Fetches pages through Crawlbase; ``render=True`` uses the JavaScript token when there is one."""

    def __init__(
        self,
        settings: CrawlbaseSettings,
        http: HttpSettings | None = None,
        *,
        render: bool = False,
        limiter: HostRateLimiter | None = None,
    ) -> None:
        use_js = bool(settings.js_token) and (render or not settings.token)
        token = settings.js_token if use_js else settings.token
        if not token:
            raise FetcherConfigurationError(
                "the crawlbase fetcher needs a token: set CRAWLBASE_TOKEN (or CRAWLBASE_JS_TOKEN for rendered pages)"
            )
        for secret in (settings.token, settings.js_token):
            register_secret(secret)
        self.settings = settings
        self.http = http or HttpSettings()
        self.name = "crawlbase-js" if use_js else "crawlbase"
        self._token = token
        self._transport = transport.Transport(
            self.http, limiter or shared_limiter(self.http), retry_statuses=CRAWLBASE_RETRY_STATUSES
        )

    def fetch(self, url: str) -> FetchedPage:
        host = page_host(url)  # every hop is counted under the page's host
        return fetch_following_redirects(url, lambda target, hops: self._crawl(url, target, host, hops), VIA)

    def close(self) -> None:
        self._transport.close()

    def _crawl(self, url: str, target: str, host: str, hops: int) -> FetchedPage | FetchError | str:
        """One call for ``target`` (``url`` or where it redirected): the page, an error, or the next URL."""
        api = self.settings.api_url
        wire_url = f"{api}{'&' if '?' in api else '?'}{urlencode({'token': self._token, 'url': target})}"
        exchange = call_service(self._transport, url, service="Crawlbase", via=VIA,
                                retry_after_max=self.http.retry_after_max, method="GET", wire_url=wire_url,
                                rate_host=host)
        if isinstance(exchange, FetchError):
            return exchange
        original = (exchange.headers.get("original_status") or "").strip()
        if not original.isdigit():
            return self._service_error(url, exchange.status, exchange.headers.get("pc_status"), exchange.attempts)
        status = int(original)
        next_url = redirect_target(target, status, exchange.headers, exchange.body)
        if next_url is not None:
            return next_url
        attempts = hops + exchange.attempts
        error = classify_response(url, status, exchange.body, exchange.headers, attempts=attempts, via=VIA)
        if error is not None:
            return error
        final_url = (exchange.headers.get("url") or "").strip()
        return FetchedPage.of(
            url, final_url=final_url if final_url.startswith(("http://", "https://")) else target, status=status,
            headers=exchange.headers, body=exchange.body, attempts=attempts, fetcher=self.name,
        )

    def _service_error(self, url: str, status: int, pc_status: str | None, attempts: int) -> FetchError:
        said = f"{status}" + (f", pc_status {pc_status}" if pc_status and pc_status != str(status) else "")
        where = f"GET {url}{VIA}"
        variable = "CRAWLBASE_JS_TOKEN" if self.name == "crawlbase-js" else "CRAWLBASE_TOKEN"
        if status == 401:
            return ServiceRejected(url, status, f"{where}: Crawlbase rejected the token ({said}); check {variable}",
                                   attempts=attempts)
        if status == 403:
            return ServiceRejected(
                url, status, f"{where}: the token has no access to the Crawling API ({said}); check {variable} "
                "(the normal token for plain pages, the JavaScript token for rendered ones)", attempts=attempts,
            )
        if status == 402:
            return ServiceLimited(url, status, f"{where}: the Crawlbase account is out of credits ({said}); top it up",
                                  attempts=attempts)
        if status == 429:
            return ServiceLimited(
                url, status, f"{where}: Crawlbase still rate-limits after {attempts} attempt(s) ({said}); "
                "lower FESTIVAL_HTTP_REQUESTS_PER_SECOND", attempts=attempts,
            )
        if status >= 500:
            return ServiceError(url, status, f"{where}: Crawlbase could not get the page after {attempts} attempt(s) "
                                f"({said})", attempts=attempts)
        return ServiceError(url, status, f"{where}: Crawlbase refused the request ({said})", attempts=attempts)

"""IMDb's GraphQL API over HTTP: one polite POST per request, the answer as a page, or the error.

The API (`IMDB_GRAPHQL_URL`, `https://api.graphql.imdb.com/`) is its own host: it has its own pace
(`FESTIVAL_HTTP_REQUESTS_PER_SECOND` per host, shared by every process like the pages') and the same
transport as every fetcher: urllib3 retries of 429/5xx (with `Retry-After`) and of connection resets
and truncated bodies, the body cap, the deadline. An answer that is not JSON (cut short with no
length to tell) is asked again within the same retry budget.

Why no GraphQL client library: the maintained ones (`gql`, `sgqlc`) bring their own HTTP sessions
and retry policies, so none of the rules above would hold through them, and a schema they could
validate against is not published; the queries are a few constants (`parsers.imdb_graphql`).

What the answers mean is classified here, the same way for every request:
* `ApiRefused` — the API will not serve this client or this query: 403 (IMDb asks for its client
  name and an imdb.com Origin/Referer), a bot challenge, no API at the URL (404, 405, 501), or a query that no
  longer fits its schema (`GRAPHQL_VALIDATION_FAILED`). `IMDB_SOURCE=auto` then reads the pages.
* the errors every fetcher raises for the rest (`RateLimited`, `ServerError`, `FetchFailed`, …).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from festival_pipeline.parsers.imdb_graphql import GraphQLRequest
from festival_pipeline.sources import transport
from festival_pipeline.sources.errors import BotChallenge, FetchError, FetchFailed, PageBlocked, PageNotFound
from festival_pipeline.sources.fetcher import FetchedPage, page_host
from festival_pipeline.sources.page_request import request_page
from festival_pipeline.sources.rate_limit import HostRateLimiter, shared_limiter
from festival_pipeline.sources.responses import classify_response
from festival_pipeline.sources.settings import GraphQLSettings, HttpSettings

FETCHER = "graphql"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
NO_API_STATUSES = frozenset({404, 405, 410, 501})  # nothing at the URL takes a POST


class ApiRefused(PageBlocked):
    """The API refuses this client or this query (see the module doc); ``reason`` says how."""

    def __init__(self, url: str, status: int | None, message: str, *, attempts: int = 0, reason: str = "") -> None:
        super().__init__(url, status, message, attempts=attempts)
        self.reason = reason or message


class ImdbApiClient:
    """Posts GraphQL requests to IMDb's API with the headers IMDb's own pages send. Thread-safe."""

    name = FETCHER

    def __init__(self, settings: GraphQLSettings, http: HttpSettings | None = None, *,
                 limiter: HostRateLimiter | None = None) -> None:
        self.settings = settings
        self.http = http or HttpSettings()
        page_host(settings.url)  # ValueError for a non-http(s) URL, before any request
        self._transport = transport.Transport(self.http, limiter or shared_limiter(self.http),
                                              methods=frozenset({"POST"}))

    def post(self, request: GraphQLRequest) -> FetchedPage:
        """The API's answer to `request` (its `url` is the request's locator), or a FetchError."""
        url = request.locator(self.settings.url)
        body = json.dumps(request.body(), separators=(",", ":")).encode("utf-8")
        last: FetchError | None = None
        for _ in range(self.http.max_retries + 1):
            outcome = self._post_once(url, body, request.operation)
            if not isinstance(outcome, _NotJson):
                if isinstance(outcome, FetchError):
                    raise outcome  # outside any except block: no transport internals chained
                return outcome
            last = outcome.error
        assert last is not None
        raise last

    def close(self) -> None:
        self._transport.close()

    def _post_once(self, url: str, body: bytes, operation: str) -> FetchedPage | FetchError | _NotJson:
        def too_long_wait(exc: transport.RetryAfterTooLong) -> str:
            return (f"POST {url} -> {exc.status}: the API asks to wait {exc.seconds:.0f} s before trying again, "
                    f"longer than the {self.http.retry_after_max:g} s this pipeline waits; run it again later")

        exchange = request_page(self._transport, url, too_long_wait=too_long_wait, method="POST",
                                wire_url=self.settings.url, data=body, headers=dict(self.settings.headers))
        if isinstance(exchange, FetchError):
            return exchange
        where = f"POST {self.settings.url} ({operation}) -> {exchange.status}"
        answer = _json_object(exchange.body)
        if exchange.status == 400 and answer is not None and _codes(answer) & {VALIDATION_FAILED}:
            return ApiRefused(url, 400, f"{where}: the API refused the query ({_messages(answer)}); it no longer "
                                        "fits the API's schema", attempts=exchange.attempts,
                              reason=f"the query no longer fits the API's schema: {_messages(answer)}")
        error = classify_response(url, exchange.status, exchange.body, exchange.headers, attempts=exchange.attempts,
                                  method="POST")
        if isinstance(error, BotChallenge):
            return ApiRefused(url, error.status, f"{where}: {error.reason or 'a bot challenge'}",
                              attempts=error.attempts, reason=f"a bot challenge ({error.reason})")
        if isinstance(error, PageNotFound) or exchange.status in NO_API_STATUSES:
            return ApiRefused(url, exchange.status, f"{where}: no GraphQL API at {self.settings.url}; check "
                                                    "IMDB_GRAPHQL_URL", attempts=exchange.attempts,
                              reason=f"no API at {self.settings.url} ({exchange.status})")
        if isinstance(error, PageBlocked) and error.status in (401, 403):
            return ApiRefused(url, error.status, f"{where}: the API refused this client (IMDb asks for its client "
                                                 "name and an imdb.com Origin or Referer: see "
                                                 "IMDB_GRAPHQL_HEADERS)", attempts=error.attempts,
                              reason=f"{error.status} Forbidden")
        if error is not None:
            return error
        if answer is None:
            return _NotJson(FetchFailed(url, exchange.status, f"{where}: the answer is not a JSON object (cut "
                                                              "short?)", attempts=exchange.attempts))
        return FetchedPage.of(url, final_url=exchange.url, status=exchange.status, headers=exchange.headers,
                              body=exchange.body, attempts=exchange.attempts, fetcher=self.name)


class _NotJson:
    """An answer to ask again: complete by its length, but not JSON."""

    def __init__(self, error: FetchError) -> None:
        self.error = error


def _json_object(body: bytes) -> Mapping | None:
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return answer if isinstance(answer, dict) else None


def _codes(answer: Mapping) -> set[str]:
    errors = answer.get("errors") if isinstance(answer.get("errors"), list) else []
    return {str((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)}


def _messages(answer: Mapping) -> str:
    errors = answer.get("errors") if isinstance(answer.get("errors"), list) else []
    return "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))[:300] or "no message"

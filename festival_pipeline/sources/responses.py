"""Which ``FetchError`` a site's final response is, if any -- the same rules for every fetcher."""

from __future__ import annotations

from collections.abc import Mapping

from festival_pipeline.sources.challenge import challenge_reason, is_captcha
from festival_pipeline.sources.errors import (
    BotChallenge,
    EmptyResponse,
    FetchError,
    PageBlocked,
    PageNotFound,
    RateLimited,
    ServerError,
    UnexpectedStatus,
)


def classify_response(
    url: str, status: int, body: bytes, headers: Mapping[str, str], *, attempts: int, via: str = "",
    method: str = "GET",
) -> FetchError | None:
    """None for a real page, else the error describing the final response.

    ``via`` names the fetcher in the message when it is not the plain client (" via Zyte API").
    """
    where = f"{method} {url}{via} -> {status}"
    tries = f"after {attempts} attempt(s)"

    def error(cls: type[FetchError], why: str) -> FetchError:
        return cls(url, status, f"{where}: {why}", attempts=attempts)

    def challenge(why: str) -> BotChallenge:
        return BotChallenge(url, status, f"{where}: blocked by a bot challenge: {why}", attempts=attempts,
                            reason=why, captcha=is_captcha(headers))

    if status in (404, 410):
        return error(PageNotFound, "page not found")
    if status == 429:
        return error(RateLimited, f"rate limited (429) {tries}")
    if status in (401, 403, 405, 451):
        reason = challenge_reason(body, headers)
        return challenge(reason) if reason else error(PageBlocked, "blocked: access denied")
    if 500 <= status <= 599:
        reason = challenge_reason(body, headers)
        return challenge(reason) if reason else error(ServerError, f"server error {tries}")
    if status == 202:
        return challenge(challenge_reason(body, headers) or (
            "empty 202 (AWS WAF JavaScript challenge)" if not body else "202 Accepted instead of the page"
        ))
    if not 200 <= status <= 299:
        return error(UnexpectedStatus, "unexpected status")
    reason = challenge_reason(body, headers)
    if reason is not None:
        return challenge(reason)
    if not body:
        return error(EmptyResponse, "empty body")
    return None

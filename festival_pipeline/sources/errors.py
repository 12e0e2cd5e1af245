"""What can go wrong when fetching a page: one exception class per cause a user acts on.

Every message is one line naming the page's URL (never a service's URL, which may hold a token)
and, where the user can do something about it, the remedy.
"""

from __future__ import annotations

# what a user can do when no fetcher here gets past a bot challenge
CHALLENGE_REMEDIES = (
    "FESTIVAL_FETCHER=auto (a local headless browser solves the challenge), "
    "or FESTIVAL_FETCHER=zyte with ZYTE_API_KEY, or FESTIVAL_FETCHER=crawlbase with CRAWLBASE_TOKEN"
)
NO_BROWSER_REMEDY = (
    "pip install playwright && playwright install chromium, or install a system chromium, "
    "or FESTIVAL_FETCHER=zyte with ZYTE_API_KEY"
)


class FetchError(RuntimeError):
    """A page could not be fetched. ``url`` is the page's URL; ``status`` the site's final status."""

    def __init__(self, url: str, status: int | None, message: str, *, attempts: int = 0) -> None:
        self.url = url
        self.status = status
        self.attempts = attempts
        super().__init__(" ".join(message.split()))  # always one line


class PageNotFound(FetchError):
    """404 / 410."""


class PageBlocked(FetchError):
    """The site refused us: 401/403/405/451, or a bot challenge."""


class BotChallenge(PageBlocked):
    """A bot challenge instead of the page (AWS WAF's 202, a captcha, a "just a moment" page).

    ``reason`` says what gave it away; ``captcha`` is True when only a person can pass it.
    """

    def __init__(
        self, url: str, status: int | None, message: str, *, attempts: int = 0, reason: str = "", captcha: bool = False
    ) -> None:
        super().__init__(url, status, message, attempts=attempts)
        self.reason = reason
        self.captcha = captcha


class RateLimited(PageBlocked):
    """Still 429 after every retry."""


class RetryAfterTooLong(RateLimited):
    """The site (or service) asks to wait longer than the pipeline waits (``HttpSettings.retry_after_max``)."""

    def __init__(self, url: str, status: int | None, message: str, *, attempts: int = 0, wait_seconds: float):
        super().__init__(url, status, message, attempts=attempts)
        self.wait_seconds = wait_seconds


class EmptyResponse(PageBlocked):
    """A success status with no body (204, or 200 with nothing)."""


class ServerError(FetchError):
    """5xx after every retry."""


class FetchFailed(FetchError):
    """No complete response: connection errors, timeouts, a missed deadline, truncated bodies, after every retry."""


class ResponseTooLarge(FetchError):
    """The body is larger than ``HttpSettings.max_body_bytes`` (compressed or decompressed)."""


class UnexpectedStatus(FetchError):
    """Any other final status (e.g. 400, or a 3xx without a usable Location)."""


class FetcherUnavailable(FetchError):
    """The fetcher cannot run here (no browser found, Playwright missing, the browser does not start)."""


class ServiceRejected(FetchError):
    """A rendering service refused the key or token (401/403): it is wrong, revoked or lacks access."""


class ServiceLimited(FetchError):
    """A rendering service still rate-limits after every retry, or the account is out of credits."""


class ServiceError(FetchError):
    """A rendering service failed (its 5xx/520 after every retry, or an answer that is not its API's)."""


class FetcherConfigurationError(ValueError):
    """A fetcher was chosen without what it needs (e.g. zyte without an API key)."""

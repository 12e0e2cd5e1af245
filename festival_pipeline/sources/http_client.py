"""One polite HTTP client for every source (oscars.org, IMDb, the simulator).

Who does what:

* ``requests.Session`` + ``HTTPAdapter``: connection pooling, redirects, cookies.
* urllib3 ``Retry`` (mounted on the adapter): every retry decision and sleep -- connect/read
  errors, 429/5xx, exponential backoff with jitter, ``Retry-After`` on 429/503.
* pyrate-limiter: one blocking bucket per host (an even spacing of ``1 / requests_per_second``),
  taken before the first attempt *and* before every urllib3 retry (``Retry.sleep`` hook).
* This module: classification of the outcome into ``FetchedPage`` or one ``FetchError``,
  the optional rendering proxy, token redaction, and counters for asset metadata.

Responses are read completely inside urllib3's retry loop (see ``_fully_read``), so a
truncated body or a stalled read is retried by ``Retry`` like any other read error instead
of surfacing later as a short page.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from pyrate_limiter import BucketFactory, InMemoryBucket, Limiter, Rate, RateItem
from pyrate_limiter.abstracts import AbstractBucket
from requests.adapters import HTTPAdapter
from urllib3 import HTTPResponse
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager, ProxyManager
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "festival-pipeline/0.1 (+https://github.com/festival-pipeline)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
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
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    # IMDb localises titles by Accept-Language; pin it so pages are comparable run to run.
    "Accept-Language": "en-US,en;q=0.9",
}


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class HttpSettings:
    """Politeness and transport settings; hashable, so one client per distinct settings can be cached.

    ``host_requests_per_second`` overrides ``requests_per_second`` for a host and its subdomains
    (``{"imdb.com": 0.5}`` also covers ``www.imdb.com``; the longest match wins). Do not mutate it.
    """

    user_agent: str = DEFAULT_USER_AGENT
    requests_per_second: float = 1.0  # per host; <= 0 means unlimited
    timeout_seconds: float = 30.0  # connect timeout and read timeout (per socket operation)
    max_retries: int = 5
    backoff_factor: float = 0.5
    backoff_max: float = 60.0
    backoff_jitter: float = 0.5
    retry_after_max: float = 120.0  # a longer Retry-After is cut to this (one thread waits that long)
    proxy_url_template: str | None = None  # "https://render.example/api?token={token}&url={url}"
    proxy_token_env: str = "FESTIVAL_PROXY_TOKEN"
    proxy_hosts: tuple[str, ...] = ("www.imdb.com", "imdb.com")  # () = every host
    host_requests_per_second: Mapping[str, float] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        _require(bool(self.user_agent.strip()), "user_agent must not be empty")
        _require(
            _finite(self.requests_per_second), f"requests_per_second must be a number, got {self.requests_per_second!r}"
        )
        _require(
            _finite(self.timeout_seconds) and self.timeout_seconds > 0,
            f"timeout_seconds must be > 0, got {self.timeout_seconds!r}",
        )
        _require(
            isinstance(self.max_retries, int) and self.max_retries >= 0,
            f"max_retries must be an integer >= 0, got {self.max_retries!r}",
        )
        for name in ("backoff_factor", "backoff_max", "backoff_jitter", "retry_after_max"):
            value = getattr(self, name)
            _require(_finite(value) and value >= 0, f"{name} must be >= 0, got {value!r}")
        if self.proxy_url_template is not None:
            _require("{url}" in self.proxy_url_template, "proxy_url_template must contain {url}")
            _require(
                urlsplit(self.proxy_url_template).scheme in ("http", "https"),
                "proxy_url_template must be an http(s) URL",
            )
        _require(bool(self.proxy_token_env.strip()), "proxy_token_env must name an environment variable")
        object.__setattr__(self, "proxy_hosts", tuple(h.strip().lower() for h in self.proxy_hosts if h.strip()))
        rates = {host.strip().lower(): float(rate) for host, rate in dict(self.host_requests_per_second).items()}
        for host, rate in rates.items():
            _require(bool(host) and _finite(rate), f"host_requests_per_second[{host!r}] must be a number, got {rate!r}")
        object.__setattr__(self, "host_requests_per_second", rates)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HttpSettings:
        """Settings from FESTIVAL_HTTP_* / FESTIVAL_PROXY_* variables; unset or blank ones keep the default.

        FESTIVAL_PROXY_HOSTS is a comma list ("*" = every host); FESTIVAL_HTTP_HOST_RATES is
        "host=rate,host=rate".
        """
        env = os.environ if environ is None else environ
        kwargs: dict[str, Any] = {}
        parsers: dict[str, tuple[str, Callable[[str, str], Any]]] = {
            "FESTIVAL_HTTP_USER_AGENT": ("user_agent", _parse_str),
            "FESTIVAL_HTTP_REQUESTS_PER_SECOND": ("requests_per_second", _parse_float),
            "FESTIVAL_HTTP_TIMEOUT": ("timeout_seconds", _parse_float),
            "FESTIVAL_HTTP_MAX_RETRIES": ("max_retries", _parse_int),
            "FESTIVAL_HTTP_BACKOFF_FACTOR": ("backoff_factor", _parse_float),
            "FESTIVAL_HTTP_BACKOFF_MAX": ("backoff_max", _parse_float),
            "FESTIVAL_PROXY_URL_TEMPLATE": ("proxy_url_template", _parse_str),
            "FESTIVAL_PROXY_TOKEN_ENV": ("proxy_token_env", _parse_str),
            "FESTIVAL_PROXY_HOSTS": ("proxy_hosts", _parse_hosts),
            "FESTIVAL_HTTP_HOST_RATES": ("host_requests_per_second", _parse_host_rates),
        }
        for var, (name, parse) in parsers.items():
            raw = env.get(var)
            if raw is not None and (raw.strip() or var == "FESTIVAL_PROXY_HOSTS"):
                kwargs[name] = parse(var, raw.strip())
        try:
            return cls(**kwargs)
        except ValueError as exc:
            raise ValueError(f"invalid HTTP settings from the environment: {exc}") from None

    def rate_for(self, host: str) -> float:
        """Requests per second for ``host``: the longest matching override, else the default."""
        host = host.lower()
        matches = [h for h in self.host_requests_per_second if host == h or host.endswith("." + h)]
        if not matches:
            return self.requests_per_second
        return self.host_requests_per_second[max(matches, key=len)]

    def proxies(self, host: str) -> bool:
        """Whether requests to ``host`` go through the rendering proxy."""
        return self.proxy_url_template is not None and (not self.proxy_hosts or host.lower() in self.proxy_hosts)


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _parse_str(_var: str, raw: str) -> str:
    return raw


def _parse_float(var: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{var} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{var} must be a finite number, got {raw!r}")
    return value


def _parse_int(var: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{var} must be an integer, got {raw!r}") from None


def _parse_hosts(_var: str, raw: str) -> tuple[str, ...]:
    if raw in ("", "*"):
        return ()
    return tuple(h.strip().lower() for h in raw.split(",") if h.strip())


def _parse_host_rates(var: str, raw: str) -> dict[str, float]:
    rates: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        host, sep, rate = part.partition("=")
        if not sep or not host.strip():
            raise ValueError(f"{var} entries must look like host=rate, got {part!r}")
        rates[host.strip().lower()] = _parse_float(f"{var} ({host.strip()})", rate.strip())
    return rates


# --------------------------------------------------------------------------- results and errors


class FetchError(RuntimeError):
    """A page could not be fetched; ``url`` is the page's URL (never the proxy URL)."""

    def __init__(self, url: str, status: int | None, message: str, *, attempts: int = 0) -> None:
        self.url = url
        self.status = status
        self.attempts = attempts
        super().__init__(" ".join(message.split()))  # always one line


class PageNotFound(FetchError):
    """404 / 410."""


class PageBlocked(FetchError):
    """The site refused us: 401/403/405/451, a WAF or captcha challenge, AWS WAF's empty 202."""


class RateLimited(PageBlocked):
    """Still 429 after every retry."""


class EmptyResponse(PageBlocked):
    """A success status with no body (204, or 200 with nothing)."""


class ServerError(FetchError):
    """5xx after every retry."""


class FetchFailed(FetchError):
    """No complete response: connection errors, timeouts, truncated bodies, after every retry."""


class UnexpectedStatus(FetchError):
    """Any other final status (e.g. 400, or a 3xx without a usable Location)."""


class InvalidEncoding(FetchError):
    """The body is not valid in its declared charset (``FetchedPage.decode_strict``)."""


class ProxyConfigurationError(RuntimeError):
    """The rendering proxy is configured but cannot be used (e.g. its token variable is unset)."""


@dataclass(frozen=True)
class FetchedPage:
    """A complete, successful response. ``url`` is what was asked for, ``final_url`` after redirects."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime
    elapsed_seconds: float
    attempts: int
    sha256: str

    @property
    def charset(self) -> str:
        """The Content-Type charset if Python knows it, else utf-8."""
        return _charset(self.headers.get("content-type", ""))

    @property
    def text(self) -> str:
        """The body decoded leniently (undecodable bytes become U+FFFD)."""
        return self.body.decode(self.charset, errors="replace")

    def decode_strict(self) -> str:
        """The body decoded strictly; raises ``InvalidEncoding`` naming the first bad byte."""
        try:
            return self.body.decode(self.charset)
        except UnicodeDecodeError as exc:
            raise InvalidEncoding(
                self.url,
                self.status,
                f"{self.url}: body is not valid {self.charset} at byte {exc.start} of {len(self.body)} ({exc.reason})",
                attempts=self.attempts,
            ) from None


def _charset(content_type: str) -> str:
    message = Message()
    message["content-type"] = content_type or "text/html"
    charset = message.get_param("charset")
    if isinstance(charset, str):
        try:
            return codecs.lookup(charset.strip().strip('"')).name
        except LookupError:
            pass
    return "utf-8"


# --------------------------------------------------------------------------- token redaction

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()


def _secret_forms(token: str) -> tuple[str, ...]:
    return tuple({token, quote(token, safe=""), quote(token, safe="").replace("%20", "+")})


def _redact(text: str) -> str:
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


class _RedactingFilter(logging.Filter):
    """urllib3 logs request URLs (retry warnings, debug lines); scrub proxy tokens out of them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            message = record.getMessage()
            redacted = _redact(message)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


_REDACTING_FILTER = _RedactingFilter()
for _name in ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.poolmanager", "urllib3.response"):
    logging.getLogger(_name).addFilter(_REDACTING_FILTER)


def _register_secret(token: str) -> None:
    with _SECRETS_LOCK:
        _SECRETS.update(form for form in _secret_forms(token) if form)


# --------------------------------------------------------------------------- rate limiting


def _rate(requests_per_second: float) -> Rate:
    """An even spacing, one request per interval: 5/s is one every 200 ms, never a burst of 5."""
    return Rate(1, max(1, round(1000 / requests_per_second)))


class _HostBucketFactory(BucketFactory):
    """One in-memory bucket per host, created on first use with that host's rate."""

    def __init__(self, rate_for: Callable[[str], float]) -> None:
        self._rate_for = rate_for
        self._buckets: dict[str, AbstractBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, host: str) -> AbstractBucket:
        with self._lock:
            bucket = self._buckets.get(host)
            if bucket is None:
                bucket = InMemoryBucket([_rate(self._rate_for(host))])
                self.schedule_leak(bucket)
                self._buckets[host] = bucket
            return bucket

    def wrap_item(self, name: str, weight: int = 1) -> RateItem:
        return RateItem(name, self.bucket(name).now(), weight=weight)

    def get(self, item: RateItem) -> AbstractBucket:
        return self.bucket(item.name)

    def owned_buckets(self) -> list[AbstractBucket]:
        with self._lock:
            return list(self._buckets.values())


class HostRateLimiter:
    """Blocking per-host limiter. Thread-safe; a wait for one host never holds up another host
    (pyrate-limiter releases its lock while sleeping)."""

    def __init__(self, rate_for: Callable[[str], float]) -> None:
        self._rate_for = rate_for
        self._limiter = Limiter(_HostBucketFactory(rate_for), buffer_ms=5)

    def acquire(self, host: str) -> float:
        """Wait for ``host``'s next slot; returns the seconds waited."""
        if self._rate_for(host) <= 0:
            return 0.0
        started = time.monotonic()
        if not self._limiter.try_acquire(host, weight=1, blocking=True):
            raise RuntimeError(f"rate limiter refused a request to {host}")  # only if weight > limit
        return time.monotonic() - started

    def close(self) -> None:
        self._limiter.close()


# --------------------------------------------------------------------------- urllib3 / requests plumbing


def _fully_read(response: HTTPResponse) -> HTTPResponse:
    """Read the whole body now, inside urllib3's retry loop, and hand back a response over those bytes.

    requests streams bodies *after* urllib3 returned, so a body cut short (fewer bytes than
    Content-Length -> IncompleteRead) or a read timeout mid-body would never be retried. Read
    from ``getresponse()``, such errors become ProtocolError / ReadTimeoutError inside ``urlopen``
    and ``Retry`` counts them as read errors.
    """
    body = response.read(decode_content=False)  # enforce_content_length applies here
    return HTTPResponse(
        body=io.BytesIO(body),
        headers=response.headers,
        status=response.status,
        version=response.version,
        version_string=response.version_string,
        reason=response.reason,
        preload_content=False,
        decode_content=response.decode_content,
        original_response=response._original_response,  # requests reads cookies from it
        enforce_content_length=False,  # already enforced on the real read above
        request_url=response.url,
    )


class _EagerHTTPConnection(HTTPConnection):
    def getresponse(self) -> HTTPResponse:  # type: ignore[override]
        return _fully_read(super().getresponse())


class _EagerHTTPSConnection(HTTPSConnection):
    def getresponse(self) -> HTTPResponse:  # type: ignore[override]
        return _fully_read(super().getresponse())


class _EagerHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _EagerHTTPConnection


class _EagerHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _EagerHTTPSConnection


_EAGER_POOL_CLASSES = {"http": _EagerHTTPConnectionPool, "https": _EagerHTTPSConnectionPool}


class _LimitedRetry(Retry):
    """urllib3 ``Retry`` that calls ``before_retry`` after its own backoff/Retry-After sleep,
    so every retry also waits for the host's rate-limit slot."""

    before_retry: Callable[[], None] | None = None

    def new(self, **kw: Any) -> _LimitedRetry:
        retry = super().new(**kw)
        retry.before_retry = self.before_retry
        return retry

    def sleep(self, response: Any = None) -> None:
        super().sleep(response)
        if self.before_retry is not None:
            self.before_retry()


class _PoliteAdapter(HTTPAdapter):
    """HTTPAdapter with eager-reading pools, ``_LimitedRetry`` and a rate-limit slot per attempt.

    ``before_attempt(url)`` runs before the first attempt of each ``send`` and
    ``before_attempt(None)`` before each urllib3 retry of it (same thread, same request).
    """

    def __init__(self, retry: _LimitedRetry, before_attempt: Callable[[str | None], None]) -> None:
        self._before_attempt = before_attempt
        retry.before_retry = lambda: self._before_attempt(None)
        super().__init__(max_retries=retry, pool_connections=10, pool_maxsize=10)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_EAGER_POOL_CLASSES)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is ProxyManager:  # SOCKS managers have their own pool classes
            manager.pool_classes_by_scheme = dict(_EAGER_POOL_CLASSES)
        return manager

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self._before_attempt(request.url)
        return super().send(request, *args, **kwargs)


# --------------------------------------------------------------------------- the client


@dataclass
class _FetchState:
    """What one ``fetch`` call knows while urllib3 works in the same thread."""

    host: str  # the page's host: rate limits and counters are per page host, also when proxied
    proxy_netloc: str | None
    attempts: int = 0


@dataclass
class _HostCounters:
    requests: int = 0
    pages: int = 0
    bytes: int = 0
    retries: int = 0
    errors: int = 0
    rate_limit_wait_seconds: float = 0.0


class PoliteHttpClient:
    """GETs pages politely (per-host rate limit, retries, a fixed User-Agent) and classifies them.

    Thread-safe: share one instance between threads and assets so the per-host limits hold.
    """

    def __init__(self, settings: HttpSettings | None = None, *, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings or HttpSettings()
        self._environ = environ  # None: os.environ, read at request time
        self._limiter = HostRateLimiter(self.settings.rate_for)
        self._state = threading.local()
        self._counters: dict[str, _HostCounters] = {}
        self._counters_lock = threading.Lock()
        self.session = requests.Session()
        self.session.headers.update({**DEFAULT_REQUEST_HEADERS, "User-Agent": self.settings.user_agent})
        adapter = _PoliteAdapter(self._retry(), self._before_attempt)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def _retry(self) -> _LimitedRetry:
        s = self.settings
        return _LimitedRetry(
            total=s.max_retries,
            connect=s.max_retries,
            read=s.max_retries,
            status=s.max_retries,
            allowed_methods=frozenset({"GET", "HEAD"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=s.backoff_factor,
            backoff_jitter=s.backoff_jitter,
            backoff_max=s.backoff_max,
            retry_after_max=math.ceil(s.retry_after_max),
            respect_retry_after_header=True,
            raise_on_status=False,  # the final status is classified by _classify
        )

    # -- public API

    def fetch(self, url: str) -> FetchedPage:
        """GET ``url``; a complete, real page or one of the ``FetchError`` subclasses."""
        host = _host(url)
        wire_url, proxied = self._wire_url(url, host)
        state = _FetchState(host=host, proxy_netloc=urlsplit(wire_url).netloc if proxied else None)
        started = time.monotonic()
        sent = self._send(url, wire_url, state)
        outcome = self._page(url, sent, state, started) if isinstance(sent, requests.Response) else sent
        if isinstance(outcome, FetchError):
            self._count(host, retries=max(0, outcome.attempts - 1), error=True)
            raise outcome  # outside any except block: nothing holding the proxy URL is chained
        self._count(host, pages=1, size=len(outcome.body), retries=outcome.attempts - 1)
        return outcome

    def counters(self) -> dict[str, Any]:
        """Totals and per-host counts (requests, pages, bytes, retries, errors, rate-limit wait)."""
        with self._counters_lock:
            by_host = {host: dict(vars(c)) for host, c in sorted(self._counters.items())}
        totals = {key: sum(h[key] for h in by_host.values()) for key in vars(_HostCounters())}
        totals["rate_limit_wait_seconds"] = round(totals["rate_limit_wait_seconds"], 3)
        for counts in by_host.values():
            counts["rate_limit_wait_seconds"] = round(counts["rate_limit_wait_seconds"], 3)
        return {**totals, "by_host": by_host}

    def close(self) -> None:
        self.session.close()
        self._limiter.close()

    def __enter__(self) -> PoliteHttpClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- sending

    def _wire_url(self, url: str, host: str) -> tuple[str, bool]:
        """The URL actually requested (the proxy's when it applies to ``host``) and whether proxied."""
        template = self.settings.proxy_url_template
        if template is None or not self.settings.proxies(host):
            return url, False
        env_name = self.settings.proxy_token_env
        token = (os.environ if self._environ is None else self._environ).get(env_name, "").strip()
        if not token:
            raise ProxyConfigurationError(
                f"proxy_url_template applies to {host} but the token variable {env_name} is unset or empty"
            )
        _register_secret(token)
        return template.replace("{url}", quote(url, safe="")).replace("{token}", quote(token, safe="")), True

    def _send(self, url: str, wire_url: str, state: _FetchState) -> requests.Response | FetchError:
        """One GET (urllib3 retries inside it); a transport failure comes back as ``FetchFailed``."""
        self._state.current = state
        try:
            return self.session.get(wire_url, timeout=self.settings.timeout_seconds)
        except requests.RequestException as exc:
            via = " via the rendering proxy" if state.proxy_netloc else ""
            failure = FetchFailed(
                url,
                None,
                f"GET {url}{via} failed after {state.attempts} attempt(s): {_describe_exception(exc)}",
                attempts=state.attempts,
            )
            if state.proxy_netloc is None:  # keep the cause for debugging unless it holds the token
                failure.__cause__ = exc
            return failure
        finally:
            self._state.current = None

    def _before_attempt(self, wire_url: str | None) -> None:
        """Adapter/Retry hook (same thread as the request): wait for the host's slot, count it.

        ``wire_url`` is None for a urllib3 retry, which goes to the host of the attempt before.
        Proxied requests are limited and counted under the page's host, not the proxy's.
        """
        state: _FetchState | None = getattr(self._state, "current", None)
        if wire_url is not None:
            host = state.host if state and state.proxy_netloc == urlsplit(wire_url).netloc else _host(wire_url)
            self._state.last_host = host
        else:
            host = getattr(self._state, "last_host", "")
        if not host:
            return
        waited = self._limiter.acquire(host)
        if state is not None:
            state.attempts += 1
        self._count(host, attempts=1, waited=waited)

    # -- classification

    def _page(
        self, url: str, response: requests.Response, state: _FetchState, started: float
    ) -> FetchedPage | FetchError:
        proxied = state.proxy_netloc is not None
        attempts = _attempts(response)
        body = response.content
        error = _classify(url, response.status_code, body, response.headers, proxied=proxied, attempts=attempts)
        if error is not None:
            return error
        return FetchedPage(
            url=url,
            final_url=url if proxied else response.url,
            status=response.status_code,
            headers=_kept_headers(response),
            body=body,
            fetched_at=datetime.now(UTC),
            elapsed_seconds=time.monotonic() - started,
            attempts=attempts,
            sha256=hashlib.sha256(body).hexdigest(),
        )

    def _count(
        self,
        host: str,
        *,
        attempts: int = 0,
        pages: int = 0,
        size: int = 0,
        retries: int = 0,
        error: bool = False,
        waited: float = 0.0,
    ) -> None:
        with self._counters_lock:
            counters = self._counters.setdefault(host, _HostCounters())
            counters.requests += attempts
            counters.pages += pages
            counters.bytes += size
            counters.retries += retries
            counters.errors += int(error)
            counters.rate_limit_wait_seconds += waited


def _host(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return parts.hostname.lower()


def _attempts(response: requests.Response) -> int:
    """Requests made for this response: each hop's urllib3 retry history + 1, over redirects."""
    total = 0
    for hop in (*response.history, response):
        retries = getattr(hop.raw, "retries", None)
        total += 1 + (len(retries.history) if retries is not None else 0)
    return total


def _kept_headers(response: requests.Response) -> dict[str, str]:
    return {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}


def _describe_exception(exc: BaseException) -> str:
    """The innermost cause, one line, tokens redacted (urllib3 messages contain the request path)."""
    root: BaseException = exc
    for _ in range(10):  # requests wraps MaxRetryError in args[0]; urllib3 keeps the cause in .reason
        first_arg = root.args[0] if root.args else None
        inner = next(
            (e for e in (getattr(root, "reason", None), root.__cause__, first_arg) if isinstance(e, BaseException)),
            None,
        )
        if inner is None or inner is root:
            break
        root = inner
    if isinstance(exc, requests.Timeout) or "timed out" in str(root).lower():
        kind = "timed out"
    elif isinstance(exc, requests.exceptions.ChunkedEncodingError) or "IncompleteRead" in str(root):
        kind = "incomplete body"
    elif isinstance(exc, requests.TooManyRedirects):
        kind = "too many redirects"
    else:
        kind = "connection error"
    detail = re.sub(r"\s+", " ", _redact(str(root)))[:300]
    return f"{kind} ({type(root).__name__}: {detail})"


# --------------------------------------------------------------------------- WAF / challenge detection

CHALLENGE_SCAN_BYTES = 300_000  # challenge pages are small; real award pages are 300 KB - 2 MB
LITTLE_TEXT_CHARS = 1_500  # visible text below which a page "has no real content"
_DEFINITE_MARKERS = (
    "attention required! | cloudflare",
    "request unsuccessful. incapsula incident id",
)
_CHALLENGE_MARKERS = (
    "awswaf",
    "challenge.js",
    "gokuprops",
    "cf-chl",
    "cf_chl_opt",
    "captcha",
    "please enable javascript",
    "enable javascript and then reload",
    "not a robot",
    "_incapsula_resource",
    "just a moment...",
)
_SCRIPT_RE = re.compile(r"<(script|style|noscript)\b.*?</\1\s*>", re.I | re.S)
_TAG_RE = re.compile(r"<[^>]+>")


def challenge_reason(body: bytes, headers: Mapping[str, str]) -> str | None:
    """Why a 2xx response is a bot challenge rather than the page, or None.

    Real pages mention these words too (IMDb pages embed a recaptcha iframe), so markers only
    count on a small page whose visible text is tiny; the two block-page titles always count.
    """
    if any(name.lower() == "x-amzn-waf-action" for name in headers):
        return "AWS WAF challenge (x-amzn-waf-action header)"
    if len(body) > CHALLENGE_SCAN_BYTES:
        return None
    lowered = body.decode("latin-1").lower()
    for marker in _DEFINITE_MARKERS:
        if marker in lowered:
            return f"block page ({marker!r})"
    found = [marker for marker in _CHALLENGE_MARKERS if marker in lowered]
    if found and _visible_text_length(lowered) < LITTLE_TEXT_CHARS:
        return f"challenge page ({', '.join(found[:3])}; no real content)"
    return None


def _visible_text_length(html: str) -> int:
    text = _TAG_RE.sub(" ", _SCRIPT_RE.sub(" ", html))
    return len(" ".join(text.split()))


def _classify(
    url: str, status: int, body: bytes, headers: Mapping[str, str], *, proxied: bool, attempts: int
) -> FetchError | None:
    """None for a real page, else the error describing the final response."""
    via = " via the rendering proxy" if proxied else ""
    where = f"GET {url}{via} -> {status}"
    tries = f"after {attempts} attempt(s)"

    def error(cls: type[FetchError], why: str) -> FetchError:
        return cls(url, status, f"{where}: {why}", attempts=attempts)

    if status in (404, 410):
        return error(PageNotFound, "page not found")
    if status == 429:
        return error(RateLimited, f"rate limited (429) {tries}")
    if status in (401, 403, 405, 451):
        return error(PageBlocked, f"blocked: {challenge_reason(body, headers) or 'access denied'}")
    if 500 <= status <= 599:
        return error(ServerError, f"server error {tries}")
    if status == 202:
        what = (
            "empty 202 (AWS WAF JavaScript challenge)"
            if not body
            else (challenge_reason(body, headers) or "202 Accepted instead of the page")
        )
        return error(PageBlocked, f"blocked: {what}")
    if not 200 <= status <= 299:
        return error(UnexpectedStatus, "unexpected status")
    challenge = challenge_reason(body, headers)
    if challenge is not None:
        return error(PageBlocked, f"blocked: {challenge}")
    if not body:
        return error(EmptyResponse, "empty body")
    return None


__all__ = [
    "DEFAULT_USER_AGENT",
    "EmptyResponse",
    "FetchError",
    "FetchFailed",
    "FetchedPage",
    "HostRateLimiter",
    "HttpSettings",
    "InvalidEncoding",
    "PageBlocked",
    "PageNotFound",
    "PoliteHttpClient",
    "ProxyConfigurationError",
    "RateLimited",
    "ServerError",
    "UnexpectedStatus",
    "challenge_reason",
]

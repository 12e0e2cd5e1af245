"""The HTTP plumbing under the direct client and the rendering services (requests + urllib3).

Who does what:

* ``requests.Session`` + ``HTTPAdapter``: connection pooling, redirects, cookies, ``HTTPS_PROXY``.
* urllib3 ``Retry`` (mounted on the adapter): every retry decision and sleep -- connect/read
  errors, retryable statuses, exponential backoff with jitter, ``Retry-After``. A ``Retry-After``
  longer than ``HttpSettings.retry_after_max`` stops the request (``RetryAfterTooLong``) instead
  of retrying early.
* ``rate_limit.HostRateLimiter``: a slot before the first attempt *and* before every retry.
* The connections read each response body completely inside urllib3's retry loop, so a truncated
  body or a stalled read is retried like any other read error instead of surfacing later as a
  short page; while reading they enforce the body cap (``max_body_bytes``, compressed) and the
  per-request deadline (``deadline_seconds``: a watchdog closes the socket of a request that is
  not complete in time, so a slow-drip server cannot stretch it read by read). The body is then
  decompressed in bounded steps under the same cap, so a zip bomb stops at the cap.

Nothing here knows about pages: errors come out as ``TransportFailure``, ``BodyTooLarge`` and
``RetryAfterTooLong`` without a URL (a service URL may hold a token); the fetchers name the page.
"""

from __future__ import annotations

import contextlib
import email.utils
import io
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPResponse
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import DecodeError
from urllib3.poolmanager import PoolManager, ProxyManager
from urllib3.util.retry import Retry

from festival_pipeline.sources.rate_limit import HostRateLimiter
from festival_pipeline.sources.redaction import redact
from festival_pipeline.sources.settings import HttpSettings

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    # IMDb localises titles by Accept-Language; pin it so pages are comparable run to run.
    "Accept-Language": "en-US,en;q=0.9",
}
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class BodyTooLarge(Exception):
    """A body beyond ``max_body_bytes``; never retried (the next answer would be as large)."""

    attempts = 0


class RetryAfterTooLong(Exception):
    """The server asks to wait ``seconds`` (> ``retry_after_max``) before the next attempt."""

    def __init__(self, seconds: float, status: int) -> None:
        super().__init__(f"{status} with Retry-After {seconds:g} s")
        self.seconds = seconds
        self.status = status
        self.attempts = 0


class TransportFailure(Exception):
    """No complete response after every retry; ``description`` is one line, secrets redacted."""

    def __init__(self, description: str, attempts: int) -> None:
        super().__init__(description)
        self.description = description
        self.attempts = attempts


@dataclass(frozen=True)
class Exchange:
    """A complete response: final status, headers, the decompressed body, the final URL."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    attempts: int


@dataclass
class _Attempts:
    rate_host: str | None  # None: each attempt under its own URL's host
    count: int = 0


class Transport:
    """A requests session whose every attempt is rate-limited, retried politely, capped and timed.

    ``retry_statuses`` / ``methods``: which statuses and methods urllib3 retries (a service adds its
    own transient statuses and POST). Thread-safe like ``requests.Session`` for GETs.
    """

    def __init__(
        self,
        settings: HttpSettings,
        limiter: HostRateLimiter,
        *,
        retry_statuses: frozenset[int] = RETRY_STATUSES,
        methods: frozenset[str] = frozenset({"GET", "HEAD"}),
    ) -> None:
        self.settings = settings
        self._limiter = limiter
        self._local = threading.local()
        self.session = requests.Session()
        self.session.headers.update({**DEFAULT_REQUEST_HEADERS, "User-Agent": settings.user_agent})
        retry = _PoliteRetry(
            total=settings.max_retries,
            connect=settings.max_retries,
            read=settings.max_retries,
            status=settings.max_retries,
            allowed_methods=methods,
            status_forcelist=retry_statuses,
            backoff_factor=settings.backoff_factor,
            backoff_jitter=settings.backoff_jitter,
            backoff_max=settings.backoff_max,
            retry_after_max=settings.retry_after_max,
            respect_retry_after_header=True,
            raise_on_status=False,  # the final status is the caller's to classify
        )
        adapter = _PoliteAdapter(retry, self._before_attempt, _pool_classes(settings))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def request(self, method: str, url: str, *, rate_host: str | None = None, **kwargs: Any) -> Exchange:
        """One request, urllib3's retries inside it. ``rate_host``: take every attempt's rate-limit
        slot under this host (a service fetching a page counts under the page's host)."""
        state = _Attempts(rate_host.lower() if rate_host else None)
        self._local.state = state
        failure: TransportFailure | None = None
        try:
            response = self.session.request(
                method, url, timeout=self.settings.timeout_seconds, stream=True, **kwargs
            )
        except (BodyTooLarge, RetryAfterTooLong) as exc:
            exc.attempts = state.count
            raise
        except requests.RequestException as exc:
            failure = TransportFailure(
                f"failed after {state.count} attempt(s): {describe_exception(exc)}", state.count
            )
        finally:
            self._local.state = None
        if failure is not None:
            raise failure  # outside the except block: nothing holding a service URL is chained
        try:
            body = _read_decoded(response.raw, self.settings.max_body_bytes)
        except DecodeError as exc:
            failure = TransportFailure(f"undecodable body ({redact(str(exc))[:200]})", state.count)
        finally:
            response.close()
        if failure is not None:
            raise failure
        return Exchange(response.status_code, response.headers, body, response.url, _attempts(response))

    def close(self) -> None:
        self.session.close()

    def _before_attempt(self, wire_url: str | None) -> None:
        """Adapter/Retry hook (same thread as the request): wait for the host's slot, count it.

        ``wire_url`` is None for a urllib3 retry, which goes to the host of the attempt before.
        """
        state: _Attempts | None = getattr(self._local, "state", None)
        if wire_url is not None:
            host = (state.rate_host if state else None) or (urlsplit(wire_url).hostname or "").lower()
            self._local.last_host = host
        else:
            host = getattr(self._local, "last_host", "")
        if host:
            self._limiter.acquire(host)
        if state is not None:
            state.count += 1


def describe_exception(exc: BaseException) -> str:
    """The innermost cause, one line, secrets redacted (urllib3 messages contain the request path)."""
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
    if isinstance(exc, requests.Timeout) or "timed out" in str(root).lower() or "deadline" in str(root):
        kind = "timed out"
    elif isinstance(exc, requests.exceptions.ChunkedEncodingError) or "IncompleteRead" in str(root):
        kind = "incomplete body"
    elif isinstance(exc, requests.TooManyRedirects):
        kind = "too many redirects"
    else:
        kind = "connection error"
    detail = re.sub(r"\s+", " ", redact(str(root)))[:300]
    return f"{kind} ({type(root).__name__}: {detail})"


def _attempts(response: requests.Response) -> int:
    """Requests made for this response: each hop's urllib3 retry history + 1, over redirects."""
    total = 0
    for hop in (*response.history, response):
        retries = getattr(hop.raw, "retries", None)
        total += 1 + (len(retries.history) if retries is not None else 0)
    return total


def _read_decoded(raw: HTTPResponse, limit: int) -> bytes:
    """The body decompressed in bounded steps (urllib3 >= 2.6 limits each step's output)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := raw.read(_CHUNK, decode_content=True):
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"the decompressed body is larger than the {limit} bytes allowed")
        chunks.append(chunk)
    return b"".join(chunks)


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds from now (delay-seconds or HTTP-date), None if absent or invalid."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return max(0.0, email.utils.mktime_tz(parsed) - time.time())


# --------------------------------------------------------------------------- urllib3 connections


class _Watchdog:
    """Shuts a socket down when the request's deadline passes, waking any read blocked on it."""

    def __init__(self, sock: Any, seconds: float) -> None:
        self.fired = False
        self._sock = sock if isinstance(sock, socket.socket) else getattr(sock, "socket", None)
        self._timer = threading.Timer(max(0.0, seconds), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        if isinstance(self._sock, socket.socket):
            with contextlib.suppress(OSError):  # already closed
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)  # the plain socket's, even under TLS

    def cancel(self) -> None:
        self._timer.cancel()


class _EagerReading:
    """Connection mixin: ``getresponse`` returns a response whose body is already read, within
    ``max_body_bytes`` and ``deadline_seconds`` (class attributes set per transport)."""

    max_body_bytes: int
    deadline_seconds: float
    _sent_at: float | None = None

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._sent_at = time.monotonic()
        super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self) -> HTTPResponse:
        sent_at = self._sent_at if self._sent_at is not None else time.monotonic()
        watchdog = _Watchdog(self.sock, sent_at + self.deadline_seconds - time.monotonic())  # type: ignore[attr-defined]
        try:
            response = _fully_read(super().getresponse(), self.max_body_bytes)  # type: ignore[misc]
        except BodyTooLarge:
            raise
        except Exception:
            if not watchdog.fired:
                raise
            response = None
        finally:
            watchdog.cancel()
        if watchdog.fired:  # even without an error: a cut-off header block can look complete
            raise TimeoutError(f"the request missed its deadline of {self.deadline_seconds:g} s")  # retried by urllib3
        return response


def _fully_read(response: HTTPResponse, limit: int) -> HTTPResponse:
    """Read the whole body now, inside urllib3's retry loop, and hand back a response over those bytes.

    requests streams bodies *after* urllib3 returned, so a body cut short (fewer bytes than
    Content-Length -> IncompleteRead) or a read timeout mid-body would never be retried. Read
    from ``getresponse()``, such errors become ProtocolError / ReadTimeoutError inside ``urlopen``
    and ``Retry`` counts them as read errors. A redirect's body is dropped (nobody reads it, and
    requests would decompress it without a cap).
    """
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"the body is {int(declared)} bytes, more than the {limit} allowed")
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(_CHUNK, decode_content=False):  # enforce_content_length applies here
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"the body is larger than the {limit} bytes allowed")
        chunks.append(chunk)
    body = b"" if response.status in _REDIRECTS and "Location" in response.headers else b"".join(chunks)
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


def _pool_classes(settings: HttpSettings) -> dict[str, type[HTTPConnectionPool]]:
    limits = {"max_body_bytes": settings.max_body_bytes, "deadline_seconds": settings.deadline_seconds}
    http_connection = type("EagerHTTPConnection", (_EagerReading, HTTPConnection), limits)
    https_connection = type("EagerHTTPSConnection", (_EagerReading, HTTPSConnection), limits)
    return {
        "http": type("EagerHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_connection}),
        "https": type("EagerHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_connection}),
    }


class _PoliteRetry(Retry):
    """urllib3 ``Retry`` that refuses a ``Retry-After`` beyond its cap and, after its own
    backoff/Retry-After sleep, calls ``before_retry`` so every retry also waits for a rate-limit slot."""

    before_retry: Callable[[], None] | None = None

    def new(self, **kw: Any) -> _PoliteRetry:
        retry = super().new(**kw)
        retry.before_retry = self.before_retry
        return retry

    def sleep(self, response: Any = None) -> None:
        if response is not None and self.respect_retry_after_header:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is not None and wait > self.retry_after_max:
                raise RetryAfterTooLong(wait, response.status)
        super().sleep(response)
        if self.before_retry is not None:
            self.before_retry()


class _PoliteAdapter(HTTPAdapter):
    """HTTPAdapter with eager-reading pools, ``_PoliteRetry`` and a rate-limit slot per attempt.

    ``before_attempt(url)`` runs before the first attempt of each ``send`` and
    ``before_attempt(None)`` before each urllib3 retry of it (same thread, same request).
    """

    def __init__(
        self,
        retry: _PoliteRetry,
        before_attempt: Callable[[str | None], None],
        pool_classes: dict[str, type[HTTPConnectionPool]],
    ) -> None:
        self._before_attempt = before_attempt
        self._pool_classes = pool_classes
        retry.before_retry = lambda: self._before_attempt(None)
        super().__init__(max_retries=retry, pool_connections=10, pool_maxsize=10)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(self._pool_classes)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is ProxyManager:  # SOCKS managers have their own pool classes
            manager.pool_classes_by_scheme = dict(self._pool_classes)
        return manager

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self._before_attempt(request.url)
        return super().send(request, *args, **kwargs)

"""The per-host rate limit, one per process, shared by every fetcher.

pyrate-limiter does the bookkeeping: one blocking in-memory bucket per host, an even spacing of
``1 / requests_per_second`` (never a burst). Every fetcher takes a slot for the *page's* host
before each request it makes for that page (first attempt, every retry, a browser's challenge
round trip, a rendering service's call), so the sites see the same pace whatever the fetcher.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

from pyrate_limiter import BucketFactory, InMemoryBucket, Limiter, Rate, RateItem
from pyrate_limiter.abstracts import AbstractBucket

from festival_pipeline.sources.settings import HttpSettings


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


class HostRateLimiter:
    """Blocking per-host limiter. Thread-safe; a wait for one host never holds up another host
    (pyrate-limiter releases its lock while sleeping)."""

    def __init__(self, rate_for: Callable[[str], float]) -> None:
        self._rate_for = rate_for
        self._limiter = Limiter(_HostBucketFactory(rate_for), buffer_ms=5)

    def acquire(self, host: str) -> float:
        """Wait for ``host``'s next slot; returns the seconds waited."""
        host = host.lower()
        if self._rate_for(host) <= 0:
            return 0.0
        started = time.monotonic()
        if not self._limiter.try_acquire(host, weight=1, blocking=True):
            raise RuntimeError(f"rate limiter refused a request to {host}")  # only if weight > limit
        return time.monotonic() - started


_shared_lock = threading.Lock()


def shared_limiter(settings: HttpSettings) -> HostRateLimiter:
    """The process's limiter for these rates: every fetcher built from equal rates shares it."""
    key = (settings.requests_per_second, tuple(sorted(settings.host_requests_per_second.items())))
    with _shared_lock:
        return _limiter_for(key)


@functools.cache
def _limiter_for(key: tuple[float, tuple[tuple[str, float], ...]]) -> HostRateLimiter:
    default, overrides = key
    return HostRateLimiter(HttpSettings(requests_per_second=default, host_requests_per_second=dict(overrides)).rate_for)

"""The per-host rate limit, shared by every fetcher — of this process, or of every process.

pyrate-limiter does the bookkeeping: one bucket per host, an even spacing of
``1 / requests_per_second`` (never a burst). Every fetcher takes a slot for the *page's* host
before each request it makes for that page (first attempt, every retry, a browser's challenge
round trip, a rendering service's call), so the sites see the same pace whatever the fetcher.

With ``HttpSettings.pace_database_url`` the buckets are pyrate-limiter's PostgreSQL buckets (one
table per host in the ``request_pace`` schema, the database's clock): every step of every run that
fetches a site — on any machine using that database — shares one pace per host. That is what lets
two runs fetch one site at once (the site pools allow two fetching steps) without ever exceeding it.
Without it the buckets live in memory, for this process only (tests, one-off fetches).
"""

from __future__ import annotations

import atexit
import functools
import random
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pyrate_limiter import BucketFactory, InMemoryBucket, Limiter, PostgresBucket, Rate, RateItem
from pyrate_limiter.abstracts import AbstractBucket

from festival_pipeline.sources.settings import HttpSettings

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool


def _rate(requests_per_second: float) -> Rate:
    """An even spacing, one request per interval: 5/s is one every 200 ms, never a burst of 5."""
    return Rate(1, max(1, round(1000 / requests_per_second)))


# the schema (created by the festival database's migrations) holding one bucket table per host
PACE_SCHEMA = "request_pace"


def pace_table(host: str) -> str:
    """The bucket table of `host` (pyrate-limiter prefixes it with `ratelimit___`)."""
    return re.sub(r"[^a-z0-9]+", "_", host.lower())


class _HostBucketFactory(BucketFactory):
    """One bucket per host, created on first use with that host's rate: in PostgreSQL when a pace
    database is given (shared by every process using it), else in memory."""

    def __init__(self, rate_for: Callable[[str], float], pace_database_url: str | None = None) -> None:
        self._rate_for = rate_for
        self._buckets: dict[str, AbstractBucket] = {}
        self._lock = threading.Lock()
        self._pool: ConnectionPool | None = None
        if pace_database_url is not None:
            # imported here: psycopg takes 0.15 s to import, and most processes never fetch politely
            from psycopg_pool import ConnectionPool

            # two connections: a fetch and the leak thread; the search path puts the tables in their schema
            self._pool = ConnectionPool(pace_database_url, min_size=1, max_size=2, name="request-pace",
                                        kwargs={"options": f"-c search_path={PACE_SCHEMA}"}, open=True)
            atexit.register(self._pool.close)

    def bucket(self, host: str) -> AbstractBucket:
        with self._lock:
            bucket = self._buckets.get(host)
            if bucket is None:
                rates = [_rate(self._rate_for(host))]
                bucket = (InMemoryBucket(rates) if self._pool is None
                          else PostgresBucket(self._pool, pace_table(host), rates))
                self.schedule_leak(bucket)
                self._buckets[host] = bucket
            return bucket

    def wrap_item(self, name: str, weight: int = 1) -> RateItem:
        return RateItem(name, self.bucket(name).now(), weight=weight)

    def get(self, item: RateItem) -> AbstractBucket:
        return self.bucket(item.name)

    def seconds_to_wait(self, host: str) -> float:
        """How long until `host`'s bucket has room again, by the bucket's clock."""
        bucket = self.bucket(host)
        waiting = bucket.waiting(self.wrap_item(host))
        assert isinstance(waiting, int)  # a sync bucket
        return max(0, waiting) / 1000


# added to every wait: past the slot's edge, and a random part so that processes waiting for the
# same slot do not always wake in the same order
WAIT_MARGIN_SECONDS = 0.002
WAIT_JITTER_SECONDS = 0.008


class HostRateLimiter:
    """Blocking per-host limiter. Thread-safe; a wait for one host never holds up another host.

    Each attempt takes a fresh timestamp from the bucket's clock, and the waits carry a little
    jitter. pyrate-limiter's own blocking loop keeps the first attempt's timestamp and adds its
    sleeps to it; across processes the one that had waited then loses every race to one that has
    not (a step can starve while others fetch from the host), so the wait is ours.
    """

    def __init__(self, rate_for: Callable[[str], float], pace_database_url: str | None = None) -> None:
        self._rate_for = rate_for
        self._buckets = _HostBucketFactory(rate_for, pace_database_url)
        self._limiter = Limiter(self._buckets)

    def acquire(self, host: str) -> float:
        """Wait for ``host``'s next slot; returns the seconds waited."""
        host = host.lower()
        if self._rate_for(host) <= 0:
            return 0.0
        started = time.monotonic()
        while not self._limiter.try_acquire(host, weight=1, blocking=False):
            time.sleep(self._buckets.seconds_to_wait(host) + WAIT_MARGIN_SECONDS
                       + random.uniform(0, WAIT_JITTER_SECONDS))
        return time.monotonic() - started


_shared_lock = threading.Lock()


def shared_limiter(settings: HttpSettings) -> HostRateLimiter:
    """The process's limiter for these rates and pace database: every fetcher built from equal
    settings shares it."""
    key = (settings.requests_per_second, tuple(sorted(settings.host_requests_per_second.items())),
           settings.pace_database_url)
    with _shared_lock:
        return _limiter_for(key)


@functools.cache
def _limiter_for(key: tuple[float, tuple[tuple[str, float], ...], str | None]) -> HostRateLimiter:
    default, overrides, pace_database_url = key
    rates = HttpSettings(requests_per_second=default, host_requests_per_second=dict(overrides))
    return HostRateLimiter(rates.rate_for, pace_database_url)

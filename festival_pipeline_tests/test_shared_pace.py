"""A site's pace is kept across processes through the festival database.

The site pools allow two fetching steps per site (two runs of a backfill fetch IMDb at once); the
politeness limit must still hold for the site as a whole, so the steps' fetchers share one pace per
host through PostgreSQL. Real processes, a real PostgreSQL, real HTTP.
"""

from __future__ import annotations

import multiprocessing
import time
import warnings
from itertools import pairwise

from festival_pipeline.database import connection
from festival_pipeline.sources.direct import DirectFetcher
from festival_pipeline.sources.rate_limit import PACE_SCHEMA, HostRateLimiter, pace_table
from festival_pipeline.sources.settings import HttpSettings
from festival_pipeline_tests.scripted_server import (  # noqa: F401 - scripted_server_fixture is `server`
    ScriptedServer,
    assert_paced,
    reply,
    scripted_server_fixture,
)

RATE = 2.5  # requests per second: one every 400 ms
PER_PROCESS = 12


def _crawl(url: str, pace_database_url: str | None, start_at: float, name: str) -> None:
    """One process (a step of another run): fetch `url` PER_PROCESS times at RATE per second."""
    settings = HttpSettings(user_agent=name, requests_per_second=RATE, max_retries=0, timeout_seconds=5,
                            pace_database_url=pace_database_url)
    with DirectFetcher(settings) as fetcher:
        time.sleep(max(0.0, start_at - time.time()))  # both processes begin together
        for _ in range(PER_PROCESS):
            fetcher.fetch(url)


def _crawl_in_two_processes(url: str, pace_database_url: str | None) -> None:
    spawn = multiprocessing.get_context("spawn")
    start_at = time.time() + 4  # after both interpreters have imported the fetcher
    processes = [spawn.Process(target=_crawl, args=(url, pace_database_url, start_at, f"crawler-{n}"))
                 for n in range(2)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0


def _arrivals(server: ScriptedServer, path: str) -> list[float]:
    arrivals = sorted(seen.at for seen in server.hits(path))
    assert len(arrivals) == 2 * PER_PROCESS
    return arrivals


def test_two_processes_sharing_the_festival_database_keep_one_pace_per_host(
        server: ScriptedServer, festival_database_url: str) -> None:
    url = server.script("/shared", reply(200))
    _crawl_in_two_processes(url, festival_database_url)
    # 400 ms apart, whichever process sent them
    assert_paced(_arrivals(server, "/shared"), 1 / RATE)

    # neither process waits for the other to finish: both have requests among the first half (a
    # waiting process used to lose every race to the one that had just fetched, and waited for all
    # of its requests; a wait of a page in a browser has a timeout)
    first_half = {seen.user_agent for seen in sorted(server.hits("/shared"), key=lambda s: s.at)[:PER_PROCESS]}
    assert first_half == {"crawler-0", "crawler-1"}

    # the bucket lives in its own schema, away from the festival tables
    with connection.transaction(festival_database_url) as cursor:
        cursor.execute("SELECT table_schema FROM information_schema.tables WHERE table_name = %s",
                       (f"ratelimit___{pace_table('127.0.0.1')}",))
        assert cursor.fetchall() == [(PACE_SCHEMA,)]


def test_without_the_database_each_process_keeps_only_its_own_pace(server: ScriptedServer) -> None:
    """What the shared pace prevents: two processes on their own reach the host twice as often."""
    url = server.script("/alone", reply(200))
    _crawl_in_two_processes(url, None)
    arrivals = _arrivals(server, "/alone")
    assert min(b - a for a, b in pairwise(arrivals)) < 0.1, arrivals


def test_the_shared_pace_warns_of_nothing(festival_database_url: str) -> None:
    """A step's log shows every warning its process raises; the pace's driver and pool raise none."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        limiter = HostRateLimiter(lambda host: 20, festival_database_url)
        limiter.acquire("quiet.example")  # creates the host's bucket table
        assert 0.02 < limiter.acquire("quiet.example") < 0.5  # the next slot, 50 ms later

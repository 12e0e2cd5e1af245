"""The direct fetcher and its transport against a real local HTTP server whose answers are scripted per path:
outcomes, retries, rate limiting, and the limits a hostile server cannot stretch (body cap, deadline,
Retry-After cap)."""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from festival_pipeline.sources.challenge import challenge_reason
from festival_pipeline.sources.direct import DirectFetcher
from festival_pipeline.sources.errors import (
    BotChallenge,
    EmptyResponse,
    FetchFailed,
    PageBlocked,
    PageNotFound,
    RateLimited,
    ResponseTooLarge,
    RetryAfterTooLong,
    ServerError,
)
from festival_pipeline.sources.fetcher import FetchedPage
from festival_pipeline.sources.settings import HttpSettings
from festival_pipeline_tests.scripted_server import (  # noqa: F401 - scripted_server_fixture is `server`
    PAGE,
    ScriptedServer,
    assert_paced,
    chunked,
    drip,
    reply,
    reset,
    scripted_server_fixture,
    slow,
    truncated,
)

REAL_IMDB_CAPTURE = Path(__file__).resolve().parents[2] / "shared" / "captures" / "imdb" / "ev0000003_2024_1.html"
AWS_WAF_CHALLENGE = (
    b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title></title>'
    b"<script>window.awsWafCookieDomainList = [];window.gokuProps = {};</script>"
    b'<script src="https://abc.token.awswaf.com/abc/challenge.js"></script></head>'
    b'<body><div id="challenge-container"></div><noscript><h1>JavaScript is disabled</h1>'
    b"In order to continue, we need to verify that you're not a robot. This requires JavaScript. "
    b"Enable JavaScript and then reload the page.</noscript></body></html>"
)


def fast_settings(**overrides: object) -> HttpSettings:
    """No rate limit and tiny backoff, so retry tests take milliseconds."""
    values: dict[str, object] = {
        "requests_per_second": 0,
        "max_retries": 3,
        "backoff_factor": 0.01,
        "backoff_jitter": 0.0,
        "timeout_seconds": 5,
    }
    values.update(overrides)
    return HttpSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def client() -> Iterator[DirectFetcher]:
    with DirectFetcher(fast_settings()) as c:
        yield c


# --------------------------------------------------------------------------- outcomes


def test_ok_page(server: ScriptedServer, client: DirectFetcher) -> None:
    url = server.script("/ok", reply(200, PAGE, {"ETag": '"v1"', "X-Unrelated": "dropped"}))

    page = client.fetch(url)

    assert isinstance(page, FetchedPage)
    assert (page.url, page.final_url, page.status, page.attempts, page.fetcher) == (url, url, 200, 1, "direct")
    assert page.body == PAGE
    assert page.sha256 == hashlib.sha256(PAGE).hexdigest()
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["etag"] == '"v1"' and "x-unrelated" not in page.headers
    assert set(page.headers) >= {"content-length", "date", "server"}
    assert page.fetched_at.utcoffset() == timedelta(0)


def test_gzip_body_is_decompressed(server: ScriptedServer, client: DirectFetcher) -> None:
    url = server.script("/gz", reply(200, gzip.compress(PAGE), {"Content-Encoding": "gzip"}))
    page = client.fetch(url)
    assert page.body == PAGE and page.sha256 == hashlib.sha256(PAGE).hexdigest()


def test_user_agent_is_the_configured_one(server: ScriptedServer) -> None:
    url = server.script("/ua", reply(200))
    with DirectFetcher(fast_settings(user_agent="festival-test/9 (+mailto:ops@example.org)")) as client:
        client.fetch(url)
    assert server.hits("/ua")[0].user_agent == "festival-test/9 (+mailto:ops@example.org)"


def test_redirect_gives_final_url(server: ScriptedServer, client: DirectFetcher) -> None:
    final = server.script("/event/ev1/2024/1/", reply(200))
    url = server.script("/event/ev1/", reply(302, b"", {"Location": "/event/ev1/2024/1/"}))
    page = client.fetch(url)
    assert (page.url, page.final_url, page.attempts) == (url, final, 2)


@pytest.mark.parametrize("status", [404, 410])
def test_not_found(server: ScriptedServer, client: DirectFetcher, status: int) -> None:
    url = server.script("/missing", reply(status, b"<h1>Not found</h1>"))
    with pytest.raises(PageNotFound) as caught:
        client.fetch(url)
    assert (caught.value.url, caught.value.status) == (url, status)
    assert url in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("status", [401, 403, 405])
def test_forbidden_is_blocked(server: ScriptedServer, client: DirectFetcher, status: int) -> None:
    url = server.script("/forbidden", reply(status, b"<h1>Forbidden</h1>"))
    with pytest.raises(PageBlocked) as caught:
        client.fetch(url)
    assert not isinstance(caught.value, (RateLimited, BotChallenge))
    assert caught.value.status == status and len(server.hits("/forbidden")) == 1  # not retried


def test_empty_202_is_aws_waf_block(server: ScriptedServer, client: DirectFetcher) -> None:
    url = server.script("/waf202", reply(202, b"", {"x-amzn-waf-action": "challenge"}))
    with pytest.raises(BotChallenge, match="202") as caught:
        client.fetch(url)
    message = str(caught.value)
    assert "x-amzn-waf-action: challenge" in message  # the challenge is named
    assert "FESTIVAL_FETCHER=auto" in message and "ZYTE_API_KEY" in message  # and the way through
    assert not caught.value.captcha and "\n" not in message


def test_empty_200_is_empty_response(server: ScriptedServer, client: DirectFetcher) -> None:
    url = server.script("/empty", reply(200, b""))
    with pytest.raises(EmptyResponse, match="empty body"):
        client.fetch(url)


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (AWS_WAF_CHALLENGE, {}),
        (b"<html><body>ok</body></html>", {"x-amzn-waf-action": "captcha"}),
        (b"<html><title>Attention Required! | Cloudflare</title><body>" + b"x " * 3000 + b"</body></html>", {}),
        (b'<html><head><title>Just a moment...</title></head><body><div id="cf-chl-widget"></div></body></html>', {}),
        (b"<html><body>Request unsuccessful. Incapsula incident ID: 123-456</body></html>", {}),
        (b"<html><body><p>Please enable JavaScript to view the page content.</p></body></html>", {}),
        (b"<html><body><form><div class='g-recaptcha'></div>Solve the captcha</form></body></html>", {}),
    ],
    ids=[
        "aws-waf-page",
        "aws-waf-header",
        "cloudflare-block",
        "cloudflare-challenge",
        "incapsula",
        "enable-js",
        "captcha",
    ],
)
def test_challenge_page_with_200_is_blocked(
    server: ScriptedServer, client: DirectFetcher, body: bytes, headers: dict[str, str]
) -> None:
    url = server.script("/challenge", reply(200, body, headers))
    with pytest.raises(BotChallenge, match="blocked") as caught:
        client.fetch(url)
    assert caught.value.captcha == (headers.get("x-amzn-waf-action") == "captcha")


def test_real_page_mentioning_captcha_is_not_a_challenge() -> None:
    text = "".join(f"<li>Nominee {i}: a film with a long enough description</li>" for i in range(200))
    body = (
        f"<html><body><ul>{text}</ul><iframe src='https://www.google.com/recaptcha/api2/aframe'></iframe></body></html>"
    )
    assert challenge_reason(body.encode(), {}) is None
    if REAL_IMDB_CAPTURE.exists():  # 1.5 MB real IMDb page containing "captcha" and "x-amzn"
        assert challenge_reason(REAL_IMDB_CAPTURE.read_bytes(), {"content-type": "text/html"}) is None


# --------------------------------------------------------------------------- retries


def test_500_twice_then_200(server: ScriptedServer, client: DirectFetcher) -> None:
    url = server.script("/flaky", reply(500, b"oops"), reply(500, b"oops"), reply(200))
    page = client.fetch(url)
    assert page.attempts == 3 and page.body == PAGE
    assert len(server.hits("/flaky")) == 3


def test_503_forever_is_server_error(server: ScriptedServer, client: DirectFetcher) -> None:
    url = server.script("/down", reply(503, b"down"))
    with pytest.raises(ServerError) as caught:
        client.fetch(url)
    assert caught.value.status == 503 and caught.value.attempts == 4
    assert len(server.hits("/down")) == 4  # 1 + max_retries


def test_429_with_retry_after_waits_then_succeeds(server: ScriptedServer, client: DirectFetcher) -> None:
    url = server.script("/busy", reply(429, b"slow down", {"Retry-After": "1"}), reply(200))
    started = time.monotonic()
    page = client.fetch(url)
    assert time.monotonic() - started >= 0.95
    assert page.attempts == 2
    first, second = server.hits("/busy")
    assert second.at - first.at >= 0.95


def test_429_forever_is_rate_limited(server: ScriptedServer, client: DirectFetcher) -> None:
    url = server.script("/busy", reply(429, b"slow down", {"Retry-After": "0"}))
    with pytest.raises(RateLimited) as caught:
        client.fetch(url)
    assert isinstance(caught.value, PageBlocked) and caught.value.attempts == 4


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_beyond_the_cap_fails_at_once_naming_the_wait(server: ScriptedServer, status: int) -> None:
    url = server.script("/later", reply(status, b"come back in an hour", {"Retry-After": "3600"}), reply(200))
    with DirectFetcher(fast_settings(retry_after_max=120)) as client:
        started = time.monotonic()
        with pytest.raises(RetryAfterTooLong, match="the site asks to wait 3600 s") as caught:
            client.fetch(url)
    assert time.monotonic() - started < 2  # no early retry, no hour-long sleep either
    assert len(server.hits("/later")) == 1
    assert (caught.value.status, caught.value.wait_seconds, caught.value.url) == (status, 3600, url)


def test_retry_after_as_a_date_beyond_the_cap(server: ScriptedServer) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)
    url = server.script("/date", reply(429, b"later", {"Retry-After": when}))
    with DirectFetcher(fast_settings(retry_after_max=120)) as client, pytest.raises(
        RetryAfterTooLong, match=r"the site asks to wait 7[12]\d\d s"
    ):
        client.fetch(url)


def test_connection_reset_then_200(server: ScriptedServer, client: DirectFetcher) -> None:
    url = server.script("/reset", reset(), reply(200))
    page = client.fetch(url)
    assert page.body == PAGE and page.attempts == 2


def test_slow_response_times_out(server: ScriptedServer) -> None:
    url = server.script("/slow", slow(1.5))
    with DirectFetcher(fast_settings(timeout_seconds=0.3, max_retries=1)) as client:
        started = time.monotonic()
        with pytest.raises(FetchFailed, match="timed out") as caught:
            client.fetch(url)
    assert caught.value.attempts == 2 and caught.value.status is None
    assert time.monotonic() - started < 1.4


def test_truncated_body_raises_after_retries(server: ScriptedServer, client: DirectFetcher) -> None:
    url = server.script("/cut", truncated(declared=5000))
    with pytest.raises(FetchFailed, match=r"incomplete body|IncompleteRead") as caught:
        client.fetch(url)
    assert caught.value.attempts == 4 and len(server.hits("/cut")) == 4


def test_truncated_body_is_retried(server: ScriptedServer, client: DirectFetcher) -> None:
    url = server.script("/cut-once", truncated(declared=len(PAGE) + 100), reply(200))
    page = client.fetch(url)
    assert page.body == PAGE and page.attempts == 2


# --------------------------------------------------------------------------- limits a server cannot stretch


@pytest.mark.parametrize("headers_first", [True, False], ids=["dripping-body", "dripping-headers"])
def test_a_slow_drip_cannot_stretch_the_deadline(server: ScriptedServer, headers_first: bool) -> None:
    """Every read comes well within the 2 s read timeout, yet the request stops at its 0.6 s deadline."""
    url = server.script("/drip", drip(total=200, every=0.05, headers_first=headers_first))
    settings = fast_settings(timeout_seconds=2, deadline_seconds=0.6, max_retries=1)
    with DirectFetcher(settings) as client:
        started = time.monotonic()
        with pytest.raises(FetchFailed, match=r"deadline of 0\.6 s") as caught:
            client.fetch(url)
        elapsed = time.monotonic() - started
    assert caught.value.attempts == 2 and len(server.hits("/drip")) == 2  # retried like a read timeout
    assert 1.1 <= elapsed < 2.5  # two deadlines, where the drip alone would take 2 x 10 s


def test_a_declared_oversized_body_is_refused_unread(server: ScriptedServer) -> None:
    big = b"z" * 300_000
    url = server.script("/big", reply(200, big))
    with DirectFetcher(fast_settings(max_body_bytes=100_000)) as client, pytest.raises(
        ResponseTooLarge, match="300000 bytes, more than the 100000 allowed"
    ) as caught:
        client.fetch(url)
    assert caught.value.url == url and len(server.hits("/big")) == 1  # never retried


def test_an_undeclared_oversized_body_stops_at_the_cap(server: ScriptedServer) -> None:
    url = server.script("/stream", chunked(chunks=200, size=10_000))  # 2 MB, no Content-Length
    with DirectFetcher(fast_settings(max_body_bytes=100_000)) as client, pytest.raises(
        ResponseTooLarge, match="larger than the 100000 bytes allowed"
    ):
        client.fetch(url)
    assert len(server.hits("/stream")) == 1


def test_a_zip_bomb_stops_at_the_decompressed_cap(server: ScriptedServer) -> None:
    bomb = gzip.compress(b"\0" * 200_000_000, compresslevel=9)  # 200 MB of zeros in ~200 KB
    assert len(bomb) < 1_000_000
    url = server.script("/bomb", reply(200, bomb, {"Content-Encoding": "gzip"}))
    with DirectFetcher(fast_settings(max_body_bytes=5_000_000)) as client:
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLarge, match="decompressed body is larger than the 5000000 bytes"):
                client.fetch(url)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 40_000_000  # decompressed in bounded steps, never the whole 200 MB
    assert len(server.hits("/bomb")) == 1


# --------------------------------------------------------------------------- rate limiting


def test_rate_limit_spaces_requests_to_one_host(server: ScriptedServer) -> None:
    url = server.script("/page", reply(200))
    with DirectFetcher(fast_settings(requests_per_second=5)) as client:
        started = time.monotonic()
        for _ in range(10):
            client.fetch(url)
        elapsed = time.monotonic() - started
    assert elapsed >= 1.6
    arrivals = [s.at for s in server.hits("/page")]
    assert len(arrivals) == 10
    assert_paced(arrivals, 0.2)


def test_hosts_are_limited_independently(server: ScriptedServer) -> None:
    """Two threads, two host names of one server: neither waits on the other's bucket."""
    server.script("/page", reply(200))
    per_host = 6
    with DirectFetcher(fast_settings(requests_per_second=5)) as client:

        def crawl(host: str) -> None:
            for _ in range(per_host):
                client.fetch(server.url("/page", host))

        threads = [threading.Thread(target=crawl, args=(host,)) for host in ("127.0.0.1", "localhost")]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    # each host alone needs ~5 x 0.2 s; serialised through one bucket 12 requests would need ~2.2 s
    assert 0.95 <= elapsed < 1.8
    for host in ("127.0.0.1", "localhost"):
        arrivals = [s.at for s in server.seen if s.host.startswith(host)]
        assert len(arrivals) == per_host
        assert_paced(arrivals, 0.2)


def test_fetchers_of_one_process_share_the_rate_limit(server: ScriptedServer) -> None:
    """Two clients with the same settings (say, two assets of a step) still keep one pace per host."""
    url = server.script("/shared", reply(200))
    settings = fast_settings(requests_per_second=4)
    with DirectFetcher(settings) as first, DirectFetcher(settings) as second:
        for _ in range(3):
            first.fetch(url)
            second.fetch(url)
    arrivals = [s.at for s in server.hits("/shared")]
    assert len(arrivals) == 6
    assert_paced(arrivals, 0.25)


def test_per_host_rate_override(server: ScriptedServer) -> None:
    server.script("/page", reply(200))
    settings = fast_settings(requests_per_second=1, host_requests_per_second={"localhost": 0})
    with DirectFetcher(settings) as client:
        started = time.monotonic()
        for _ in range(5):
            client.fetch(server.url("/page", "localhost"))
        assert time.monotonic() - started < 0.8  # unlimited override, while the default is 1/s


def test_retries_also_wait_for_the_rate_limit(server: ScriptedServer) -> None:
    # urllib3 retries the first failure without backoff; the limiter still spaces it 0.2 s apart
    url = server.script("/flaky", reply(500, b"oops"), reply(200))
    with DirectFetcher(fast_settings(requests_per_second=5, backoff_factor=0)) as client:
        assert client.fetch(url).attempts == 2
    assert_paced([seen.at for seen in server.hits("/flaky")], 0.2)


def test_rate_for_matches_subdomains() -> None:
    settings = HttpSettings(requests_per_second=1, host_requests_per_second={"imdb.com": 0.5, "m.imdb.com": 3})
    assert settings.rate_for("www.imdb.com") == 0.5
    assert settings.rate_for("IMDB.com") == 0.5
    assert settings.rate_for("m.imdb.com") == 3
    assert settings.rate_for("notimdb.com") == 1
    assert hash(settings) == hash(HttpSettings(requests_per_second=1))  # usable as a functools.cache key


# --------------------------------------------------------------------------- cookies, input


def test_clearance_cookies_are_sent_until_they_expire(server: ScriptedServer, client: DirectFetcher) -> None:
    url = server.script("/gated", reply(200))
    now = time.time()
    client.add_cookies([
        {"name": "aws-waf-token", "value": "tok", "domain": "127.0.0.1", "path": "/", "expires": now + 60},
        {"name": "stale", "value": "old", "domain": "127.0.0.1", "path": "/", "expires": now - 1},
        {"name": "session", "value": "s", "domain": "localhost", "path": "/", "expires": -1},
    ])
    client.fetch(url)
    client.fetch(server.url("/gated", "localhost"))
    on_ip, on_name = server.hits("/gated")
    assert on_ip.headers.get("Cookie") == "aws-waf-token=tok"
    assert on_name.headers.get("Cookie") == "session=s"


def test_non_http_url_is_rejected(client: DirectFetcher) -> None:
    with pytest.raises(ValueError, match="not an http"):
        client.fetch("ftp://example.org/file")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"max_retries": -1}, "max_retries must be an integer >= 0"),
        ({"timeout_seconds": 0}, "timeout_seconds must be > 0"),
        ({"deadline_seconds": float("inf")}, "deadline_seconds must be > 0"),
        ({"max_body_bytes": 0}, "max_body_bytes must be an integer > 0"),
        ({"requests_per_second": "fast"}, "requests_per_second must be a number, got 'fast'"),
        ({"host_requests_per_second": {"imdb.com": "x"}}, r"host_requests_per_second\['imdb.com'\] must be a number"),
    ],
)
def test_invalid_settings_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HttpSettings(**overrides)  # type: ignore[arg-type]

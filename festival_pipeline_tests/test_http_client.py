"""PoliteHttpClient against a real local HTTP server whose answers are scripted per path."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from festival_pipeline.sources.http_client import (
    EmptyResponse,
    FetchedPage,
    FetchFailed,
    HttpSettings,
    InvalidEncoding,
    PageBlocked,
    PageNotFound,
    PoliteHttpClient,
    ProxyConfigurationError,
    RateLimited,
    ServerError,
    challenge_reason,
)

REAL_IMDB_CAPTURE = Path(__file__).resolve().parents[2] / "shared" / "captures" / "imdb" / "ev0000003_2024_1.html"
PAGE = b"<html><head><title>The 96th Academy Awards</title></head><body><h1>2024</h1></body></html>"
AWS_WAF_CHALLENGE = (
    b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title></title>'
    b"<script>window.awsWafCookieDomainList = [];window.gokuProps = {};</script>"
    b'<script src="https://abc.token.awswaf.com/abc/challenge.js"></script></head>'
    b'<body><div id="challenge-container"></div><noscript><h1>JavaScript is disabled</h1>'
    b"In order to continue, we need to verify that you're not a robot. This requires JavaScript. "
    b"Enable JavaScript and then reload the page.</noscript></body></html>"
)
TOKEN = "s3cr3t/tok+en"

Step = Callable[["_Handler"], None]


# --------------------------------------------------------------------------- scripted server


@dataclass(frozen=True)
class Seen:
    path: str
    host: str
    user_agent: str
    at: float  # time.monotonic() when the request line arrived


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the client reuses pooled connections
    server: ScriptedServer

    def do_GET(self) -> None:
        self.server.seen.append(
            Seen(self.path, self.headers.get("Host", ""), self.headers.get("User-Agent", ""), time.monotonic())
        )
        self.server.next_step(urlsplit(self.path).path)(self)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def handle(self) -> None:
        with contextlib.suppress(OSError):  # the client gave up (timeout tests)
            super().handle()


class ScriptedServer(ThreadingHTTPServer):
    """Each path answers with its steps in order; the last step repeats forever."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.scripts: dict[str, list[Step]] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def script(self, path: str, *steps: Step) -> str:
        self.scripts[path] = list(steps)
        return self.url(path)

    def next_step(self, path: str) -> Step:
        with self._lock:
            steps = self.scripts.get(path) or [reply(404, b"no script")]
            return steps.pop(0) if len(steps) > 1 else steps[0]

    def hits(self, path: str) -> list[Seen]:
        return [s for s in self.seen if urlsplit(s.path).path == path]


def reply(status: int, body: bytes = PAGE, headers: dict[str, str] | None = None) -> Step:
    def step(handler: _Handler) -> None:
        handler.send_response(status)
        all_headers = {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body)), **(headers or {})}
        for name, value in all_headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    return step


def reset() -> Step:
    """Drop the connection with a TCP RST before answering."""

    def step(handler: _Handler) -> None:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.close_connection = True
        handler.connection.close()

    return step


def slow(seconds: float) -> Step:
    def step(handler: _Handler) -> None:
        time.sleep(seconds)
        reply(200)(handler)

    return step


def truncated(declared: int, sent: bytes = b"<html>only the start") -> Step:
    def step(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(declared))
        handler.end_headers()
        handler.wfile.write(sent)
        handler.wfile.flush()
        handler.close_connection = True

    return step


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


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
def client() -> Iterator[PoliteHttpClient]:
    with PoliteHttpClient(fast_settings()) as c:
        yield c


# --------------------------------------------------------------------------- outcomes


def test_ok_page(server: ScriptedServer, client: PoliteHttpClient) -> None:
    url = server.script("/ok", reply(200, PAGE, {"ETag": '"v1"', "X-Unrelated": "dropped"}))

    page = client.fetch(url)

    assert isinstance(page, FetchedPage)
    assert (page.url, page.final_url, page.status, page.attempts) == (url, url, 200, 1)
    assert page.body == PAGE and page.text == PAGE.decode()
    assert page.sha256 == hashlib.sha256(PAGE).hexdigest()
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["etag"] == '"v1"' and "x-unrelated" not in page.headers
    assert set(page.headers) >= {"content-length", "date", "server"}
    assert page.fetched_at.utcoffset() == timedelta(0)
    assert page.elapsed_seconds >= 0


def test_user_agent_is_the_configured_one(server: ScriptedServer) -> None:
    url = server.script("/ua", reply(200))
    with PoliteHttpClient(fast_settings(user_agent="festival-test/9 (+mailto:ops@example.org)")) as client:
        client.fetch(url)
    assert server.hits("/ua")[0].user_agent == "festival-test/9 (+mailto:ops@example.org)"


def test_redirect_gives_final_url(server: ScriptedServer, client: PoliteHttpClient) -> None:
    final = server.script("/event/ev1/2024/1/", reply(200))
    url = server.script("/event/ev1/", reply(302, b"", {"Location": "/event/ev1/2024/1/"}))
    page = client.fetch(url)
    assert (page.url, page.final_url, page.attempts) == (url, final, 2)


@pytest.mark.parametrize("status", [404, 410])
def test_not_found(server: ScriptedServer, client: PoliteHttpClient, status: int) -> None:
    url = server.script("/missing", reply(status, b"<h1>Not found</h1>"))
    with pytest.raises(PageNotFound) as caught:
        client.fetch(url)
    assert (caught.value.url, caught.value.status) == (url, status)
    assert url in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("status", [401, 403, 405])
def test_forbidden_is_blocked(server: ScriptedServer, client: PoliteHttpClient, status: int) -> None:
    url = server.script("/forbidden", reply(status, b"<h1>Forbidden</h1>"))
    with pytest.raises(PageBlocked) as caught:
        client.fetch(url)
    assert not isinstance(caught.value, RateLimited)
    assert caught.value.status == status and len(server.hits("/forbidden")) == 1  # not retried


def test_empty_202_is_aws_waf_block(server: ScriptedServer, client: PoliteHttpClient) -> None:
    url = server.script("/waf202", reply(202, b"", {"x-amzn-waf-action": "challenge"}))
    with pytest.raises(PageBlocked, match="202"):
        client.fetch(url)


def test_empty_200_is_empty_response(server: ScriptedServer, client: PoliteHttpClient) -> None:
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
    server: ScriptedServer, client: PoliteHttpClient, body: bytes, headers: dict[str, str]
) -> None:
    url = server.script("/challenge", reply(200, body, headers))
    with pytest.raises(PageBlocked, match="blocked"):
        client.fetch(url)


def test_real_page_mentioning_captcha_is_not_a_challenge() -> None:
    text = "".join(f"<li>Nominee {i}: a film with a long enough description</li>" for i in range(200))
    body = (
        f"<html><body><ul>{text}</ul><iframe src='https://www.google.com/recaptcha/api2/aframe'></iframe></body></html>"
    )
    assert challenge_reason(body.encode(), {}) is None
    if REAL_IMDB_CAPTURE.exists():  # 1.5 MB real IMDb page containing "captcha" and "x-amzn"
        assert challenge_reason(REAL_IMDB_CAPTURE.read_bytes(), {"content-type": "text/html"}) is None


# --------------------------------------------------------------------------- retries


def test_500_twice_then_200(server: ScriptedServer, client: PoliteHttpClient) -> None:
    url = server.script("/flaky", reply(500, b"oops"), reply(500, b"oops"), reply(200))
    page = client.fetch(url)
    assert page.attempts == 3 and page.body == PAGE
    assert len(server.hits("/flaky")) == 3
    assert client.counters()["by_host"]["127.0.0.1"]["retries"] == 2


def test_503_forever_is_server_error(server: ScriptedServer, client: PoliteHttpClient) -> None:
    url = server.script("/down", reply(503, b"down"))
    with pytest.raises(ServerError) as caught:
        client.fetch(url)
    assert caught.value.status == 503 and caught.value.attempts == 4
    assert len(server.hits("/down")) == 4  # 1 + max_retries


def test_429_with_retry_after_waits_then_succeeds(server: ScriptedServer, client: PoliteHttpClient) -> None:
    url = server.script("/busy", reply(429, b"slow down", {"Retry-After": "1"}), reply(200))
    started = time.monotonic()
    page = client.fetch(url)
    assert time.monotonic() - started >= 0.95
    assert page.attempts == 2
    first, second = server.hits("/busy")
    assert second.at - first.at >= 0.95


def test_429_forever_is_rate_limited(server: ScriptedServer, client: PoliteHttpClient) -> None:
    url = server.script("/busy", reply(429, b"slow down", {"Retry-After": "0"}))
    with pytest.raises(RateLimited) as caught:
        client.fetch(url)
    assert isinstance(caught.value, PageBlocked) and caught.value.attempts == 4


def test_connection_reset_then_200(server: ScriptedServer, client: PoliteHttpClient) -> None:
    url = server.script("/reset", reset(), reply(200))
    page = client.fetch(url)
    assert page.body == PAGE and page.attempts == 2


def test_slow_response_times_out(server: ScriptedServer) -> None:
    url = server.script("/slow", slow(1.5))
    with PoliteHttpClient(fast_settings(timeout_seconds=0.3, max_retries=1)) as client:
        started = time.monotonic()
        with pytest.raises(FetchFailed, match="timed out") as caught:
            client.fetch(url)
    assert caught.value.attempts == 2 and caught.value.status is None
    assert time.monotonic() - started < 1.4


def test_truncated_body_raises_after_retries(server: ScriptedServer, client: PoliteHttpClient) -> None:
    url = server.script("/cut", truncated(declared=5000))
    with pytest.raises(FetchFailed, match=r"incomplete body|IncompleteRead") as caught:
        client.fetch(url)
    assert caught.value.attempts == 4 and len(server.hits("/cut")) == 4


def test_truncated_body_is_retried(server: ScriptedServer, client: PoliteHttpClient) -> None:
    url = server.script("/cut-once", truncated(declared=len(PAGE) + 100), reply(200))
    page = client.fetch(url)
    assert page.body == PAGE and page.attempts == 2


# --------------------------------------------------------------------------- rate limiting


def test_rate_limit_spaces_requests_to_one_host(server: ScriptedServer) -> None:
    url = server.script("/page", reply(200))
    with PoliteHttpClient(fast_settings(requests_per_second=5)) as client:
        started = time.monotonic()
        for _ in range(10):
            client.fetch(url)
        elapsed = time.monotonic() - started
        counters = client.counters()
    assert elapsed >= 1.6
    arrivals = [s.at for s in server.hits("/page")]
    assert min(b - a for a, b in pairwise(arrivals)) >= 0.18
    assert counters["pages"] == 10 and counters["by_host"]["127.0.0.1"]["rate_limit_wait_seconds"] >= 1.5


def test_hosts_are_limited_independently(server: ScriptedServer) -> None:
    """Two threads, two host names of one server: neither waits on the other's bucket."""
    server.script("/page", reply(200))
    per_host = 6
    with PoliteHttpClient(fast_settings(requests_per_second=5)) as client:

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
        assert min(b - a for a, b in pairwise(arrivals)) >= 0.18


def test_per_host_rate_override(server: ScriptedServer) -> None:
    server.script("/page", reply(200))
    settings = fast_settings(requests_per_second=1, host_requests_per_second={"localhost": 0})
    with PoliteHttpClient(settings) as client:
        started = time.monotonic()
        for _ in range(5):
            client.fetch(server.url("/page", "localhost"))
        assert time.monotonic() - started < 0.8  # unlimited override, while the default is 1/s


def test_retries_also_wait_for_the_rate_limit(server: ScriptedServer) -> None:
    # urllib3 retries the first failure without backoff; the limiter still spaces it 0.2 s apart
    url = server.script("/flaky", reply(500, b"oops"), reply(200))
    with PoliteHttpClient(fast_settings(requests_per_second=5, backoff_factor=0)) as client:
        assert client.fetch(url).attempts == 2
    first, second = server.hits("/flaky")
    assert second.at - first.at >= 0.18


def test_rate_for_matches_subdomains() -> None:
    settings = HttpSettings(requests_per_second=1, host_requests_per_second={"imdb.com": 0.5, "m.imdb.com": 3})
    assert settings.rate_for("www.imdb.com") == 0.5
    assert settings.rate_for("IMDB.com") == 0.5
    assert settings.rate_for("m.imdb.com") == 3
    assert settings.rate_for("notimdb.com") == 1
    assert hash(settings) == hash(HttpSettings(requests_per_second=1))  # usable as a functools.cache key


# --------------------------------------------------------------------------- rendering proxy


def proxy_settings(server: ScriptedServer, **overrides: object) -> HttpSettings:
    template = server.url("/render") + "?token={token}&url={url}"
    return fast_settings(proxy_url_template=template, proxy_token_env="TEST_RENDER_TOKEN", **overrides)


def test_proxy_template_is_used_for_proxy_hosts(server: ScriptedServer, caplog: pytest.LogCaptureFixture) -> None:
    server.script("/render", reply(200))
    direct = server.script("/direct", reply(200))
    target = "https://www.imdb.com/event/ev0000003/2024/1/?ref_=x&a=b"
    caplog.set_level(logging.DEBUG)
    with PoliteHttpClient(proxy_settings(server), environ={"TEST_RENDER_TOKEN": TOKEN}) as client:
        page = client.fetch(target)
        client.fetch(direct)  # 127.0.0.1 is not a proxy host
        counters = client.counters()

    assert (page.url, page.final_url, page.body) == (target, target, PAGE)
    (hit,) = server.hits("/render")
    query = parse_qs(urlsplit(hit.path).query)
    assert query == {"token": [TOKEN], "url": [target]}
    assert f"url={quote(target, safe='')}" in hit.path
    assert len(server.hits("/direct")) == 1
    assert counters["by_host"]["www.imdb.com"]["pages"] == 1  # counted under the page's host
    assert TOKEN not in caplog.text and quote(TOKEN, safe="") not in caplog.text


def test_proxy_errors_never_show_the_token(server: ScriptedServer, caplog: pytest.LogCaptureFixture) -> None:
    server.script("/render", reply(403, b"bad token"))
    caplog.set_level(logging.DEBUG)
    environ = {"TEST_RENDER_TOKEN": TOKEN}
    with PoliteHttpClient(proxy_settings(server, proxy_hosts=()), environ=environ) as client:
        with pytest.raises(PageBlocked) as blocked:
            client.fetch("https://www.oscars.org/oscars/ceremonies/2024")
        server.script("/render", reset())
        with pytest.raises(FetchFailed) as failed:
            client.fetch("https://www.oscars.org/oscars/ceremonies/2024")
    for error in (blocked.value, failed.value):
        assert error.url == "https://www.oscars.org/oscars/ceremonies/2024"
        assert "rendering proxy" in str(error)
        for text in (str(error), repr(error), str(error.__cause__), str(error.__context__)):
            assert TOKEN not in text and quote(TOKEN, safe="") not in text
    assert "Retrying" in caplog.text  # urllib3 logged the proxy URL ... with the token redacted
    assert TOKEN not in caplog.text and quote(TOKEN, safe="") not in caplog.text


def test_missing_proxy_token_is_a_configuration_error(server: ScriptedServer) -> None:
    client = PoliteHttpClient(proxy_settings(server), environ={})
    with client, pytest.raises(ProxyConfigurationError, match="TEST_RENDER_TOKEN"):
        client.fetch("https://www.imdb.com/event/ev0000003/")
    assert server.hits("/render") == []


# --------------------------------------------------------------------------- decoding, counters


def test_text_and_strict_decoding(server: ScriptedServer, client: PoliteHttpClient) -> None:
    bad = b"<p>Pen\xe9lope Cruz</p>"
    url = server.script("/latin", reply(200, bad, {"Content-Type": "text/html"}))
    page = client.fetch(url)
    assert page.text == "<p>Pen\ufffdlope Cruz</p>"
    with pytest.raises(InvalidEncoding, match="not valid utf-8 at byte 6"):
        page.decode_strict()

    url = server.script("/latin1", reply(200, bad, {"Content-Type": "text/html; charset=ISO-8859-1"}))
    assert client.fetch(url).decode_strict() == "<p>Penélope Cruz</p>"


def test_counters(server: ScriptedServer, client: PoliteHttpClient) -> None:
    ok = server.script("/ok", reply(200))
    missing = server.script("/missing", reply(404, b"no"))
    client.fetch(ok)
    with pytest.raises(PageNotFound):
        client.fetch(missing)
    counters = client.counters()
    assert counters["pages"] == 1 and counters["errors"] == 1 and counters["requests"] == 2
    assert counters["bytes"] == len(PAGE)
    assert counters["by_host"]["127.0.0.1"]["pages"] == 1


def test_non_http_url_is_rejected(client: PoliteHttpClient) -> None:
    with pytest.raises(ValueError, match="not an http"):
        client.fetch("ftp://example.org/file")


# --------------------------------------------------------------------------- settings


def test_settings_from_env() -> None:
    settings = HttpSettings.from_env(
        {
            "FESTIVAL_HTTP_USER_AGENT": "bot/1",
            "FESTIVAL_HTTP_REQUESTS_PER_SECOND": "0.5",
            "FESTIVAL_HTTP_TIMEOUT": "12.5",
            "FESTIVAL_HTTP_MAX_RETRIES": "2",
            "FESTIVAL_PROXY_URL_TEMPLATE": "https://render.example/api?token={token}&url={url}",
            "FESTIVAL_PROXY_TOKEN_ENV": "RENDER_TOKEN",
            "FESTIVAL_PROXY_HOSTS": "www.imdb.com, M.IMDB.com",
            "FESTIVAL_HTTP_HOST_RATES": "www.oscars.org=2, imdb.com=0.25",
        }
    )
    assert settings.user_agent == "bot/1"
    assert (settings.requests_per_second, settings.timeout_seconds, settings.max_retries) == (0.5, 12.5, 2)
    assert settings.proxy_url_template == "https://render.example/api?token={token}&url={url}"
    assert settings.proxy_token_env == "RENDER_TOKEN"
    assert settings.proxy_hosts == ("www.imdb.com", "m.imdb.com")
    assert settings.host_requests_per_second == {"www.oscars.org": 2.0, "imdb.com": 0.25}
    assert HttpSettings.from_env({}) == HttpSettings()
    assert HttpSettings.from_env({"FESTIVAL_PROXY_HOSTS": "*"}).proxy_hosts == ()
    assert HttpSettings.from_env({"FESTIVAL_HTTP_TIMEOUT": "  "}).timeout_seconds == 30


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"FESTIVAL_HTTP_REQUESTS_PER_SECOND": "fast"},
            "FESTIVAL_HTTP_REQUESTS_PER_SECOND must be a number, got 'fast'",
        ),
        ({"FESTIVAL_HTTP_MAX_RETRIES": "2.5"}, "FESTIVAL_HTTP_MAX_RETRIES must be an integer"),
        ({"FESTIVAL_HTTP_MAX_RETRIES": "-1"}, "max_retries must be an integer >= 0"),
        ({"FESTIVAL_HTTP_TIMEOUT": "0"}, "timeout_seconds must be > 0"),
        ({"FESTIVAL_HTTP_TIMEOUT": "inf"}, "FESTIVAL_HTTP_TIMEOUT must be a finite number"),
        ({"FESTIVAL_PROXY_URL_TEMPLATE": "https://render.example/?t={token}"}, "must contain {url}"),
        ({"FESTIVAL_HTTP_HOST_RATES": "imdb.com"}, "host=rate"),
        ({"FESTIVAL_HTTP_HOST_RATES": "imdb.com=x"}, "FESTIVAL_HTTP_HOST_RATES \\(imdb.com\\) must be a number"),
    ],
)
def test_settings_from_env_errors(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HttpSettings.from_env(environ)

"""A real local HTTP server whose answers are scripted per path (for the fetcher tests)."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from urllib.parse import urlsplit

import pytest

PAGE = b"<html><head><title>The 96th Academy Awards</title></head><body><h1>2024</h1></body></html>"

Step = Callable[["ScriptedHandler"], None]


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    host: str
    user_agent: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when the request line arrived


class ScriptedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the client reuses pooled connections
    server: ScriptedServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append(
            Seen(self.command, self.path, self.headers.get("Host", ""), self.headers.get("User-Agent", ""),
                 dict(self.headers.items()), body, time.monotonic())
        )
        self.server.next_step(urlsplit(self.path).path)(self)

    do_GET = do_POST = _serve

    def log_message(self, format: str, *args: object) -> None:
        pass

    def handle(self) -> None:
        with contextlib.suppress(OSError):  # the client gave up (timeout tests)
            super().handle()


class ScriptedServer(ThreadingHTTPServer):
    """Each path answers with its steps in order; the last step repeats forever."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ScriptedHandler)
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
    def step(handler: ScriptedHandler) -> None:
        handler.send_response(status)
        all_headers = {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body)), **(headers or {})}
        for name, value in all_headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    return step


def reset() -> Step:
    """Drop the connection with a TCP RST before answering."""

    def step(handler: ScriptedHandler) -> None:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.close_connection = True
        handler.connection.close()

    return step


def slow(seconds: float) -> Step:
    def step(handler: ScriptedHandler) -> None:
        time.sleep(seconds)
        reply(200)(handler)

    return step


def truncated(declared: int, sent: bytes = b"<html>only the start") -> Step:
    def step(handler: ScriptedHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(declared))
        handler.end_headers()
        handler.wfile.write(sent)
        handler.wfile.flush()
        handler.close_connection = True

    return step


def drip(total: int, every: float, *, headers_first: bool = True) -> Step:
    """A slow-drip server: one byte every ``every`` seconds (of the body, or of the headers too)."""

    def step(handler: ScriptedHandler) -> None:
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {total}\r\n\r\n").encode()
        with contextlib.suppress(OSError):
            if headers_first:
                handler.wfile.write(head)
                handler.wfile.flush()
                head = b""
            for byte in [bytes([b]) for b in head] + [b"x"] * total:
                handler.wfile.write(byte)
                handler.wfile.flush()
                time.sleep(every)
        handler.close_connection = True

    return step


def chunked(chunks: int, size: int) -> Step:
    """A chunked body (no Content-Length) of ``chunks`` x ``size`` bytes."""

    def step(handler: ScriptedHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        with contextlib.suppress(OSError):
            for _ in range(chunks):
                handler.wfile.write(f"{size:x}\r\n".encode() + b"y" * size + b"\r\n")
            handler.wfile.write(b"0\r\n\r\n")
        handler.close_connection = True

    return step


@pytest.fixture(name="server")
def scripted_server_fixture() -> Iterator[ScriptedServer]:
    """``server``: a scripted server on a free port (import this into a test module to use it)."""
    srv = ScriptedServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


# how late a request may reach the server after its slot on a busy machine (CI saw 0.1 s)
LATE_ARRIVAL_SECONDS = 0.15


def assert_paced(arrivals: list[float], interval: float) -> None:
    """The requests left `interval` seconds apart, as the server saw them arrive.

    One late request shortens one gap and lengthens the next, so each gap is only checked against a
    burst (a quarter of the interval) and the whole span against a faster pace.
    """
    arrivals = sorted(arrivals)
    gaps = [later - earlier for earlier, later in pairwise(arrivals)]
    assert gaps and min(gaps) >= interval / 4, gaps
    assert arrivals[-1] - arrivals[0] >= len(gaps) * interval - LATE_ARRIVAL_SECONDS, gaps

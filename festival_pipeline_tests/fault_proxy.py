"""A fault-injecting HTTP proxy for tests: stdlib ThreadingHTTPServer on 127.0.0.1.

It forwards GETs to an upstream site (the simulator) and, deterministically per path and
attempt, answers instead with a fault:

* ``status(500)``, ``status(503)``, ``status(429, retry_after="1")`` - an error status;
* ``RESET`` - the connection is reset (RST) before any byte of the response;
* ``slow(seconds)`` - the response starts only after ``seconds`` (longer than the client timeout);
* ``truncate(fraction)`` - the real status and Content-Length, but only ``fraction`` of the body,
  then the connection closes (a transport-level truncation the client can detect);
* ``transform(fn)`` - the upstream page rewritten by ``fn(path, body) -> body`` and served as a
  complete, consistent 200 (a *permanently* wrong page: cut short, garbled, categories removed).

``plan(path, attempt) -> Fault`` decides; ``attempt`` counts the requests for that path (from 0).
``rotating(faults, per_path=k)`` gives every path k consecutive faults of the list, starting at an
offset given by a CRC of the path, then the real page - deterministic, different from URL to URL.

Page edits for ``transform`` (each factory returns a ``(path, body) -> body`` function), pages
that lose data but stay well formed:

* IMDb, in the ``__NEXT_DATA__`` JSON (`edit_next_data` for any other edit): `drop_awards`
  (``edition.awards`` = []), `zero_nominations` (every or one category lists no nomination),
  `drop_edition_list` (no ``historyEventEditions``), `paginate` (a category says
  ``hasNextPage``), `serve_edition` (the page claims another year/instance), `drop_categories`
  (every other category, or named ones);
* oscars.org, in the Drupal markup: `drop_oscars_categories` (every other category block).

    proxy.plan = by_path({"/event/ev0000147/2024/1/": transform(drop_awards())})
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import lxml.html


@dataclass(frozen=True)
class Fault:
    kind: str  # ok | status | reset | slow | truncate | transform
    status: int = 200
    retry_after: str | None = None
    seconds: float = 0.0
    fraction: float = 1.0
    fn: Callable[[str, bytes], bytes] | None = None

    @property
    def label(self) -> str:
        if self.kind == "status":
            return str(self.status)
        return self.kind


OK = Fault("ok")
RESET = Fault("reset")


def status(code: int, retry_after: str | None = None) -> Fault:
    return Fault("status", status=code, retry_after=retry_after)


def slow(seconds: float) -> Fault:
    return Fault("slow", seconds=seconds)


def truncate(fraction: float) -> Fault:
    return Fault("truncate", fraction=fraction)


def transform(fn: Callable[[str, bytes], bytes]) -> Fault:
    return Fault("transform", fn=fn)


Plan = Callable[[str, int], Fault]


def always_ok(_path: str, _attempt: int) -> Fault:
    return OK


def rotating(faults: Sequence[Fault], per_path: int | None = None,
             matches: Callable[[str], bool] = lambda _path: True) -> Plan:
    """Each matching path gets `per_path` (default: all) consecutive faults of the list, starting
    at an offset given by crc32 of the path, then OK."""
    count = len(faults) if per_path is None else per_path

    def plan(path: str, attempt: int) -> Fault:
        if not matches(path) or attempt >= count:
            return OK
        return faults[(zlib.crc32(path.encode()) + attempt) % len(faults)]

    return plan


def permanent(fault: Fault, matches: Callable[[str], bool]) -> Plan:
    """`fault` on every attempt for matching paths, OK for the rest."""
    return lambda path, _attempt: fault if matches(path) else OK


def by_path(faults: dict[str, Fault]) -> Plan:
    """A fault for each listed path (trailing slash ignored), on every attempt; OK elsewhere."""
    table = {path.rstrip("/"): fault for path, fault in faults.items()}
    return lambda path, _attempt: table.get(path.split("?", 1)[0].rstrip("/"), OK)


@dataclass(frozen=True)
class Served:
    path: str
    attempt: int
    fault: str
    at: float  # time.monotonic() when the request arrived


# what a client's request carries to the sites (the API's own headers included)
FORWARDED_HEADERS = ("user-agent", "accept", "accept-language", "content-type", "x-imdb-client-name", "origin",
                     "referer")


class FaultProxy:
    """Forwards to `upstream`; `plan` may be replaced between runs (attempt counters reset with it)."""

    def __init__(self, upstream: str, plan: Plan = always_ok, upstream_timeout: float = 30.0) -> None:
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.upstream_timeout = upstream_timeout
        self._plan = plan
        self._lock = threading.Lock()
        self.attempts: Counter[str] = Counter()
        self.served: list[Served] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()

    # -- control

    @property
    def plan(self) -> Plan:
        return self._plan

    @plan.setter
    def plan(self, plan: Plan) -> None:
        with self._lock:
            self._plan = plan
            self.attempts.clear()
            self.served.clear()

    def faults_served(self) -> Counter[str]:
        with self._lock:
            return Counter(s.fault for s in self.served)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- serving

    def _decide(self, path: str) -> Fault:
        with self._lock:
            attempt = self.attempts[path]
            self.attempts[path] += 1
            fault = self._plan(path, attempt)
            self.served.append(Served(path, attempt, fault.label, time.monotonic()))
        return fault

    def _upstream(self, path: str, headers: dict[str, str], method: str = "GET",
                  body: bytes | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=self.upstream_timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            body = response.read()
            return response.status, response.getheaders(), body
        finally:
            connection.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self
        relayed = {"content-type", "location", "etag", "last-modified", "retry-after", "cache-control"}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def handle(self) -> None:
                with contextlib.suppress(ConnectionError, OSError):  # the client gave up, or we reset it
                    super().handle()

            def finish(self) -> None:
                with contextlib.suppress(ConnectionError, OSError, ValueError):
                    super().finish()

            def _reset(self) -> None:
                self.close_connection = True
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()

            def _send(self, code: int, headers: list[tuple[str, str]], body: bytes, *,
                      content_length: int | None = None, close: bool = False) -> None:
                self.send_response(code)
                for name, value in headers:
                    if name.lower() in relayed:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body) if content_length is None else content_length))
                if close:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:  # IMDb's GraphQL API (POST /graphql)
                self._serve("POST", self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def _serve(self, method: str, request_body: bytes | None = None) -> None:
                fault = proxy._decide(self.path)
                if fault.kind == "reset":
                    self._reset()
                    return
                if fault.kind == "status":
                    headers = [("Content-Type", "text/html; charset=utf-8")]
                    if fault.retry_after is not None:
                        headers.append(("Retry-After", fault.retry_after))
                    self._send(fault.status, headers, f"<html><body>error {fault.status}</body></html>".encode())
                    return
                if fault.kind == "slow":
                    time.sleep(fault.seconds)
                forwarded = {k: v for k, v in self.headers.items() if k.lower() in FORWARDED_HEADERS}
                code, headers, body = proxy._upstream(self.path, forwarded, method, request_body)
                if fault.kind == "truncate":
                    cut = body[: int(len(body) * fault.fraction)]
                    self._send(code, headers, cut, content_length=len(body), close=True)
                    return
                if fault.kind == "transform" and code == 200 and fault.fn is not None:
                    body = fault.fn(self.path, body)
                self._send(code, headers, body)

        return Handler


# --------------------------------------------------------------------------- page edits

Edit = Callable[[str, bytes], bytes]
_NEXT_DATA = re.compile(r'(<script id="__NEXT_DATA__"[^>]*>)(.*?)(</script>)', re.S)


def next_data_of(body: bytes) -> dict[str, Any]:
    """The __NEXT_DATA__ JSON of an IMDb page (raises AssertionError on a page without it)."""
    match = _NEXT_DATA.search(body.decode("utf-8"))
    assert match, "the page has no __NEXT_DATA__ script"
    return json.loads(match.group(2))


def api_answers(edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Plan:
    """Every answer of IMDb's GraphQL API (POST /graphql) replaced by `edit(answer)`; pages as served."""

    def apply(_path: str, body: bytes) -> bytes:
        return json.dumps(edit(json.loads(body))).encode()

    return lambda path, _attempt: transform(apply) if path == "/graphql" else OK


def edit_next_data(edit: Callable[[dict[str, Any]], None]) -> Edit:
    """An edit of an IMDb page: `edit` changes its __NEXT_DATA__ JSON in place; the JSON is written
    back valid and HTML-safe, so the page stays well formed."""

    def apply(_path: str, body: bytes) -> bytes:
        text = body.decode("utf-8")
        match = _NEXT_DATA.search(text)
        assert match, "the page has no __NEXT_DATA__ script"
        data = json.loads(match.group(2))
        edit(data)
        payload = json.dumps(data, ensure_ascii=False)
        payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return (text[: match.start(2)] + payload + text[match.end(2):]).encode("utf-8")

    return apply


def _page_props(data: dict[str, Any]) -> dict[str, Any]:
    return data["props"]["pageProps"]


def _category_nodes(data: dict[str, Any]) -> list[tuple[dict, str]]:
    """(category node, its name as the parser names it) for every category of the edition."""
    out = []
    for award in _page_props(data)["edition"]["awards"]:
        for edge in award["nominationCategories"]["edges"]:
            category = edge["node"].get("category")
            out.append((edge["node"], category["text"] if category else award["text"]))
    return out


def drop_awards() -> Edit:
    """``edition.awards`` = []: the edition lists no award at all."""
    return edit_next_data(lambda data: _page_props(data)["edition"].update(awards=[]))


def zero_nominations(category: str | None = None) -> Edit:
    """Every category (or the one named `category`) keeps its place but lists no nomination."""

    def edit(data: dict[str, Any]) -> None:
        nodes = [node for node, name in _category_nodes(data) if category is None or name == category]
        assert nodes, f"no category {category!r} on the page"
        for node in nodes:
            node["nominations"]["edges"] = []

    return edit_next_data(edit)


def drop_edition_list() -> Edit:
    """The page loses ``historyEventEditions``, the event's edition list."""
    return edit_next_data(lambda data: _page_props(data).pop("historyEventEditions"))


def paginate(category: str | None = None, keep: int = 1) -> Edit:
    """The first category (or the one named) lists its first `keep` nominations and says
    ``hasNextPage``: the rest is on a next page."""

    def edit(data: dict[str, Any]) -> None:
        node = next(node for node, name in _category_nodes(data) if category is None or name == category)
        node["nominations"]["edges"] = node["nominations"]["edges"][:keep]
        node["nominations"]["pageInfo"]["hasNextPage"] = True

    return edit_next_data(edit)


def serve_edition(year: int, instance: int = 1) -> Edit:
    """The page says it is edition `year`/`instance` (another edition served under this URL)."""
    return edit_next_data(lambda data: _page_props(data)["editionInfo"].update(year=year, instanceWithinYear=instance))


def drop_categories(names: set[str] | None = None) -> Edit:
    """Remove the named categories, or every other category of every award (valid JSON, fewer rows)."""

    def edit(data: dict[str, Any]) -> None:
        removed = 0
        for award in _page_props(data)["edition"]["awards"]:
            edges = award["nominationCategories"]["edges"]
            if names is None:
                kept = edges[1::2]
            else:
                kept = [e for e in edges
                        if ((e["node"].get("category") or {}).get("text") or award["text"]) not in names]
            removed += len(edges) - len(kept)
            award["nominationCategories"]["edges"] = kept
        assert removed, "no category removed"

    return edit_next_data(edit)


def drop_oscars_categories() -> Edit:
    """An oscars.org ceremony page without every other category block (still well formed)."""

    def apply(_path: str, body: bytes) -> bytes:
        doc = lxml.html.document_fromstring(body.decode("utf-8"))
        blocks = doc.xpath("//div[@data-term-id and contains(concat(' ', normalize-space(@class), ' '),"
                           " ' paragraph--type--award-category ')]")
        assert blocks, "no category block on the page"
        for block in blocks[::2]:
            block.getparent().remove(block)
        return lxml.html.tostring(doc, doctype="<!DOCTYPE html>", encoding="unicode").encode("utf-8")

    return apply

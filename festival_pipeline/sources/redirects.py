"""Follow a site's redirect that a rendering service hands back instead of following it.

The real services follow redirects themselves; one that passes a 3xx through (the simulator's, a
service asked not to follow) is followed here, one service call per hop, each under the page's
host rate limit. The target is the Location header when the service returns the site's headers,
else the hyperlink of the redirect's short note (RFC 9110 15.4: a 3xx body "SHOULD" carry one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from urllib.parse import urljoin, urlsplit

from festival_pipeline.sources.errors import FetchError, UnexpectedStatus
from festival_pipeline.sources.fetcher import FetchedPage

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
_NOTE_BYTES = 4096  # a redirect note is short; a longer body is a page, not a note
_HREF = re.compile(rb"""<a\s[^>]*href\s*=\s*["']([^"'<>]+)["']""", re.I)


def redirect_target(url: str, status: int, headers: Mapping[str, str], body: bytes) -> str | None:
    """The absolute URL a 3xx answer for ``url`` points to, or None (not a redirect, or no target)."""
    if status not in REDIRECT_STATUSES:
        return None
    location = next((value for name, value in headers.items() if name.lower() == "location"), "").strip()
    if not location and len(body) <= _NOTE_BYTES:
        links = _HREF.findall(body)
        location = links[0].decode("utf-8", "replace").strip() if len(links) == 1 else ""
    if not location:
        return None
    target = urljoin(url, location)
    return target if urlsplit(target).scheme in ("http", "https") else None


# one service call for a target URL: the page, an error, or the URL the site redirected to
ServiceCall = Callable[[str, int], "FetchedPage | FetchError | str"]


def fetch_following_redirects(url: str, call: ServiceCall, via: str) -> FetchedPage:
    """`call(target, hops)` for `url`, then for each redirect it hands back, at most MAX_REDIRECTS.

    The error is raised outside any except block, so nothing holding a key or token is chained to it.
    """
    target, hops = url, 0
    for _ in range(MAX_REDIRECTS + 1):
        outcome = call(target, hops)
        if not isinstance(outcome, str):
            break
        target, hops = outcome, hops + 1
    else:
        outcome = UnexpectedStatus(url, None, f"GET {url}{via}: more than {MAX_REDIRECTS} redirects")
    if isinstance(outcome, FetchError):
        raise outcome
    return outcome

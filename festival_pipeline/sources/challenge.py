"""Recognise a bot challenge (AWS WAF, Cloudflare, Incapsula, captchas) in place of the page.

Detection only: the challenge itself is passed by running the page in a real browser
(``browser.py``), never by re-implementing a site's challenge script.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

WAF_ACTION_HEADER = "x-amzn-waf-action"  # AWS WAF: "challenge" (JavaScript) or "captcha" (a person)
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
    "enable javascript to continue",
    "not a robot",
    "_incapsula_resource",
    "just a moment...",
)
_SCRIPT_RE = re.compile(r"<(script|style|noscript)\b.*?</\1\s*>", re.I | re.S)
_TAG_RE = re.compile(r"<[^>]+>")


def waf_action(headers: Mapping[str, str]) -> str | None:
    """AWS WAF's action header ("challenge", "captcha"), lower-cased, or None."""
    for name, value in headers.items():
        if name.lower() == WAF_ACTION_HEADER:
            return value.strip().lower() or "challenge"
    return None


def is_captcha(headers: Mapping[str, str]) -> bool:
    """A challenge only a person can pass."""
    return waf_action(headers) == "captcha"


def challenge_reason(body: bytes, headers: Mapping[str, str]) -> str | None:
    """Why a response is a bot challenge rather than the page, or None.

    Real pages mention these words too (IMDb pages embed a recaptcha iframe), so markers only
    count on a small page whose visible text is tiny; the two block-page titles always count.
    """
    action = waf_action(headers)
    if action is not None:
        return f"AWS WAF {action} ({WAF_ACTION_HEADER}: {action})"
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

"""Keep API keys and tokens out of logs and error messages.

A service token can end up in text we do not write ourselves: urllib3 logs request URLs (retry
warnings, debug lines) and its exceptions repeat them. Fetchers register their secrets here;
``redact`` scrubs every registered secret (raw, URL-quoted, base64 basic-auth form) from a string,
and a logging filter does the same for urllib3's and requests' records.
"""

from __future__ import annotations

import base64
import logging
import threading
from urllib.parse import quote

MASK = "***"
_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.poolmanager", "urllib3.response", "requests")

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(secret: str | None) -> None:
    """Scrub ``secret`` (and its encoded forms) from logs and error messages from now on."""
    if not secret:
        return
    quoted = quote(secret, safe="")
    forms = {
        secret,
        quoted,
        quoted.replace("%20", "+"),
        base64.b64encode(f"{secret}:".encode()).decode(),  # HTTP basic auth with the key as user name
    }
    with _lock:
        _secrets.update(form for form in forms if len(form) >= 4)  # never mask every "a" of a toy token


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ***."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a log record whose message holds a registered secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            message = record.getMessage()
            redacted = redact(message)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


_FILTER = RedactingFilter()
for _name in _LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)

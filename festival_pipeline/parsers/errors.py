"""Errors raised by the page parsers."""

from __future__ import annotations


class PageParseError(ValueError):
    """A page's markup was not recognised; carries the page ``url`` and a ``reason``."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot parse {url}: {reason}")

    def __reduce__(self):  # keep picklable (multiprocess executors)
        return (type(self), (self.url, self.reason))

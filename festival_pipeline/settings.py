"""Every setting the pipeline reads from the environment, in one place.

Credentials and URLs come only from the environment (or a git-ignored `.env` that the
user sources); nothing secret is written into files the project tracks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from festival_pipeline.sources.settings import FetcherSettings

DEFAULT_OSCARS_BASE_URL = "https://www.oscars.org"
DEFAULT_IMDB_BASE_URL = "https://www.imdb.com"
DEFAULT_EMBEDDED_PORT = 54329
FESTIVAL_DATABASE_NAME = "festival"
DAGSTER_DATABASE_NAME = "dagster"


class ConfigurationError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def pipeline_home() -> Path:
    """Where local state lives: the embedded database, Dagster's home, logs."""
    return Path(os.environ.get("FESTIVAL_PIPELINE_HOME", ".festival_pipeline")).expanduser().resolve()


def external_database_url() -> str | None:
    """`FESTIVAL_DATABASE_URL` when the user runs their own PostgreSQL, else None."""
    url = os.environ.get("FESTIVAL_DATABASE_URL", "").strip()
    return url or None


def embedded_port() -> int:
    raw = os.environ.get("FESTIVAL_EMBEDDED_PG_PORT", str(DEFAULT_EMBEDDED_PORT))
    try:
        port = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"FESTIVAL_EMBEDDED_PG_PORT must be a port number, got {raw!r}") from exc
    if not 1 <= port <= 65535:
        raise ConfigurationError(f"FESTIVAL_EMBEDDED_PG_PORT must be between 1 and 65535, got {port}")
    return port


@dataclass(frozen=True)
class SourceUrls:
    oscars: str
    imdb: str

    @classmethod
    def from_env(cls) -> SourceUrls:
        return cls(
            oscars=os.environ.get("OSCARS_BASE_URL", DEFAULT_OSCARS_BASE_URL).rstrip("/"),
            imdb=os.environ.get("IMDB_BASE_URL", DEFAULT_IMDB_BASE_URL).rstrip("/"),
        )


# --------------------------------------------------------------------------- fetchers
# FESTIVAL_HTTP_* → HttpSettings fields
_HTTP_VARIABLES: dict[str, tuple[str, type]] = {
    "FESTIVAL_HTTP_USER_AGENT": ("user_agent", str),
    "FESTIVAL_HTTP_REQUESTS_PER_SECOND": ("requests_per_second", float),
    "FESTIVAL_HTTP_TIMEOUT": ("timeout_seconds", float),
    "FESTIVAL_HTTP_DEADLINE": ("deadline_seconds", float),
    "FESTIVAL_HTTP_MAX_BODY_BYTES": ("max_body_bytes", int),
    "FESTIVAL_HTTP_MAX_RETRIES": ("max_retries", int),
    "FESTIVAL_HTTP_BACKOFF_FACTOR": ("backoff_factor", float),
    "FESTIVAL_HTTP_BACKOFF_MAX": ("backoff_max", float),
    "FESTIVAL_HTTP_RETRY_AFTER_MAX": ("retry_after_max", float),
}


def fetcher_settings(environ: Mapping[str, str] | None = None) -> FetcherSettings:
    """The fetchers' settings from FESTIVAL_FETCHER / OSCARS_FETCHER / IMDB_FETCHER, FESTIVAL_RENDER_SITES,
    FESTIVAL_BROWSER_EXECUTABLE, ZYTE_API_KEY / FESTIVAL_ZYTE_API_URL, CRAWLBASE_TOKEN / CRAWLBASE_JS_TOKEN /
    FESTIVAL_CRAWLBASE_API_URL and FESTIVAL_HTTP_* (FESTIVAL_HTTP_HOST_RATES is "host=rate,host=rate");
    unset or blank variables keep the defaults."""
    from festival_pipeline.sources.settings import (
        BrowserSettings,
        CrawlbaseSettings,
        FetcherSettings,
        HttpSettings,
        ZyteSettings,
    )

    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    http: dict[str, Any] = {}
    for variable, (name, kind) in _HTTP_VARIABLES.items():
        if (raw := get(variable)) is not None:
            try:
                http[name] = kind(raw)
            except ValueError:
                raise ConfigurationError(f"{variable} must be {'an integer' if kind is int else 'a number'}, "
                                         f"got {raw!r}") from None
    if (raw := get("FESTIVAL_HTTP_HOST_RATES")) is not None:
        http["host_requests_per_second"] = _host_rates(raw)
    try:
        return FetcherSettings(
            default=(get("FESTIVAL_FETCHER") or "auto"),  # type: ignore[arg-type]
            oscars=get("OSCARS_FETCHER"),  # type: ignore[arg-type]
            imdb=get("IMDB_FETCHER"),  # type: ignore[arg-type]
            render_sites=tuple((get("FESTIVAL_RENDER_SITES") or "").split(",")),
            http=HttpSettings(**http),
            browser=BrowserSettings(executable=get("FESTIVAL_BROWSER_EXECUTABLE")),
            zyte=ZyteSettings(api_key=get("ZYTE_API_KEY"),
                              **({"api_url": url} if (url := get("FESTIVAL_ZYTE_API_URL")) else {})),
            crawlbase=CrawlbaseSettings(token=get("CRAWLBASE_TOKEN"), js_token=get("CRAWLBASE_JS_TOKEN"),
                                        **({"api_url": url} if (url := get("FESTIVAL_CRAWLBASE_API_URL")) else {})),
        )
    except ValueError as exc:
        raise ConfigurationError(f"invalid fetcher settings from the environment: {exc}") from None


def _host_rates(raw: str) -> dict[str, float]:
    rates: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        host, sep, rate = part.partition("=")
        try:
            if not sep or not host.strip():
                raise ValueError
            rates[host.strip().lower()] = float(rate)
        except ValueError:
            raise ConfigurationError(
                f"FESTIVAL_HTTP_HOST_RATES entries must look like host=rate, got {part!r}"
            ) from None
    return rates

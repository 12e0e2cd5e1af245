"""Every setting the pipeline reads from the environment, in one place.

Credentials and URLs come only from the environment (or a git-ignored `.env` that the
user sources); nothing secret is written into files the project tracks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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

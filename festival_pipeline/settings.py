"""Every setting of the pipeline's own that it reads from the environment, in one place (Dagster's
DAGSTER_HOME is read where the instance is laid out, runtime/instance_home.py).

This module is a leaf: it imports nothing of the project. Resources are plain config fields
(`festival_pipeline.resources`), filled from what these functions read when the code location loads
(`definitions.py` assembles them); secrets (database URLs with passwords, API keys) become
`dagster.EnvVar`s, so Dagster resolves them in the process that uses them and never shows or stores
their values. docs/configuration.md lists every variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from festival_pipeline.errors import ConfigurationError

__all__ = ["ConfigurationError"]  # raised by the readers below; re-exported for the callers

DEFAULT_OSCARS_BASE_URL = "https://www.oscars.org"
DEFAULT_IMDB_BASE_URL = "https://www.imdb.com"
DEFAULT_PIPELINE_HOME = ".festival_pipeline"


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _get(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def pipeline_home(environ: Mapping[str, str] | None = None) -> Path:
    """Where local state lives: the embedded database, Dagster's home, logs."""
    raw = _get(_environ(environ), "FESTIVAL_PIPELINE_HOME") or DEFAULT_PIPELINE_HOME
    return Path(raw).expanduser().resolve()


@dataclass(frozen=True)
class DatabaseSettings:
    """Which PostgreSQL to use: an external festival database by URL, else the embedded server."""

    home: Path  # the project's home (FESTIVAL_PIPELINE_HOME): it names the embedded server
    festival_url: str | None = None  # external festival database; None = the embedded server
    dagster_url: str | None = None  # Dagster's instance; None = `<festival name>_dagster` on the same server
    pgbouncer: str | None = None  # FESTIVAL_PGBOUNCER: pgbouncer's path, `off`, or None (use one installed)


_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg2")
URL_FORM = "postgresql://user:password@host:5432/database"


def redact(url: str) -> str:
    """The URL without its password (for anything printed or stored)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", "@", 1)))


def check_url(variable: str, url: str) -> str:
    """`url` when it names a PostgreSQL database, else a one-line error naming `variable` and the form."""
    problem = None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        problem = str(exc)
    else:
        if "://" not in url or parts.scheme.lower() not in _SCHEMES:
            problem = "not a postgresql:// URL"
        elif not (parts.hostname or parse_qs(parts.query).get("host")):
            problem = "no host"
        elif not parts.path.strip("/"):
            problem = "no database name"
    if problem:
        raise ConfigurationError(f"{variable} must be a PostgreSQL URL like {URL_FORM} ({problem}): "
                                 f"got {redact(url)!r}")
    return url


def _database_url(environ: Mapping[str, str], variable: str) -> str | None:
    raw = _get(environ, variable)
    return None if raw is None else check_url(variable, raw)


def database_settings(environ: Mapping[str, str] | None = None) -> DatabaseSettings:
    """FESTIVAL_DATABASE_URL / FESTIVAL_DAGSTER_DATABASE_URL (an external server), else the embedded
    server of FESTIVAL_PIPELINE_HOME (Dagster's storage through pgbouncer when it is installed, unless
    FESTIVAL_PGBOUNCER=off); a malformed URL is a one-line error naming its variable."""
    env = _environ(environ)
    return DatabaseSettings(
        home=pipeline_home(env),
        festival_url=_database_url(env, "FESTIVAL_DATABASE_URL"),
        dagster_url=_database_url(env, "FESTIVAL_DAGSTER_DATABASE_URL"),
        pgbouncer=_get(env, "FESTIVAL_PGBOUNCER"),
    )


# variable → field of SourceWebsites, and its type
_WEBSITE_FIELDS: dict[str, tuple[str, type]] = {
    "FESTIVAL_HTTP_USER_AGENT": ("user_agent", str),
    "FESTIVAL_HTTP_REQUESTS_PER_SECOND": ("requests_per_second", float),
    "FESTIVAL_HTTP_HOST_RATES": ("host_rates", str),
    "FESTIVAL_HTTP_TIMEOUT": ("timeout_seconds", float),
    "FESTIVAL_HTTP_DEADLINE": ("deadline_seconds", float),
    "FESTIVAL_HTTP_MAX_BODY_BYTES": ("max_body_bytes", int),
    "FESTIVAL_HTTP_MAX_RETRIES": ("max_retries", int),
    "FESTIVAL_HTTP_BACKOFF_FACTOR": ("backoff_factor", float),
    "FESTIVAL_HTTP_BACKOFF_MAX": ("backoff_max", float),
    "FESTIVAL_HTTP_RETRY_AFTER_MAX": ("retry_after_max", float),
    "FESTIVAL_FETCHER": ("fetcher", str),
    "OSCARS_FETCHER": ("oscars_fetcher", str),
    "IMDB_FETCHER": ("imdb_fetcher", str),
    "FESTIVAL_RENDER_SITES": ("render_sites", str),
    "FESTIVAL_BROWSER_EXECUTABLE": ("browser_executable", str),
    "FESTIVAL_BROWSER_PAGE_TIMEOUT": ("browser_page_timeout_seconds", float),
    "FESTIVAL_ZYTE_API_URL": ("zyte_api_url", str),
    "FESTIVAL_CRAWLBASE_API_URL": ("crawlbase_api_url", str),
    "IMDB_SOURCE": ("imdb_source", str),
    "IMDB_GRAPHQL_URL": ("imdb_graphql_url", str),
    "IMDB_GRAPHQL_HEADERS": ("imdb_graphql_headers", str),
}
# secrets: given to the resource as dagster.EnvVar, resolved where they are used, never shown or stored
_WEBSITE_SECRETS = {"ZYTE_API_KEY": "zyte_api_key", "CRAWLBASE_TOKEN": "crawlbase_token",
                    "CRAWLBASE_JS_TOKEN": "crawlbase_js_token"}


FETCHER_KINDS = ("auto", "direct", "browser", "zyte", "crawlbase")
IMDB_SOURCES = ("auto", "graphql", "pages")
# variables that name one of a few choices
_CHOICES = {"FESTIVAL_FETCHER": FETCHER_KINDS, "OSCARS_FETCHER": FETCHER_KINDS, "IMDB_FETCHER": FETCHER_KINDS,
            "IMDB_SOURCE": IMDB_SOURCES}


def _choice(name: str, raw: str) -> str:
    value = raw.lower()
    if value not in _CHOICES[name]:
        raise ConfigurationError(f"{name} must be one of {', '.join(_CHOICES[name])}, got {raw!r}")
    return value


def _typed(name: str, raw: str, kind: type) -> Any:
    try:
        return kind(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be {'an integer' if kind is int else 'a number'}, got {raw!r}") from None


def websites_config(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The SourceWebsites fields set in the environment (unset ones keep the resource's defaults),
    secrets excepted (`website_secrets`)."""
    env = _environ(environ)
    config: dict[str, Any] = {
        "oscars_base_url": (_get(env, "OSCARS_BASE_URL") or DEFAULT_OSCARS_BASE_URL).rstrip("/"),
        "imdb_base_url": (_get(env, "IMDB_BASE_URL") or DEFAULT_IMDB_BASE_URL).rstrip("/"),
    }
    for variable, (field, kind) in _WEBSITE_FIELDS.items():
        raw = _get(env, variable)
        if raw is not None and variable in _CHOICES:
            config[field] = _choice(variable, raw)
        elif raw is not None:
            config[field] = _typed(variable, raw, kind)
    return config


def website_secrets(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """SourceWebsites field → the variable that holds its secret, for the secrets that are set (the
    resource gets them as `dagster.EnvVar`s, never as values)."""
    env = _environ(environ)
    return {field: variable for variable, field in _WEBSITE_SECRETS.items() if _get(env, variable) is not None}


def events_file(environ: Mapping[str, str] | None = None) -> Path | None:
    """FESTIVAL_EVENTS_FILE: a YAML or TOML file of IMDb events to import besides the built-in ones."""
    raw = _get(_environ(environ), "FESTIVAL_EVENTS_FILE")
    return Path(raw).expanduser() if raw else None


def imdb_source(environ: Mapping[str, str] | None = None) -> str:
    """IMDB_SOURCE (auto, graphql or pages; default auto): the asset definitions' pools depend on it."""
    raw = _get(_environ(environ), "IMDB_SOURCE")
    return "auto" if raw is None else _choice("IMDB_SOURCE", raw)

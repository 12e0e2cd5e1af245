"""Every setting the pipeline reads from the environment, in one place.

Nothing else in festival_pipeline reads `os.environ`: resources are plain config fields
(`festival_pipeline.resources`), filled here from the environment when the code location loads;
secrets (database URLs with passwords, API keys) become `dagster.EnvVar`s, so Dagster resolves them in
the process that uses them and never shows or stores their values. README "Environment variables"
lists every variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from festival_pipeline.database.connection import DatabaseSettings, check_url
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
}
# secrets: passed as dagster.EnvVar, resolved where they are used, never shown or stored
_WEBSITE_SECRETS = {"ZYTE_API_KEY": "zyte_api_key", "CRAWLBASE_TOKEN": "crawlbase_token",
                    "CRAWLBASE_JS_TOKEN": "crawlbase_js_token"}


_FETCHER_VARIABLES = ("FESTIVAL_FETCHER", "OSCARS_FETCHER", "IMDB_FETCHER")
FETCHER_KINDS = ("auto", "direct", "browser", "zyte", "crawlbase")


def _fetcher_kind(name: str, raw: str) -> str:
    kind = raw.lower()
    if kind not in FETCHER_KINDS:
        raise ConfigurationError(f"{name} must be one of {', '.join(FETCHER_KINDS)}, got {raw!r}")
    return kind


def _typed(name: str, raw: str, kind: type) -> Any:
    try:
        return kind(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be {'an integer' if kind is int else 'a number'}, got {raw!r}") from None


def websites_config(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The SourceWebsites fields set in the environment (unset ones keep the resource's defaults);
    secrets as `dagster.EnvVar`."""
    from dagster import EnvVar

    env = _environ(environ)
    config: dict[str, Any] = {
        "oscars_base_url": (_get(env, "OSCARS_BASE_URL") or DEFAULT_OSCARS_BASE_URL).rstrip("/"),
        "imdb_base_url": (_get(env, "IMDB_BASE_URL") or DEFAULT_IMDB_BASE_URL).rstrip("/"),
    }
    for variable, (field, kind) in _WEBSITE_FIELDS.items():
        raw = _get(env, variable)
        if raw is not None and variable in _FETCHER_VARIABLES:
            config[field] = _fetcher_kind(variable, raw)
        elif raw is not None:
            config[field] = _typed(variable, raw, kind)
    for variable, field in _WEBSITE_SECRETS.items():
        if _get(env, variable) is not None:
            config[field] = EnvVar(variable)
    return config


def resources(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The resources of the code location, configured from the environment."""
    from dagster import EnvVar

    from festival_pipeline.io_managers import (
        FestivalTablesIOManager,
        ParsedCeremoniesIOManager,
        ProfilesIOManager,
        RawPagesIOManager,
    )
    from festival_pipeline.resources import FestivalDatabase, SourceWebsites

    env = _environ(environ)
    database = database_settings(env)
    festival_db = FestivalDatabase(
        # a URL holds a password: Dagster resolves the variable where it is used and never shows it
        database_url=EnvVar("FESTIVAL_DATABASE_URL") if database.festival_url else None,
        pipeline_home=str(database.home),
    )
    return {
        "festival_db": festival_db,
        "sites": SourceWebsites(**websites_config(env)),
        "raw_pages_io_manager": RawPagesIOManager(festival_db=festival_db),
        "parsed_ceremonies_io_manager": ParsedCeremoniesIOManager(festival_db=festival_db),
        "festival_tables_io_manager": FestivalTablesIOManager(festival_db=festival_db),
        "profiles_io_manager": ProfilesIOManager(festival_db=festival_db),
    }

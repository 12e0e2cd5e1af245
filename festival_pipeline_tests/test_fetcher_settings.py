"""The fetchers' settings: the environment mapping (festival_pipeline/settings.py → the SourceWebsites
resource's fields, secrets as EnvVar) and their validation."""

from __future__ import annotations

import pytest
from dagster import EnvVar

from festival_pipeline.definitions import code_location_resources
from festival_pipeline.resources import FestivalDatabase, SourceWebsites
from festival_pipeline.settings import ConfigurationError, website_secrets, websites_config
from festival_pipeline.sources.settings import (
    DEFAULT_CRAWLBASE_API_URL,
    DEFAULT_ZYTE_API_URL,
    FetcherSettings,
    HttpSettings,
    ZyteSettings,
)


def fetcher_settings(environ: dict[str, str]):
    """What a step gets: the resource configured from `environ`, its secrets resolved from it (as Dagster
    resolves the resource's EnvVars in the step's process)."""
    secrets = {field: environ[variable] for field, variable in website_secrets(environ).items()}
    return SourceWebsites(festival_db=FestivalDatabase(), **websites_config(environ), **secrets).fetcher_settings()


def test_secrets_are_environment_variables_not_values() -> None:
    environ = {"ZYTE_API_KEY": "zkey", "CRAWLBASE_TOKEN": "ctok", "CRAWLBASE_JS_TOKEN": ""}
    sites = code_location_resources(environ)["sites"]
    assert sites.zyte_api_key == EnvVar("ZYTE_API_KEY") and sites.crawlbase_token == EnvVar("CRAWLBASE_TOKEN")
    assert sites.crawlbase_js_token is None  # empty is unset
    assert "zkey" not in repr(sites) and "ctok" not in repr(sites)
    assert "zkey" not in repr(websites_config(environ))


def test_settings_from_env() -> None:
    settings = fetcher_settings(
        {
            "FESTIVAL_HTTP_USER_AGENT": "bot/1",
            "FESTIVAL_HTTP_REQUESTS_PER_SECOND": "0.5",
            "FESTIVAL_HTTP_TIMEOUT": "12.5",
            "FESTIVAL_HTTP_MAX_RETRIES": "2",
            "FESTIVAL_HTTP_HOST_RATES": "www.oscars.org=2, imdb.com=0.25",
            "FESTIVAL_FETCHER": "direct",
            "IMDB_FETCHER": "Zyte",
            "FESTIVAL_RENDER_SITES": "imdb",
            "FESTIVAL_BROWSER_EXECUTABLE": "/usr/bin/chromium",
            "ZYTE_API_KEY": "zkey",
            "FESTIVAL_ZYTE_API_URL": "http://127.0.0.1:9/__zyte/v1/extract",
            "CRAWLBASE_TOKEN": "ctok",
        }
    )
    http = settings.http
    assert http.user_agent == "bot/1"
    assert (http.requests_per_second, http.timeout_seconds, http.max_retries) == (0.5, 12.5, 2)
    assert http.host_requests_per_second == {"www.oscars.org": 2.0, "imdb.com": 0.25}
    assert (settings.kind_for("oscars"), settings.kind_for("imdb")) == ("direct", "zyte")
    assert settings.render_sites == ("imdb",)
    assert settings.browser.executable == "/usr/bin/chromium"
    assert (settings.zyte.api_key, settings.zyte.api_url) == ("zkey", "http://127.0.0.1:9/__zyte/v1/extract")
    assert (settings.crawlbase.token, settings.crawlbase.api_url) == ("ctok", DEFAULT_CRAWLBASE_API_URL)
    assert "zkey" not in repr(settings) and "ctok" not in repr(settings)  # keys never shown
    defaults = fetcher_settings({})
    assert defaults == FetcherSettings() and defaults.kind_for("imdb") == "auto"
    assert defaults.zyte.api_url == DEFAULT_ZYTE_API_URL
    assert fetcher_settings({"FESTIVAL_HTTP_TIMEOUT": "  "}).http.timeout_seconds == 30


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"FESTIVAL_HTTP_REQUESTS_PER_SECOND": "fast"},
         "FESTIVAL_HTTP_REQUESTS_PER_SECOND must be a number, got 'fast'"),
        ({"FESTIVAL_HTTP_MAX_RETRIES": "2.5"}, "FESTIVAL_HTTP_MAX_RETRIES must be an integer"),
        ({"FESTIVAL_HTTP_MAX_RETRIES": "-1"}, "max_retries must be an integer >= 0"),
        ({"FESTIVAL_HTTP_TIMEOUT": "0"}, "timeout_seconds must be > 0"),
        ({"FESTIVAL_HTTP_HOST_RATES": "imdb.com"}, "host=rate"),
        ({"FESTIVAL_FETCHER": "curl"}, "FESTIVAL_FETCHER must be one of auto, direct, browser, zyte, crawlbase"),
        ({"OSCARS_FETCHER": "selenium"}, "OSCARS_FETCHER must be one of"),
        ({"FESTIVAL_RENDER_SITES": "cannes"}, "render_sites must name sites among oscars, imdb"),
        ({"FESTIVAL_ZYTE_API_URL": "api.zyte.com"}, "api_url must be an http"),
    ],
)
def test_settings_from_env_errors(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        fetcher_settings(environ)


def test_settings_hash_without_showing_keys() -> None:
    settings = FetcherSettings(zyte=ZyteSettings(api_key="secret-key"), http=HttpSettings(requests_per_second=2))
    assert hash(settings) == hash(FetcherSettings(zyte=ZyteSettings(api_key="secret-key"),
                                                  http=HttpSettings(requests_per_second=2)))
    assert "secret-key" not in repr(settings) and "secret-key" not in str(settings)

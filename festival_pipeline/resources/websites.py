"""The source websites resource: base URLs, politeness, and the HTTP client that fetches pages."""

from __future__ import annotations

import functools

from dagster import ConfigurableResource
from pydantic import Field

from festival_pipeline import settings
from festival_pipeline.sources.http_client import DEFAULT_USER_AGENT, HttpSettings, PoliteHttpClient


@functools.cache
def _client(http: HttpSettings) -> PoliteHttpClient:
    return PoliteHttpClient(http)


def _host_rates(spec: str) -> dict[str, float]:
    """`www.imdb.com=0.5,www.oscars.org=2` → {host: requests per second}."""
    rates: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        host, sep, rate = part.partition("=")
        if not sep or not host.strip():
            raise settings.ConfigurationError(f"host rates must look like host=rate, got {part!r}")
        rates[host.strip().lower()] = float(rate)
    return rates


class SourceWebsites(ConfigurableResource):
    """oscars.org and IMDb (or the simulator standing in for them): base URLs and politeness."""

    oscars_base_url: str = settings.DEFAULT_OSCARS_BASE_URL
    imdb_base_url: str = settings.DEFAULT_IMDB_BASE_URL
    user_agent: str = DEFAULT_USER_AGENT
    requests_per_second: float = Field(default=1.0, description="Per host; 0 = unlimited.")
    timeout_seconds: float = 30.0
    max_retries: int = 5
    backoff_factor: float = 0.5
    backoff_max: float = 60.0
    host_rates: str = Field(default="", description="Per-host overrides, e.g. `www.imdb.com=0.5,www.oscars.org=2`.")

    def http_settings(self) -> HttpSettings:
        return HttpSettings(
            user_agent=self.user_agent, requests_per_second=self.requests_per_second,
            timeout_seconds=self.timeout_seconds, max_retries=self.max_retries,
            backoff_factor=self.backoff_factor, backoff_max=self.backoff_max,
            host_requests_per_second=_host_rates(self.host_rates),
        )

    def http(self) -> PoliteHttpClient:
        """One client per process, so the per-host rate limit holds across the assets of a step."""
        return _client(self.http_settings())

    def oscars_ceremony_url(self, year: int) -> str:
        return f"{self.oscars_base_url.rstrip('/')}/oscars/ceremonies/{year}"

    def imdb_edition_url(self, event_id: str, year: int, instance: int) -> str:
        return f"{self.imdb_base_url.rstrip('/')}/event/{event_id}/{year}/{instance}/"

    def imdb_event_url(self, event_id: str) -> str:
        """The event's own URL: IMDb redirects it to the latest edition, whose page lists every edition."""
        return f"{self.imdb_base_url.rstrip('/')}/event/{event_id}/"

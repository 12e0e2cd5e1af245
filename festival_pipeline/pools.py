"""The per-site Dagster pools: the `pool=` of the assets that fetch, one per host they fetch from.

Each allows `concurrency.pools.default_limit` fetching steps across all runs (two: dagster.yaml);
runtime/instance_home.py creates them on the instance with that limit before any run needs them.
Their requests share the host's pace (sources/rate_limit.py, kept in the festival database), so a
second step never makes a site busier; it lets the next festival's run start fetching while the last
one finishes, instead of leaving the site idle while a run worker and a step start.
"""

from __future__ import annotations

OSCARS_POOL = "oscars.org"
IMDB_PAGES_POOL = "imdb.com"
IMDB_API_POOL = "api.graphql.imdb.com"  # IMDb's GraphQL API: another host, its own pace and pool
SITE_POOLS = (OSCARS_POOL, IMDB_PAGES_POOL, IMDB_API_POOL)


def imdb_pool(imdb_source: str) -> str:
    """The pool of the IMDb fetching steps: the API's unless IMDB_SOURCE=pages (with `auto`, a step
    reads the pages only once the API refused it)."""
    return IMDB_PAGES_POOL if imdb_source == "pages" else IMDB_API_POOL

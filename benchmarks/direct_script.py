"""The floor: the Oscar backfill without Dagster.

Same work as the `oscars` asset group, minus orchestration and the raw-page archive:
fetch (plain `requests`), parse (festival_pipeline.parsers), enhance
(festival_pipeline.enhance), write (festival_pipeline.database.ceremony_writer.write_year, one
transaction per year, as the table assets write). Sequential, one session per host, no rate
limit, no retries, no import_outcomes rows.

    python benchmarks/direct_script.py --database-url postgresql://... \
        --oscars-base-url http://127.0.0.1:PORT --imdb-base-url http://127.0.0.1:PORT \
        [--first 1929] [--last 2026] [--profile out.prof]

Prints one JSON line: years, pages fetched, rows written, seconds per stage.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import sys
import time
from datetime import UTC, datetime

import requests

from festival_pipeline.database import connection
from festival_pipeline.database.ceremony_writer import write_year
from festival_pipeline.database.organizations import upsert_organizations
from festival_pipeline.enhance.oscars import enhance_oscars_ceremony, imdb_edition_for_ceremony
from festival_pipeline.parsers import parse_imdb_edition_page, parse_oscars_ceremony_page

FIRST_CEREMONY_YEAR = 1928
EVENT = "ev0000003"


def _get(session: requests.Session, url: str) -> str:
    response = session.get(url, timeout=30)
    response.raise_for_status()
    response.encoding = "utf-8"
    return response.text


def backfill(database_url: str, oscars_base: str, imdb_base: str, first: int, last: int) -> dict:
    oscars_http, imdb_http = requests.Session(), requests.Session()
    stages = {"fetch": 0.0, "parse": 0.0, "enhance": 0.0, "write": 0.0}
    pages = 0
    nominations = 0
    started = time.perf_counter()

    with connection.transaction(database_url) as cursor:
        upsert_organizations(cursor)

    t = time.perf_counter()
    event_url = f"{imdb_base}/event/{EVENT}/"
    event_html = _get(imdb_http, event_url)  # 302 -> the latest edition, which lists every edition
    pages += 1
    stages["fetch"] += time.perf_counter() - t
    t = time.perf_counter()
    latest = parse_imdb_edition_page(event_html, event_url)
    stages["parse"] += time.perf_counter() - t
    latest_url = f"{imdb_base}/event/{EVENT}/{latest.year}/{latest.instance}/"

    for year in range(first, last + 1):
        t = time.perf_counter()
        oscars_url = f"{oscars_base}/oscars/ceremonies/{year}"
        oscars_html = _get(oscars_http, oscars_url)
        edition = imdb_edition_for_ceremony(latest.editions, year - FIRST_CEREMONY_YEAR)
        imdb_url = f"{imdb_base}/event/{EVENT}/{edition.year}/{edition.instance}/"
        if imdb_url == latest_url:
            imdb_html = event_html
            pages += 1
        else:
            imdb_html = _get(imdb_http, imdb_url)
            pages += 2
        stages["fetch"] += time.perf_counter() - t

        t = time.perf_counter()
        oscars_page = parse_oscars_ceremony_page(oscars_html, oscars_url)
        imdb_page = parse_imdb_edition_page(imdb_html, imdb_url)
        stages["parse"] += time.perf_counter() - t

        t = time.perf_counter()
        record = enhance_oscars_ceremony(oscars_page, imdb_page)
        stages["enhance"] += time.perf_counter() - t

        t = time.perf_counter()
        with connection.transaction(database_url) as cursor:
            result = write_year(cursor, record.organization_slug, year, [record], accept_shrink=False,
                                scraped_at=datetime.now(UTC))
        if result.nominations != len(record.nominations):
            raise RuntimeError(f"{year}: wrote {result.nominations} nominations, parsed {len(record.nominations)}")
        nominations += result.nominations
        stages["write"] += time.perf_counter() - t

    return {
        "years": last - first + 1,
        "pages": pages,  # successful page GETs (the latest edition page once)
        "nominations": nominations,
        "seconds": round(time.perf_counter() - started, 3),
        "stages": {k: round(v, 3) for k, v in stages.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--oscars-base-url", required=True)
    parser.add_argument("--imdb-base-url", required=True)
    parser.add_argument("--first", type=int, default=1929)
    parser.add_argument("--last", type=int, default=2026)
    parser.add_argument("--profile", help="write a cProfile file here")
    args = parser.parse_args(argv)
    call = lambda: backfill(  # noqa: E731
        args.database_url, args.oscars_base_url.rstrip("/"), args.imdb_base_url.rstrip("/"), args.first, args.last
    )
    if args.profile:
        profiler = cProfile.Profile()
        result = profiler.runcall(call)
        profiler.dump_stats(args.profile)
    else:
        result = call()
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

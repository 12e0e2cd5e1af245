"""What-if for the enhance hot spot: time parse+enhance of every ceremony as the product does it,
then again with the pure string functions of enhance/normalize.py memoised (functools.lru_cache,
patched into this process only - no product file is changed), and check both give equal records.

    python benchmarks/enhance_whatif.py [--first 1929] [--last 2026]

Starts the simulator in-process (../shared/festival_web) and fetches the pages once.
The fix landed in commit a7ebbed; on that commit and later both timings measure the fixed code
(the script still checks that the records are identical).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path

import requests

SHARED = Path(__file__).resolve().parents[2] / "shared"


def pages(base: str, first: int, last: int) -> list[tuple[int, str, str, str, str]]:
    from festival_pipeline.enhance.oscars import imdb_edition_for_ceremony
    from festival_pipeline.parsers import parse_imdb_edition_page

    with requests.Session() as http:
        latest_response = http.get(f"{base}/event/ev0000003/", timeout=60)
        latest = parse_imdb_edition_page(latest_response.text, latest_response.url)
        out = []
        for year in range(first, last + 1):
            edition = imdb_edition_for_ceremony(latest.editions, year - 1928)
            o_url = f"{base}/oscars/ceremonies/{year}"
            i_url = f"{base}/event/ev0000003/{edition.year}/{edition.instance}/"
            out.append((year, o_url, http.get(o_url, timeout=60).text, i_url, http.get(i_url, timeout=60).text))
    return out


def enhance_all(corpus: list) -> tuple[float, list]:
    from festival_pipeline.enhance.oscars import enhance_oscars_ceremony
    from festival_pipeline.parsers import parse_imdb_edition_page, parse_oscars_ceremony_page

    started = time.perf_counter()
    records = []
    for _year, o_url, o_html, i_url, i_html in corpus:
        records.append(enhance_oscars_ceremony(parse_oscars_ceremony_page(o_html, o_url),
                                               parse_imdb_edition_page(i_html, i_url)))
    return time.perf_counter() - started, records


def memoise_normalize() -> list[str]:
    """lru_cache on the pure str -> str/float helpers, in the modules that call them."""
    from festival_pipeline.enhance import normalize, oscars

    patched = []
    for name in ("fold", "normalize_title", "normalize_name", "normalize_category", "canonical_category",
                 "category_similarity", "title_similarity", "name_in_text"):
        cached = functools.lru_cache(maxsize=200_000)(getattr(normalize, name))
        setattr(normalize, name, cached)
        if hasattr(oscars, name):
            setattr(oscars, name, cached)
        patched.append(name)
    return patched


def prune_category_pairs() -> None:
    """`_pair_categories` without content scores for pairs that cannot be accepted anyway.

    A pair is kept when name >= CATEGORY_NAME_ACCEPT (100) or 0.6 * name + 0.4 * content >= 70; content
    is at most 100, so a pair whose name score is below (70 - 40) / 0.6 = 50 can never be kept. The
    product scores content for every pair with name >= 30. Same code otherwise (results identical).
    """
    from festival_pipeline.enhance import oscars as o

    def _pair_categories(oscars, imdb):
        base = [[o._OscarsNomination.of(h) for h in cat.honorees] for cat in oscars]
        scored = []
        for i, cat in enumerate(oscars):
            for j, icat in enumerate(imdb):
                name = o.category_similarity(cat.name, o.imdb_category_display_name(icat))
                # the change: skip pairs whose best possible total (content = 100) stays below the bar
                if name < o.CATEGORY_NAME_ACCEPT and 0.6 * name + 40.0 < o.CATEGORY_COMBINED_ACCEPT:
                    continue
                content = o._content_score(base[i], icat)
                total = 0.6 * name + 0.4 * content
                if name >= o.CATEGORY_NAME_ACCEPT or total >= o.CATEGORY_COMBINED_ACCEPT:
                    scored.append((total, name, i, j))
        pairs: dict = {}
        used: set = set()
        for total, name, i, j in sorted(scored, key=lambda t: (-t[0], -t[1])):
            if i not in pairs and j not in used:
                pairs[i] = (j, "name" if name >= o.CATEGORY_NAME_ACCEPT else "name+content", round(total, 1))
                used.add(j)
        o._pair_by_position(oscars, imdb, base, pairs, used)
        out = []
        for i, cat in enumerate(oscars):
            if i in pairs:
                j, method, score = pairs[i]
                out.append(o._CategoryPair(cat, imdb[j], method, score, base[i]))
            else:
                out.append(o._CategoryPair(cat, None, noms=base[i]))
        out.extend(o._CategoryPair(None, icat, "imdb-only") for j, icat in enumerate(imdb) if j not in used)
        return out

    o._pair_categories = _pair_categories


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", type=int, default=1929)
    parser.add_argument("--last", type=int, default=2026)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(SHARED))
    from festival_web import start_server

    url, shutdown = start_server(port=0)
    try:
        corpus = pages(url, args.first, args.last)
    finally:
        shutdown()
    as_is, records = enhance_all(corpus)
    patched = memoise_normalize()
    memoised, records_memoised = enhance_all(corpus)
    prune_category_pairs()
    pruned, records_pruned = enhance_all(corpus)
    expected = [r.payload() for r in records]
    same = expected == [r.payload() for r in records_memoised]
    same_pruned = expected == [r.payload() for r in records_pruned]
    print(json.dumps({"years": len(corpus), "parse_enhance_seconds_as_is": round(as_is, 2),
                      "parse_enhance_seconds_memoised": round(memoised, 2),
                      "parse_enhance_seconds_memoised_and_pruned": round(pruned, 2),
                      "speedup_memoised": round(as_is / memoised, 1), "speedup_both": round(as_is / pruned, 1),
                      "identical_records_memoised": same, "identical_records_both": same_pruned,
                      "memoised": patched}))
    return 0 if same and same_pruned else 1


if __name__ == "__main__":
    raise SystemExit(main())

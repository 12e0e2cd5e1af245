"""Benchmark of the fetchers: an Oscar-sized run (196 page fetches) through `direct` and through `auto`
behind the simulator's bot wall, at the pipeline's politeness (1 request/s per host by default).

The run mirrors what a backfill of 1929-2026 fetches and how: two step processes side by side, one
per site, each with its own fetchers (as Dagster's step processes have):

  oscars   the 98 ceremony pages /oscars/ceremonies/1929 … /2026
  imdb     the event page /event/ev0000003/ (the latest edition, which lists every edition), then the
           97 other editions it lists

  direct   simulator without --waf, FESTIVAL_FETCHER=direct (today's client): the baseline
  auto     simulator with --waf all --waf-ttl T, FESTIVAL_FETCHER=auto: direct, a local Chromium
           solving the challenge when it comes, its cookie reused until it expires
  browser  (--kinds …,browser) every page loaded in Chromium

For each mode: wall time, pages by fetcher, the simulator's requests (from its --log: pages served,
challenges, verify calls), and for modes with a browser the peak memory of Chromium (every process
of the browser: RSS summed, and PSS summed, which counts shared pages once), polled every 100 ms.

    .venv/bin/python benchmarks/fetchers.py                       # direct + auto, 1 req/s: ~4 min
    .venv/bin/python benchmarks/fetchers.py --rps 4 --waf-ttl 30  # quicker, with token renewals
    .venv/bin/python benchmarks/fetchers.py --kinds direct,auto,browser --json out.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
SIMULATOR = ROOT.parent / "shared" / "festival_web" / "serve.py"
FIRST, LAST = 1929, 2026
CHROMIUM_NAMES = ("chrom", "headless_shell")


# --------------------------------------------------------------------------- the simulator


def start_simulator(log: Path, waf_ttl: float | None) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, str(SIMULATOR), "--port", "0", "--no-festivals", "--log", str(log)]
    if waf_ttl is not None:
        command += ["--waf", "all", "--waf-ttl", str(waf_ttl)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip() if process.stdout else ""
    if "listening on" not in line:
        process.kill()
        raise SystemExit(f"the simulator did not start: {line!r}")
    return process, line.rsplit(" ", 1)[-1]


def simulator_requests(log: Path) -> dict[str, object]:
    rows = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    pages = Counter(r["path"] for r in rows if r["method"] == "GET" and r["status"] == 200)
    return {
        "requests": len(rows),
        "by_status": dict(sorted(Counter(r["status"] for r in rows).items())),
        "pages_served": sum(pages.values()),
        "pages_served_more_than_once": sum(1 for n in pages.values() if n > 1),
        "challenges": sum(1 for r in rows if r["status"] == 202),
        "challenge_solves": sum(1 for r in rows if r["method"] == "POST" and r["status"] == 200),
    }


# --------------------------------------------------------------------------- one step process


def chromium_memory(pid: int) -> tuple[int, int, int]:
    """(RSS sum, PSS sum, process count) of the Chromium processes under ``pid``."""
    rss = pss = count = 0
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return 0, 0, 0
    for child in children:
        try:
            if not any(name in child.name().lower() for name in CHROMIUM_NAMES):
                continue
            info = child.memory_full_info()
            rss, pss, count = rss + info.rss, pss + getattr(info, "pss", info.rss), count + 1
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return rss, pss, count


def step(site: str, kind: str, base_url: str, rps: float, chromium: str | None, out: multiprocessing.Queue) -> None:
    """Fetch one site's pages as a step process does; report timings, fetchers and Chromium's peak."""
    from festival_pipeline.parsers.imdb_event import parse_imdb_edition_page
    from festival_pipeline.sources.factory import Fetchers
    from festival_pipeline.sources.settings import BrowserSettings, FetcherSettings, HttpSettings

    fetchers = Fetchers(FetcherSettings(default=kind, http=HttpSettings(requests_per_second=rps),
                                        browser=BrowserSettings(executable=chromium)))
    fetcher = fetchers.for_site(site)
    peak = {"rss": 0, "pss": 0, "processes": 0}
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.1):
            rss, pss, count = chromium_memory(os.getpid())
            if rss > peak["rss"]:
                peak.update(rss=rss, processes=count)
            peak["pss"] = max(peak["pss"], pss)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.monotonic()
    pages = []
    if site == "oscars":
        for year in range(FIRST, LAST + 1):
            pages.append(fetcher.fetch(f"{base_url}/oscars/ceremonies/{year}"))
    else:
        latest = fetcher.fetch(f"{base_url}/event/ev0000003/")
        pages.append(latest)
        record = parse_imdb_edition_page(latest.body.decode("utf-8"), latest.final_url)
        for edition in record.editions:
            url = f"{base_url}/event/ev0000003/{edition.year}/{edition.instance}/"
            if url != latest.final_url:
                pages.append(fetcher.fetch(url))
    elapsed = time.monotonic() - started
    fetchers.close()
    stop.set()
    watcher.join()
    out.put({
        "site": site,
        "seconds": round(elapsed, 2),
        "pages": len(pages),
        "by_fetcher": dict(Counter(p.fetcher for p in pages)),
        "bytes": sum(len(p.body) for p in pages),
        "chromium_peak_rss_mb": round(peak["rss"] / 2**20, 1),
        "chromium_peak_pss_mb": round(peak["pss"] / 2**20, 1),
        "chromium_processes": peak["processes"],
    })


def run_mode(kind: str, rps: float, waf_ttl: float | None, chromium: str | None, workdir: Path) -> dict[str, object]:
    log = workdir / f"{kind}-requests.jsonl"
    simulator, url = start_simulator(log, waf_ttl)
    try:
        context = multiprocessing.get_context("spawn")
        out: multiprocessing.Queue = context.Queue()
        started = time.monotonic()
        steps = [
            context.Process(target=step, args=(site, kind, url, rps, chromium, out)) for site in ("oscars", "imdb")
        ]
        for process in steps:
            process.start()
        results = [out.get(timeout=3600) for _ in steps]
        for process in steps:
            process.join()
        wall = time.monotonic() - started
    finally:
        simulator.terminate()
        simulator.wait()
    return {
        "mode": kind,
        "waf_ttl": waf_ttl,
        "wall_seconds": round(wall, 2),
        "pages": sum(r["pages"] for r in results),
        "steps": sorted(results, key=lambda r: r["site"]),
        "simulator": simulator_requests(log),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", default="direct,auto", help="comma list of direct, auto, browser")
    parser.add_argument("--rps", type=float, default=1.0, help="requests per second per host (default 1)")
    parser.add_argument("--waf-ttl", type=float, default=300.0, help="challenge token lifetime, s (default 300)")
    parser.add_argument("--chromium", default=None, help="browser executable (default: Playwright's, else PATH)")
    parser.add_argument("--json", type=Path, help="write the report here too")
    args = parser.parse_args()
    if not SIMULATOR.exists():
        raise SystemExit(f"the simulator is missing: {SIMULATOR}")
    report: dict[str, object] = {"rps_per_host": args.rps, "load_at_start": os.getloadavg()[0], "modes": []}
    with tempfile.TemporaryDirectory(prefix="fetchers-bench-") as tmp:
        for kind in [k.strip() for k in args.kinds.split(",") if k.strip()]:
            waf_ttl = None if kind == "direct" else args.waf_ttl
            result = run_mode(kind, args.rps, waf_ttl, args.chromium, Path(tmp))
            report["modes"].append(result)  # type: ignore[union-attr]
            print(json.dumps(result), flush=True)
    modes = {m["mode"]: m for m in report["modes"]}  # type: ignore[union-attr]
    if "direct" in modes:
        for kind, mode in modes.items():
            if kind != "direct":
                report[f"{kind}_over_direct"] = round(mode["wall_seconds"] / modes["direct"]["wall_seconds"], 3)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""Benchmark of `festival-pipeline backfill`: the command users run, against the floor and the yardstick.

Everything local (127.0.0.1) and thrown away afterwards: the oscars.org/IMDb simulator
(`../shared/festival_web/serve.py --log`, a subprocess, every page rendered once before timing) and
fresh embedded PostgreSQL servers (temporary FESTIVAL_PIPELINE_HOME, each server on its own socket;
started and migrated before the phases, as they stay running between a user's commands).

Each phase is a monitored subprocess: wall time, CPU time, the simulator's requests (from its log),
rows, peak RSS of the process tree; for the backfill commands, where the time goes, from the Dagster
instance (backfill launched, runs created/started/ended, step windows) and the services' logs.

  direct        benchmarks/direct_script.py (parsers + enhance + write_year, no Dagster): the floor
  bare          benchmarks/bare_script.py (requests + BeautifulSoup, no project code): the yardstick
  backfill      festival-pipeline backfill oscars, FESTIVAL_HTTP_REQUESTS_PER_SECOND=0, fresh home
  single        festival-pipeline backfill oscars --years 2024 (same home)
  from-archive  festival-pipeline backfill oscars --from-archive (same home; fetches nothing)
  polite        (--polite) the backfill at the default politeness (1 request/s per site), fresh home
  polite-all    (--polite-all) festival-pipeline backfill all at the default politeness, fresh home
  waf           (--waf) FESTIVAL_FETCHER=auto through `serve.py --waf all` at the default politeness,
                fresh home; needs the fetchers of issue 11

    . .venv/bin/activate   # in the repository root; pip install -e ".[test,bench]"
    python benchmarks/run.py [--years 2020-2024] [--polite] [--polite-all] [--waf] [--json out.json]

Prints a summary: the speed targets and the correctness checks as true/false (null: not measured, or
not meaningful for --years). Exits non-zero when a phase failed or a check is false (rows differ from
the direct floor's, a page fetched twice, a request from --from-archive), not for a missed target.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import inspect
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil

ROOT = Path(__file__).resolve().parents[1]
SIMULATOR = ROOT.parent / "shared" / "festival_web" / "serve.py"
CLI = Path(sys.executable).with_name("festival-pipeline")
OSCARS_EVENT = "ev0000003"
OSCARS_SLUG = "academy-awards"
DEFAULT_POLITENESS = 1.0  # requests per second per site (SourceWebsites' default)
# the targets (issue 12 items 4 and 5, issue 11 item 5)
BACKFILL_PER_DIRECT = 3.0
BACKFILL_PER_BARE = 1.5
POLITE_SECONDS = 115.0  # the full Oscar backfill at 1 request/s (floor: 98 pages per site)
POLITE_ALL_PER_IMDB_PAGE = 1.15  # seconds per IMDb page at 1 request/s
WAF_PER_POLITE = 1.3
PSS_EVERY = 5  # read the browsers' PSS (slow: /proc/PID/smaps) every 5th sample
# the caller's settings that would point the phases elsewhere or change what they measure
FOREIGN_PREFIXES = ("FESTIVAL_", "DAGSTER_", "OSCARS_", "IMDB_", "ZYTE_", "CRAWLBASE_")
FOREIGN_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def epoch(iso: str) -> float:
    """The simulator log's time ("2026-11-29T20:11:32.873Z") as a Unix timestamp."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# --------------------------------------------------------------------------- the simulator


class Simulator:
    """serve.py as a subprocess, logging every request as one JSON line."""

    def __init__(self, log: Path, festivals: bool, waf_ttl: float | None = None) -> None:
        self.log = log
        command = [sys.executable, str(SIMULATOR), "--host", "127.0.0.1", "--port", "0", "--log", str(log)]
        if not festivals:
            command.append("--no-festivals")
        if waf_ttl is not None:
            command += ["--waf", "all", "--waf-ttl", str(waf_ttl)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.process.stdout.readline().strip()  # "festival-web listening on http://HOST:PORT"
        if "listening on" not in line:
            self.stop()
            raise RuntimeError(f"the simulator did not start: {line!r}")
        self.url = line.rsplit(" ", 1)[1]
        # IMDb under another name of the same address: on the web oscars.org and IMDb are two hosts,
        # each with its own pace (shared by every process through the festival database); under one
        # name the two sites would share one pace, which the real sites never do
        self.imdb_url = self.url.replace("//127.0.0.1:", "//localhost:")

    def offset(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def requests_since(self, offset: int) -> list[dict]:
        if not self.log.exists():
            return []
        with self.log.open("rb") as handle:
            handle.seek(offset)
            return [json.loads(line) for line in handle.read().decode().splitlines() if line.strip()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def site_of(path: str) -> str:
    """The site a simulator path stands for (both sites are served at one address)."""
    return "oscars.org" if path.startswith("/oscars/") else "imdb.com" if path.startswith("/event/") else "other"


def summarize_requests(requests_: list[dict]) -> dict:
    """Requests, pages (200s of the two sites' paths) and repeats; per site the pages and the window they
    were fetched in ("other": the bot wall's own endpoints, e.g. a challenge's answer)."""
    pages = [r for r in requests_ if r["status"] == 200 and site_of(r["path"]) != "other"]
    paths = Counter(r["path"] for r in pages)
    by_site: dict[str, dict] = {}
    for site in ("oscars.org", "imdb.com", "other"):
        mine = [r for r in requests_ if site_of(r["path"]) == site]
        if not mine:
            continue
        first, last = epoch(mine[0]["time"]), epoch(mine[-1]["time"])
        by_site[site] = {"requests": len(mine), "pages": sum(1 for r in mine if r["status"] == 200),
                         "first": first, "last": last, "window_seconds": round(last - first, 2)}
    repeated = sorted(p for p, n in paths.items() if n > 1)
    return {
        "requests": len(requests_),
        "pages": len(pages),
        "distinct_pages": len(paths),
        "pages_fetched_more_than_once": len(repeated),
        "repeated_examples": repeated[:10],
        "statuses": dict(Counter(str(r["status"]) for r in requests_)),
        "bytes": sum(r["bytes"] for r in pages),
        "by_site": by_site,
    }


def warm(simulator: Simulator, first: int, last: int, festivals: bool) -> dict:
    """Render every page a phase fetches once, so no phase pays the simulator's first render."""
    import requests

    from festival_pipeline.enhance.oscars import imdb_edition_for_ceremony
    from festival_pipeline.parsers import parse_imdb_edition_page
    from festival_pipeline.registry import FESTIVALS

    started, pages = time.perf_counter(), 0

    def editions(session: requests.Session, event: str) -> tuple:
        response = session.get(f"{simulator.url}/event/{event}/", timeout=60)  # 302 → the latest edition
        response.raise_for_status()
        return parse_imdb_edition_page(response.text, response.url).editions

    with requests.Session() as session:
        oscar_editions = editions(session, OSCARS_EVENT)
        for year in range(first, last + 1):
            edition = imdb_edition_for_ceremony(oscar_editions, year - 1928)
            for path in (f"/oscars/ceremonies/{year}", f"/event/{OSCARS_EVENT}/{edition.year}/{edition.instance}/"):
                session.get(simulator.url + path, timeout=60).raise_for_status()
                pages += 1
        for festival in FESTIVALS if festivals else ():
            if festival.is_oscars:
                continue
            for edition in editions(session, festival.imdb_event_id):
                if first <= edition.year <= last:
                    url = f"{simulator.url}/event/{festival.imdb_event_id}/{edition.year}/{edition.instance}/"
                    session.get(url, timeout=60).raise_for_status()
                    pages += 1
    return {"pages": pages, "seconds": round(time.perf_counter() - started, 2)}


# --------------------------------------------------------------------------- process monitoring


@dataclass
class ProcessPeak:
    pid: int
    role: str
    created: float  # Unix time (psutil's create_time)
    peak_rss_mb: float = 0.0
    last_seen: float = 0.0  # Unix time of the last sample that found it alive
    cpu_seconds: float = 0.0  # user + system, at the last sample


@dataclass
class Measured:
    started: float  # Unix time of the start
    seconds: float
    cpu_seconds: float  # user + system of every process of the tree, at the last sample that saw it
    returncode: int
    output: str
    processes: dict[int, ProcessPeak] = field(default_factory=dict)
    peak_tree_rss_mb: float = 0.0
    leftovers: list[str] = field(default_factory=list)  # processes still alive after the command
    lines: list[tuple[float, str]] = field(default_factory=list)  # (Unix time, output line)
    browser: dict[str, float] = field(default_factory=dict)  # peak RSS and PSS summed over Chromium's processes
    sampler_cpu_seconds: float = 0.0  # what the sampling cost this process (it competes for the same CPUs)


def role(process: psutil.Process) -> str:
    """What a process of the tree is (Dagster's services, run workers, steps, a browser)."""
    try:
        cmd = process.cmdline()
    except (psutil.Error, OSError):
        return "?"
    if not cmd:
        return "?"
    executable = Path(cmd[0]).name
    if executable.startswith(("chrom", "headless_shell")):
        return "browser (Chromium)"
    if executable == "node" and "playwright" in cmd[0]:
        return "browser driver (Playwright, node)"
    text = " ".join(cmd)
    for needle, name in (("festival-pipeline", "festival-pipeline (the command)"),
                         ("api grpc", "code server (dagster api grpc)"),
                         ("code-server start", "code server"),
                         ("dagster_webserver", "webserver"),
                         ("dagster-daemon", "daemon"),
                         ("api execute_run", "run worker (dagster api execute_run)"),
                         ("watch_orphans", "dagster watch_orphans"),
                         ("resource_tracker", "multiprocessing resource tracker"),
                         ("tail -F", "compute-log tail"),
                         ("multiprocessing.forkserver", "step server (forkserver)"),
                         ("multiprocessing", "step (multiprocessing)"),
                         ("direct_script.py", "direct_script.py"),
                         ("bare_script.py", "bare_script.py")):
        if needle in text:
            return name
    return " ".join([executable, *cmd[1:6]])[:100]


def run_measured(command: list[str], env: dict[str, str], timeout: float, poll: float) -> Measured:
    """Run `command`, polling the RSS of its whole process tree; peak RSS per process and of the tree."""
    started_wall, started, own_cpu = time.time(), time.perf_counter(), time.process_time()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, errors="replace")
    lines: list[tuple[float, str]] = []
    reader = threading.Thread(target=lambda: lines.extend((time.time(), line) for line in process.stdout),
                              daemon=True)
    reader.start()
    peaks: dict[int, ProcessPeak] = {}
    tree_peak = 0.0
    browser: dict[str, float] = {}
    samples = 0
    root = psutil.Process(process.pid)
    known: dict[int, psutil.Process] = {}
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        if time.monotonic() > deadline:
            for child in root.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    child.kill()
            process.kill()
            break
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            tree = []
        total = browser_rss = browser_pss = 0.0
        browsers = 0
        samples += 1
        read_pss = samples % PSS_EVERY == 0
        for member in tree:
            member = known.setdefault(member.pid, member)
            try:
                rss = member.memory_info().rss / 2**20
                if read_pss and member.pid in peaks and peaks[member.pid].role.startswith("browser ("):
                    # PSS counts the pages Chromium's processes share once (reading it is slow: browsers only)
                    browser_pss += member.memory_full_info().pss / 2**20
                    browser_rss += rss
                    browsers += 1
            except psutil.Error:
                continue
            total += rss
            peak = peaks.get(member.pid)
            if peak is None:
                try:
                    created = member.create_time()
                except psutil.Error:
                    created = time.time()
                peak = peaks[member.pid] = ProcessPeak(member.pid, role(member), created)
            peak.peak_rss_mb = max(peak.peak_rss_mb, rss)
            peak.last_seen = time.time()
            with contextlib.suppress(psutil.Error):
                times = member.cpu_times()
                peak.cpu_seconds = times.user + times.system
        tree_peak = max(tree_peak, total)
        if read_pss and browsers:
            browser["peak_rss_sum_mb"] = round(max(browser.get("peak_rss_sum_mb", 0.0), browser_rss), 1)
            browser["peak_pss_sum_mb"] = round(max(browser.get("peak_pss_sum_mb", 0.0), browser_pss), 1)
            browser["max_processes"] = max(browser.get("max_processes", 0), browsers)
        time.sleep(poll)
    returncode = process.wait()
    seconds = time.perf_counter() - started
    reader.join(timeout=10)
    leftovers = []
    for member in known.values():  # the command stops its services; anything alive now is a leak
        with contextlib.suppress(psutil.Error):
            if member.is_running() and member.status() != psutil.STATUS_ZOMBIE:
                leftovers.append(f"{member.pid} {role(member)}")
                member.kill()
    cpu = sum(peak.cpu_seconds for peak in peaks.values())
    output = "".join(line for _, line in lines)
    return Measured(started_wall, seconds, cpu, returncode, output, peaks, tree_peak, leftovers, lines, browser,
                    time.process_time() - own_cpu)


# --------------------------------------------------------------------------- databases


@dataclass
class Home:
    """A FESTIVAL_PIPELINE_HOME with its embedded server started, migrated, its Dagster storage created."""

    path: Path
    env: dict[str, str]  # the phases' environment
    instance_env: dict[str, str]  # what opens its Dagster instance here (DAGSTER_HOME, the storage URL)
    dagster_home: Path
    festival_url: str
    setup_seconds: float

    def database_url(self, name: str) -> str:
        """Another database on this home's server, created and migrated (the floors' own)."""
        from festival_pipeline.database import connection, migrate

        url = urlunsplit(urlsplit(self.festival_url)._replace(path=f"/{name}"))
        connection.ensure_database_exists(url)
        migrate.upgrade(url)
        return url

    def stop(self) -> None:
        from festival_pipeline.database.connection import stop_embedded
        from festival_pipeline.database.embedded import EmbeddedPostgres

        server = EmbeddedPostgres(self.path)
        try:
            stop_embedded(self.path)  # the server and its pgbouncer
        except Exception as exc:  # a report, not a failure of the benchmark
            print(f"could not stop the embedded PostgreSQL of {self.path}: {exc}", file=sys.stderr)
        if server.location.system:  # as root its files are outside the temporary folder
            shutil.rmtree(server.location.root, ignore_errors=True)


@contextlib.contextmanager
def environ(env: dict[str, str]) -> Iterator[None]:
    """This process's environment set to `env` for a while (Dagster's instance config reads it)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def make_home(tmp: Path, name: str, base_env: dict[str, str]) -> Home:
    """A fresh home, ready as after a user's first command (not timed: a user pays it once)."""
    from dagster import DagsterInstance

    from festival_pipeline import settings
    from festival_pipeline.runtime import instance_home

    path = tmp / name
    env = {**base_env, "FESTIVAL_PIPELINE_HOME": str(path)}
    started = time.perf_counter()
    with environ(env):
        environment = instance_home.prepare(settings.database_settings(env), settings.pipeline_home(env), env)
    with environ(environment.env):
        DagsterInstance.from_config(str(environment.dagster_home)).dispose()  # creates Dagster's tables
    return Home(path, env, environment.env, environment.dagster_home, environment.festival_url,
                round(time.perf_counter() - started, 2))


def oscar_rows(database_url: str) -> dict[str, int]:
    from festival_pipeline.database import connection

    with connection.transaction(database_url) as cursor:
        cursor.execute(
            """SELECT (SELECT count(*) FROM festival_ceremonies c JOIN festival_organizations o
                         ON o.id = c.organization_id AND o.slug = %(slug)s),
                      (SELECT count(*) FROM festival_categories c JOIN festival_organizations o
                         ON o.id = c.organization_id AND o.slug = %(slug)s),
                      (SELECT count(*) FROM festival_nominations n JOIN festival_ceremonies c ON c.id = n.ceremony_id
                         JOIN festival_organizations o ON o.id = c.organization_id AND o.slug = %(slug)s),
                      (SELECT count(*) FROM raw_pages)""",
            {"slug": OSCARS_SLUG},
        )
        ceremonies, categories, nominations, raw_pages = cursor.fetchone()
    return {"ceremonies": ceremonies, "categories": categories, "nominations": nominations, "raw_pages": raw_pages}


def nominations_by_festival(database_url: str) -> dict[str, int]:
    from festival_pipeline.database import connection

    with connection.transaction(database_url) as cursor:
        cursor.execute(
            """SELECT o.slug, count(n.id) FROM festival_organizations o
               LEFT JOIN festival_ceremonies c ON c.organization_id = o.id
               LEFT JOIN festival_nominations n ON n.ceremony_id = c.id
               GROUP BY o.slug ORDER BY o.slug"""
        )
        return {slug: count for slug, count in cursor.fetchall()}


def nomination_fingerprint(database_url: str) -> list[tuple]:
    """Every Oscar nomination as comparable values (no ids, no timestamps)."""
    from festival_pipeline.database import connection

    with connection.transaction(database_url) as cursor:
        cursor.execute(
            """SELECT c.year, c.edition, c.ceremony_number, n.nomination_key, n.position, n.won, k.prize_name,
                      k.name, k.category_type, k.tracks_person, n.film_title, n.film_imdb_ids, n.person_imdb_ids,
                      n.nominee_names, n.details::text
               FROM festival_nominations n JOIN festival_ceremonies c ON c.id = n.ceremony_id
               JOIN festival_organizations o ON o.id = c.organization_id AND o.slug = %s
               JOIN festival_categories k ON k.id = n.category_id
               ORDER BY c.year, c.edition, n.nomination_key""",
            (OSCARS_SLUG,),
        )
        return cursor.fetchall()


# --------------------------------------------------------------------------- where a backfill's time goes

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \+0000 - (.*)$")
SERVICE_MILESTONES = {  # log file → (what, the line's text)
    "code-server.log": ("code server loaded the definitions", "Started Dagster code server"),
    "webserver.log": ("webserver serving", "Serving dagster-webserver"),
    "daemon.log": ("daemon started", "Instance is configured with the following daemons"),
}


def service_milestones(home: Path, since: float) -> dict[str, float]:
    """When the command's services came up, from their logs (whole seconds: the logs' resolution)."""
    found: dict[str, float] = {}
    for name, (what, text) in SERVICE_MILESTONES.items():
        path = home / "logs" / "services" / name
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            match = _LOG_LINE.match(_ANSI.sub("", line))
            if not match or text not in match[2]:
                continue
            when = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()
            if when >= int(since):
                found[what] = when
                break
    return found


def dagster_timeline(home: Home, measured: Measured) -> dict:
    """The backfills this command launched, their runs and the runs' steps, in seconds since the
    command started (Unix times from the Dagster instance: backfill and run records, event log)."""
    from dagster import DagsterInstance, RunsFilter

    t0 = measured.started
    rel = lambda t: None if t is None else round(t - t0, 2)  # noqa: E731
    with environ(home.instance_env), contextlib.ExitStack() as stack:
        instance = DagsterInstance.from_config(str(home.dagster_home))
        stack.callback(instance.dispose)
        backfills = sorted((b for b in instance.get_backfills() if b.backfill_timestamp >= t0 - 1),
                           key=lambda b: b.backfill_timestamp)
        step_pids: dict[int, str] = {}
        runs = []
        for backfill in backfills:
            for record in instance.get_run_records(filters=RunsFilter(tags={"dagster/backfill": backfill.backfill_id})):
                run = record.dagster_run
                marks: dict[str, float] = {"created": record.create_timestamp.timestamp()}
                steps: dict[str, dict[str, float]] = {}
                events: Counter[str] = Counter()
                for entry in instance.all_logs(run.run_id):
                    event = entry.dagster_event
                    if event is None:
                        continue
                    kind = event.event_type_value
                    events[kind] += 1
                    if entry.step_key:
                        steps.setdefault(entry.step_key, {}).setdefault("events", 0)
                        steps[entry.step_key]["events"] += 1
                    if kind in ("PIPELINE_ENQUEUED", "PIPELINE_STARTING", "PIPELINE_START"):
                        marks[{"PIPELINE_ENQUEUED": "enqueued", "PIPELINE_STARTING": "launched",
                               "PIPELINE_START": "started"}[kind]] = entry.timestamp
                        if kind == "PIPELINE_START" and event.pid:
                            step_pids[event.pid] = f"run worker {run.run_id[:8]}"
                    elif kind in ("PIPELINE_SUCCESS", "PIPELINE_FAILURE", "PIPELINE_CANCELED"):
                        marks["ended"] = entry.timestamp
                        marks["status"] = kind.replace("PIPELINE_", "")
                    elif entry.step_key and kind in ("STEP_WORKER_STARTING", "STEP_START", "STEP_SUCCESS",
                                                     "STEP_FAILURE"):
                        name = {"STEP_WORKER_STARTING": "launched", "STEP_START": "started"}.get(kind, "ended")
                        steps.setdefault(entry.step_key, {})[name] = entry.timestamp
                        if kind == "STEP_START" and event.pid:
                            step_pids[event.pid] = f"step {entry.step_key} ({run.run_id[:8]})"
                        if kind == "STEP_FAILURE":
                            steps[entry.step_key]["failed"] = True
                tags = run.tags
                runs.append({
                    "run_id": run.run_id,
                    "backfill_id": backfill.backfill_id,
                    "range": f"{tags.get('dagster/asset_partition_range_start', tags.get('dagster/partition'))}"
                             f"…{tags.get('dagster/asset_partition_range_end', tags.get('dagster/partition'))}",
                    "status": marks.pop("status", str(run.status)),
                    **{f"{k}_s": rel(v) for k, v in marks.items()},
                    "events": dict(events.most_common()),
                    "steps": {key: {**{f"{k}_s": rel(v) for k, v in s.items() if k not in ("failed", "events")},
                                    "events": s["events"],
                                    "seconds": round(s["ended"] - s["started"], 2) if {"started", "ended"} <= s.keys()
                                    else None, **({"failed": True} if s.get("failed") else {})}
                              for key, s in sorted(steps.items(), key=lambda kv: kv[1].get("launched", 0))},
                })
        runs.sort(key=lambda r: r["created_s"])
        backfill_rows = [{"backfill_id": b.backfill_id, "status": str(b.status),
                          "launched_s": rel(b.backfill_timestamp),
                          "closed_s": rel(getattr(b, "backfill_end_timestamp", None))} for b in backfills]
    for pid, what in step_pids.items():
        if pid in measured.processes:
            measured.processes[pid].role = what
    printed = output_milestones(measured.lines)
    return {"backfills": backfill_rows, "runs": runs,
            "services_from_logs": {k: rel(v) for k, v in service_milestones(home.path, t0).items()},
            "output": {k: rel(v) for k, v in printed.items()},
            "breakdown": breakdown(backfill_rows, runs, rel(printed.get("summary printed")), measured.seconds)}


OUTPUT_MILESTONES = {"launch printed": re.compile(r"backfill \S+ launched"),
                     "summary printed": re.compile(r": \d+ year\(s\)")}


def output_milestones(lines: list[tuple[float, str]]) -> dict[str, float]:
    """When the command printed its launch line and its summary (the summary comes after the
    command has read the results and stopped its services)."""
    found: dict[str, float] = {}
    for when, line in lines:
        for what, pattern in OUTPUT_MILESTONES.items():
            if what not in found and pattern.search(line):
                found[what] = when
    return found


def breakdown(backfills: list[dict], runs: list[dict], summary_printed: float | None, command_seconds: float) -> dict:
    """The command's wall time cut where the work changes hands (seconds):

    service start: the command starts, prepares the instance, starts a code server and a webserver,
        waits until the webserver has loaded the code, and launches the backfill (GraphQL);
    daemon pickup: a daemon starts and its backfill daemon submits the first run;
    run start: the run is queued, dequeued, its worker process started, the code loaded, RUN_START;
    first step start: from RUN_START to the first STEP_START (the step server forks the step);
    runs: from the first step's start to the end of the last run (steps, pool waits, later runs);
    finalize: daemon closes: the command restarts its daemon, which marks the backfill complete;
    finalize: results + stop services: the command reads the years' status and stops its services;
    exit: from the printed summary to the command's exit.
    """
    if not backfills or not runs:
        return {}
    first_run = runs[0]
    step_starts = [s["started_s"] for r in runs for s in r["steps"].values() if s.get("started_s") is not None]
    ends = [r["ended_s"] for r in runs if r.get("ended_s") is not None]
    launched, closed = backfills[0]["launched_s"], backfills[-1]["closed_s"]
    marks = {
        "backfill_launched": launched,
        "first_run_created": first_run.get("created_s"),
        "first_run_started": first_run.get("started_s"),
        "first_step_started": min(step_starts) if step_starts else None,
        "last_run_ended": max(ends) if ends else None,
        "backfill_closed": closed,
        "summary_printed": summary_printed,
        "command_ended": round(command_seconds, 2),
    }
    names = ("service start", "daemon pickup", "run start", "first step start", "runs", "finalize: daemon closes",
             "finalize: results + stop services", "exit")
    points = [0.0, *marks.values()]
    intervals = {}
    for name, (a, b) in zip(names, itertools.pairwise(points), strict=True):
        intervals[name] = round(b - a, 2) if a is not None and b is not None else None
    step_seconds: dict[str, float] = {}
    for r in runs:
        for key, s in r["steps"].items():
            if s.get("seconds") is not None:
                step_seconds[key] = round(step_seconds.get(key, 0.0) + s["seconds"], 2)
    return {"marks_s": marks, "intervals_s": intervals, "runs": len(runs),
            "step_seconds_summed_over_runs": step_seconds, "pool_handoffs": pool_handoffs(runs)}


def pool_of(step_key: str) -> str | None:
    """The per-site pool a page step holds (page assets are the ones named …_page / …_pages)."""
    if not step_key.endswith(("_page", "_pages")):
        return None
    return "oscars.org" if "oscars_org" in step_key else "imdb.com"


def pool_handoffs(runs: list[dict]) -> dict[str, list[dict]]:
    """Per pool, each time a run's page step took the slot the previous one freed: `wait_s` from the
    previous step's end to this step's launch (Dagster re-checks a blocked claim at growing
    intervals: 1 s, then ×1.1 per attempt, up to 15 s), `start_s` from its launch to STEP_START (the
    step process starting, its slot already held)."""
    by_pool: dict[str, list[dict]] = {}
    for run in runs:
        for key, step in run["steps"].items():
            pool = pool_of(key)
            if pool and step.get("launched_s") is not None and step.get("ended_s") is not None:
                by_pool.setdefault(pool, []).append(step)
    handoffs: dict[str, list[dict]] = {}
    for pool, steps in by_pool.items():
        steps.sort(key=lambda step: step["launched_s"])
        handoffs[pool] = [{"wait_s": round(after["launched_s"] - before["ended_s"], 2),
                           "start_s": round(after["started_s"] - after["launched_s"], 2)}
                          for before, after in itertools.pairwise(steps) if after.get("started_s") is not None]
    return handoffs


# --------------------------------------------------------------------------- phases


@dataclass
class Bench:
    """Runs the phases: the options, the simulator, the years."""

    args: argparse.Namespace
    simulator: Simulator
    first: int
    last: int

    @property
    def full_range(self) -> bool:
        return self.args.years is None

    def phase_report(self, name: str, measured: Measured, requests_: list[dict], load_before: list[float]) -> dict:
        report = {
            "phase": name,
            "ok": measured.returncode == 0,
            "wall_seconds": round(measured.seconds, 2),
            "cpu_seconds": round(measured.cpu_seconds, 2),
            "sampler_cpu_seconds": round(measured.sampler_cpu_seconds, 2),
            "load_average_before": load_before,
            "load_average_after": load(),
            "http": summarize_requests(requests_),
            "peak_rss_mb_tree": round(measured.peak_tree_rss_mb, 1),
        }
        if measured.leftovers:
            report["processes_left_behind"] = measured.leftovers
        if measured.returncode != 0:
            report["output_tail"] = measured.output[-3000:]
        return report

    def script(self, name: str, command: list[str], database_url: str, env: dict[str, str]) -> dict:
        print(f"[{name}] {Path(command[1]).name} … (load {load()})", flush=True)
        load_before, offset = load(), self.simulator.offset()
        measured = run_measured(command, env, timeout=self.args.timeout, poll=self.args.poll)
        report = self.phase_report(name, measured, self.simulator.requests_since(offset), load_before)
        report["peak_rss_mb_by_role"] = by_role(measured)
        if measured.returncode == 0:
            report["script"] = json.loads(measured.output.strip().splitlines()[-1])
        report["database"] = database_url.rsplit("/", 1)[1]
        print(f"[{name}] {'ok' if report['ok'] else 'FAILED'} in {report['wall_seconds']} s", flush=True)
        return report

    def direct(self, home: Home) -> dict:
        url = home.database_url("direct_floor")
        report = self.script("direct", [sys.executable, str(ROOT / "benchmarks" / "direct_script.py"),
                                        "--database-url", url, "--oscars-base-url", self.simulator.url,
                                        "--imdb-base-url", self.simulator.imdb_url, "--first", str(self.first),
                                        "--last", str(self.last)], url, home.env)
        report["rows"] = oscar_rows(url)
        return report

    def bare(self, home: Home) -> dict:
        url = home.database_url("bare_script")
        return self.script("bare", [sys.executable, str(ROOT / "benchmarks" / "bare_script.py"), "--base-url",
                                    self.simulator.url, "--database-url", url, "--first", str(self.first),
                                    "--last", str(self.last)], url, home.env)

    def backfill(self, name: str, home: Home, arguments: list[str], simulator: Simulator | None = None) -> dict:
        """`festival-pipeline backfill ARGUMENTS` in `home`'s environment."""
        simulator = simulator or self.simulator
        command = [str(CLI), "backfill", *arguments]
        print(f"[{name}] festival-pipeline {' '.join(arguments)} (load {load()})", flush=True)
        load_before, offset = load(), simulator.offset()
        measured = run_measured(command, home.env, timeout=self.args.timeout, poll=self.args.poll)
        report = self.phase_report(name, measured, simulator.requests_since(offset), load_before)
        try:
            report["dagster"] = dagster_timeline(home, measured)
        except Exception as exc:  # the timings stand without it
            report["dagster"] = {"error": f"{type(exc).__name__}: {exc}"}
        report["peak_rss_mb_by_role"] = by_role(measured)
        report["process_lifetimes_s"] = lifetimes(measured)
        if measured.browser:
            report["browser_memory"] = measured.browser
        report["rows"] = oscar_rows(home.festival_url)
        for site in report["http"]["by_site"].values():  # fetch windows in the command's time
            site["first_s"], site["last_s"] = (round(site.pop(k) - measured.started, 2) for k in ("first", "last"))
        intervals = report["dagster"].get("breakdown", {}).get("intervals_s", {})
        print(f"[{name}] {'ok' if report['ok'] else 'FAILED'} in {report['wall_seconds']} s, "
              f"{report['http']['requests']} requests; {intervals}", flush=True)
        return report

    def years_option(self) -> list[str]:
        return [] if self.full_range else ["--years", f"{self.first}-{self.last}"]


def by_role(measured: Measured) -> list[dict]:
    """Peak RSS per process, grouped by what the process is (the largest first)."""
    groups: dict[str, list[ProcessPeak]] = {}
    for peak in measured.processes.values():
        what = re.sub(r" \([0-9a-f]{8}\)$", "", peak.role)
        what = "run worker" if what.startswith("run worker") else what
        groups.setdefault(what, []).append(peak)
    return sorted(({"what": what, "processes": len(v), "max_mb": round(max(p.peak_rss_mb for p in v), 1),
                    "sum_of_peaks_mb": round(sum(p.peak_rss_mb for p in v), 1),
                    "cpu_seconds": round(sum(p.cpu_seconds for p in v), 2)}
                   for what, v in groups.items() if max(p.peak_rss_mb for p in v) >= 5), key=lambda d: -d["max_mb"])


def lifetimes(measured: Measured) -> list[str]:
    """Every process of the tree that lived ≥ 0.5 s: from its start to the last sample that saw it
    (seconds since the command started; ± the sampling interval), its CPU seconds, what it was."""
    rows = sorted(measured.processes.values(), key=lambda p: p.created)
    return [f"{p.created - measured.started:7.2f} – {p.last_seen - measured.started:7.2f}  "
            f"cpu {p.cpu_seconds:6.2f}  {p.role}" for p in rows if p.last_seen - p.created >= 0.5]


def fetchers_available() -> bool:
    """Whether this checkout has the fetchers of issue 11 (FESTIVAL_FETCHER)."""
    from festival_pipeline import settings

    return "FESTIVAL_FETCHER" in inspect.getsource(settings)


# --------------------------------------------------------------------------- main


def parse_years(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    match = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"--years takes YEAR or FIRST-LAST, got {text!r}")
    first, last = int(match[1]), int(match[2] or match[1])
    if first > last:
        raise argparse.ArgumentTypeError(f"--years {text}: the first year is after the last")
    return first, last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", help="FIRST-LAST for every phase (default: every Oscar year, and no --years "
                                        "given to the backfill commands)")
    parser.add_argument("--single", type=int, default=2024, help="the year of the `single` phase (default 2024, "
                                                                 "else the last year of --years)")
    parser.add_argument("--skip", default="", help="comma-separated phases not to run: direct,bare,backfill,single,"
                                                   "from-archive (single and from-archive need backfill)")
    parser.add_argument("--polite", action="store_true", help="also the backfill at 1 request/s per site (~2 min)")
    parser.add_argument("--polite-all", action="store_true",
                        help="also `backfill all` at 1 request/s per site (~17 min)")
    parser.add_argument("--waf", action="store_true", help="also the polite backfill through `serve.py --waf all` "
                                                           "with FESTIVAL_FETCHER=auto (issue 11; implies --polite)")
    parser.add_argument("--waf-ttl", type=float, default=300, help="seconds a challenge token stays valid")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before a phase is killed")
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between RSS samples")
    parser.add_argument("--pgbouncer", metavar="PATH",
                        help="also unpolite backfills with Dagster's storage through this pgbouncer, against the "
                             "same on the server's socket (FESTIVAL_PGBOUNCER=off), alternating on fresh homes "
                             "(ab-pgbouncer-N, ab-direct-N)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the --pgbouncer A/B (default 2)")
    parser.add_argument("--json", help="write the whole report here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, homes)")
    args = parser.parse_args(argv)
    try:
        years = parse_years(args.years)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if not SIMULATOR.exists():
        parser.error(f"the simulator is missing: {SIMULATOR}")
    if not CLI.exists():
        parser.error(f"festival-pipeline is not installed next to {sys.executable}: pip install -e '.[test,bench]'")
    if "bare" not in skip and importlib.util.find_spec("bs4") is None:
        print("[bare] SKIPPED: beautifulsoup4 is missing (the `bench` extra): pip install -e '.[test,bench]'",
              flush=True)
        skip.add("bare")
    args.polite = args.polite or args.waf
    if args.waf and not fetchers_available():
        print("[waf] SKIPPED: this checkout has no FESTIVAL_FETCHER (the fetchers of issue 11 are not merged)",
              flush=True)
        args.waf = False

    from festival_pipeline.partitions import oscars_partitions

    keys = oscars_partitions.get_partition_keys()
    first, last = years or (int(keys[0]), int(keys[-1]))
    if years and (first < int(keys[0]) or last > int(keys[-1])):
        parser.error(f"--years must lie within the Oscar partitions {keys[0]}-{keys[-1]}")
    single = args.single if first <= args.single <= last else last

    tmp = Path(tempfile.mkdtemp(prefix="festival-bench-"))
    base_env = {k: v for k, v in os.environ.items()
                if k not in FOREIGN_VARIABLES and not k.startswith(FOREIGN_PREFIXES)}
    report: dict = {"years": f"{first}-{last}", "full_range": years is None, "cpus": os.cpu_count(),
                    "load_average_at_start": load(), "started": datetime.now(UTC).isoformat(timespec="seconds"),
                    "phases": {}}
    simulator = Simulator(tmp / "simulator.log", festivals=args.polite_all)
    waf_simulator: Simulator | None = None
    homes: list[Home] = []
    base_env.update(OSCARS_BASE_URL=simulator.url, IMDB_BASE_URL=simulator.imdb_url)
    unpolite = {**base_env, "FESTIVAL_HTTP_REQUESTS_PER_SECOND": "0"}
    bench = Bench(args, simulator, first, last)
    phases = report["phases"]
    try:
        report["simulator_warmup"] = warm(simulator, first, last, festivals=args.polite_all)
        main_home = make_home(tmp, "home", unpolite)
        homes.append(main_home)
        report["setup_seconds"] = {"home": main_home.setup_seconds}

        if "direct" not in skip:
            phases["direct"] = bench.direct(main_home)
        if "bare" not in skip:
            phases["bare"] = bench.bare(main_home)
        fingerprints: dict[str, list[tuple]] = {}
        if "direct" in phases:
            fingerprints["direct"] = nomination_fingerprint(main_home.database_url("direct_floor"))
        if "backfill" not in skip:
            phases["backfill"] = bench.backfill("backfill", main_home, ["oscars", *bench.years_option()])
            fingerprints["backfill"] = nomination_fingerprint(main_home.festival_url)
        if "single" not in skip and "backfill" in phases:  # a year again, over the backfill's rows
            phases["single"] = bench.backfill("single", main_home, ["oscars", "--years", str(single)])
            fingerprints["single"] = nomination_fingerprint(main_home.festival_url)
        if "from-archive" not in skip and "backfill" in phases:  # the backfill's archived pages
            phases["from-archive"] = bench.backfill("from-archive", main_home,
                                                    ["oscars", *bench.years_option(), "--from-archive"])
            fingerprints["from-archive"] = nomination_fingerprint(main_home.festival_url)
        main_home.stop()

        for round_number in range(1, args.rounds + 1 if args.pgbouncer else 1):
            # Dagster's storage through the embedded server's pgbouncer, then on the server's socket
            # directly (FESTIVAL_PGBOUNCER=off), on fresh homes: A B A B …
            for variant, setting in (("pgbouncer", args.pgbouncer), ("direct", "off")):
                name = f"ab-{variant}-{round_number}"
                home = make_home(tmp, f"home-{name}", {**unpolite, "FESTIVAL_PGBOUNCER": setting})
                homes.append(home)
                phases[name] = bench.backfill(name, home, ["oscars", *bench.years_option()])
                fingerprints[name] = nomination_fingerprint(home.festival_url)
                home.stop()

        polite_env = {k: v for k, v in base_env.items() if k != "FESTIVAL_HTTP_REQUESTS_PER_SECOND"}
        if args.polite:
            home = make_home(tmp, "home-polite", polite_env)
            homes.append(home)
            report["setup_seconds"]["home-polite"] = home.setup_seconds
            phases["polite"] = bench.backfill("polite", home, ["oscars", *bench.years_option()])
            fingerprints["polite"] = nomination_fingerprint(home.festival_url)
            home.stop()
        if args.waf:
            waf_simulator = Simulator(tmp / "simulator-waf.log", festivals=False, waf_ttl=args.waf_ttl)
            waf_env = {**polite_env, "OSCARS_BASE_URL": waf_simulator.url, "IMDB_BASE_URL": waf_simulator.imdb_url,
                       "FESTIVAL_FETCHER": "auto"}
            home = make_home(tmp, "home-waf", waf_env)
            homes.append(home)
            report["setup_seconds"]["home-waf"] = home.setup_seconds
            phases["waf"] = bench.backfill("waf", home, ["oscars", *bench.years_option()], simulator=waf_simulator)
            fingerprints["waf"] = nomination_fingerprint(home.festival_url)
            home.stop()
        if args.polite_all:
            home = make_home(tmp, "home-polite-all", polite_env)
            homes.append(home)
            report["setup_seconds"]["home-polite-all"] = home.setup_seconds
            phases["polite-all"] = bench.backfill("polite-all", home, ["all", *bench.years_option()])
            phases["polite-all"]["nominations_by_festival"] = nominations_by_festival(home.festival_url)
            home.stop()

        report["rows_identical_to_direct"] = {
            name: fingerprint == fingerprints["direct"] for name, fingerprint in fingerprints.items()
            if name != "direct" and "direct" in fingerprints}
        report["load_average_at_end"] = load()
        report["summary"] = summary(report, bench)
    finally:
        simulator.stop()
        if waf_simulator is not None:
            waf_simulator.stop()
        for home in homes:
            home.stop()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    text = json.dumps(report, indent=2, default=str)
    if args.json:
        Path(args.json).write_text(text + "\n")
    print(json.dumps(report["summary"], indent=2, default=str))
    return 0 if all(p["ok"] for p in phases.values()) and all(
        v is not False for v in report["summary"]["checks"].values()) else 1


def compact_run(run: dict) -> str:
    """One run on one line, in seconds since the command started: when it was created and started,
    each step's window (launched > started-ended; a page step launches when its pool slot frees)."""
    steps = ", ".join(f"{key.split('__')[-1]} {s.get('launched_s')}>{s.get('started_s')}-{s.get('ended_s')}"
                      for key, s in run["steps"].items())
    return (f"{run['range']} {run['status']}: created {run.get('created_s')}, started {run.get('started_s')}, "
            f"{steps}, ended {run.get('ended_s')}")


def summary(report: dict, bench: Bench) -> dict:
    phases = report["phases"]
    wall = {name: p["wall_seconds"] for name, p in phases.items()}

    def ratio(a: str, b: str) -> float | None:
        return round(wall[a] / wall[b], 2) if a in wall and b in wall and wall[b] else None

    from festival_pipeline.registry import FESTIVALS

    def once(name: str) -> bool | None:
        """Every page fetched once: no page served twice, the IMDb event page (its 302) once per festival
        (behind the bot wall a challenged request is repeated, so only the pages count)."""
        if name not in phases:
            return None
        http = phases[name]["http"]
        if not phases[name]["ok"] or not http["pages"]:
            return False
        redirects = len(FESTIVALS) if name == "polite-all" else 1  # each festival's event page, once
        return http["pages_fetched_more_than_once"] == 0 and (name == "waf" or http["statuses"].get("302", 0)
                                                              <= redirects)

    out: dict = {
        "years": report["years"],
        "load_average": {"at_start": report["load_average_at_start"], "at_end": report.get("load_average_at_end"),
                         **{name: p["load_average_before"] for name, p in phases.items()}},
        "wall_seconds": wall,
        "cpu_seconds": {name: p["cpu_seconds"] for name, p in phases.items()},
        "peak_rss_mb_tree": {name: p["peak_rss_mb_tree"] for name, p in phases.items()},
        "requests": {name: p["http"]["requests"] for name, p in phases.items()},
        "pages": {name: p["http"]["pages"] for name, p in phases.items()},
        "oscar_nominations": {name: p["rows"]["nominations"] for name, p in phases.items() if "rows" in p},
        "rows_identical_to_direct": report["rows_identical_to_direct"],
        "ratios": {"backfill/direct": ratio("backfill", "direct"), "backfill/bare": ratio("backfill", "bare"),
                   "bare/direct": ratio("bare", "direct"), "single/backfill": ratio("single", "backfill"),
                   "from-archive/backfill": ratio("from-archive", "backfill"), "waf/polite": ratio("waf", "polite")},
        "breakdown_s": {name: p["dagster"].get("breakdown", {}).get("intervals_s")
                        for name, p in phases.items() if "dagster" in p},
        "runs_s": {name: [compact_run(r) for r in p["dagster"].get("runs", [])]
                   for name, p in phases.items() if "dagster" in p},
        "pool_handoffs_s": {name: p["dagster"].get("breakdown", {}).get("pool_handoffs")
                            for name, p in phases.items() if "dagster" in p},
    }
    if "bare" in phases and "script" in phases["bare"]:
        out["bare_rows"] = phases["bare"]["script"].get("rows")
    direct_count = phases.get("direct", {}).get("rows", {}).get("nominations")
    checks: dict[str, bool | None] = {}  # correctness: the exit status is non-zero when one fails
    targets: dict[str, bool | None] = {  # speed (issue 12 items 4 and 5, issue 11 item 5): reported
        f"backfill <= {BACKFILL_PER_DIRECT:g} x direct": (wall["backfill"] <= BACKFILL_PER_DIRECT * wall["direct"]
                                                         if {"backfill", "direct"} <= wall.keys() else None),
        f"backfill <= {BACKFILL_PER_BARE:g} x bare": (wall["backfill"] <= BACKFILL_PER_BARE * wall["bare"]
                                                     if {"backfill", "bare"} <= wall.keys() else None),
    }
    for name in ("backfill", "polite", "polite-all", "waf"):
        if name in phases:
            checks[f"{name}: every page fetched once"] = once(name)
    if "from-archive" in phases:
        checks["from-archive fetches nothing"] = phases["from-archive"]["http"]["requests"] == 0
    for name, same in report["rows_identical_to_direct"].items():
        checks[f"{name}: Oscar rows identical to direct's ({direct_count} nominations)"] = (
            same and phases[name]["rows"]["nominations"] == direct_count)
    if "polite" in phases:
        polite = phases["polite"]
        per_site = {site: v["pages"] for site, v in polite["http"]["by_site"].items()}
        floor = max(per_site.values(), default=0) / DEFAULT_POLITENESS
        out["polite"] = {"pages_per_site": per_site, "floor_seconds": floor,
                         "ratio_to_floor": round(polite["wall_seconds"] / floor, 2) if floor else None,
                         "fetch_windows": {s: {k: v[k] for k in ("first_s", "last_s", "window_seconds")}
                                           for s, v in polite["http"]["by_site"].items()}}
        targets[f"polite <= {POLITE_SECONDS:g} s"] = (polite["wall_seconds"] <= POLITE_SECONDS
                                                      if bench.full_range else None)
    if "polite-all" in phases:
        everything = phases["polite-all"]
        imdb_pages = everything["http"]["by_site"].get("imdb.com", {}).get("pages", 0)
        limit = POLITE_ALL_PER_IMDB_PAGE * imdb_pages / DEFAULT_POLITENESS
        out["polite-all"] = {"imdb_pages": imdb_pages, "target_seconds": round(limit, 1),
                             "nominations_by_festival": everything.get("nominations_by_festival")}
        targets[f"polite-all <= {POLITE_ALL_PER_IMDB_PAGE:g} x IMDb pages s"] = everything["wall_seconds"] <= limit
    if "waf" in phases:
        waf = phases["waf"]
        out["waf"] = {"browser_memory": waf.get("browser_memory"), "statuses": waf["http"]["statuses"]}
        targets[f"waf <= {WAF_PER_POLITE:g} x polite"] = (waf["wall_seconds"] <= WAF_PER_POLITE * wall["polite"]
                                                          if "polite" in wall else None)
    out["targets"] = targets
    out["checks"] = checks
    out["all_phases_ok"] = all(p["ok"] for p in phases.values())
    return out


if __name__ == "__main__":
    raise SystemExit(main())

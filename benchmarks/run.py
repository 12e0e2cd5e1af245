"""Benchmark of `festival-pipeline backfill`, the command users run, against the floor and the yardstick.

Everything is local and thrown away afterwards: the oscars.org/IMDb simulator
(`../shared/festival_web/serve.py --log`) and fresh embedded PostgreSQL servers (a temporary
FESTIVAL_PIPELINE_HOME per group of phases, started and migrated before the phases, as they stay up
between a user's commands). Each phase is one subprocess:

  direct        benchmarks/direct_script.py (parsers + enhance + write_year, no Dagster): the floor
  bare          benchmarks/bare_script.py (requests + BeautifulSoup, no project code): the yardstick
  backfill      festival-pipeline backfill oscars, FESTIVAL_HTTP_REQUESTS_PER_SECOND=0, fresh home
  single        festival-pipeline backfill oscars --years 2024 (same home)
  from-archive  festival-pipeline backfill oscars --from-archive (same home; must fetch nothing)
  polite        (--polite) backfill oscars at the default 1 request/s per host, fresh home
  all-api       (--sources) backfill all at 1 request/s per host, IMDB_SOURCE=graphql, fresh home
  all-pages     (--sources) backfill all at 1 request/s per host, IMDB_SOURCE=pages, fresh home

    python benchmarks/run.py [--years 2020-2024] [--polite] [--sources [--pages-first]] [--skip direct,bare]
                              [--json out.json]

Per phase: wall time; the simulator's requests and bytes per host; for the backfill commands, when
the backfill was launched, its runs created, started and ended, and when it completed, from the
Dagster instance's public API (backfills, run records, run stats). Prints a summary with the checks
as true/false and exits non-zero when a phase failed or a check is false.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from dagster import DagsterInstance, RunsFilter

from festival_pipeline import settings
from festival_pipeline.database import connection, migrate
from festival_pipeline.operations import SelectionError, parse_years, partition_keys, resolve_festivals
from festival_pipeline.pools import IMDB_API_POOL, IMDB_PAGES_POOL, OSCARS_POOL
from festival_pipeline.registry import ACADEMY_AWARDS_SLUG
from festival_pipeline.runtime import instance_home

ROOT = Path(__file__).resolve().parents[1]
SIMULATOR = ROOT.parent / "shared" / "festival_web" / "serve.py"
CLI = Path(sys.executable).with_name("festival-pipeline")
SINGLE_YEAR = 2024
# the caller's settings that would point the phases elsewhere or change what they measure
FOREIGN_PREFIXES = ("FESTIVAL_", "DAGSTER_", "OSCARS_", "IMDB_", "ZYTE_", "CRAWLBASE_")
FOREIGN_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")
# the simulator serves the three hosts at one address and logs no host: a request's path names it
HOST_OF_PATH = (("/oscars/", OSCARS_POOL), ("/event/", IMDB_PAGES_POOL), ("/graphql", IMDB_API_POOL))
PAGE_HOSTS = (OSCARS_POOL, IMDB_PAGES_POOL)  # the hosts whose every path is a page, fetched once


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def host_of(path: str) -> str:
    return next((host for prefix, host in HOST_OF_PATH if path.startswith(prefix)), "other")


class Simulator:
    """serve.py as a subprocess, logging every request as a JSON line. The pace is per host, and on the
    web oscars.org, IMDb's pages and IMDb's API are three hosts: three names of the one address here."""

    def __init__(self, log: Path, festivals: bool) -> None:
        self.log = log
        log.touch()
        command = [sys.executable, str(SIMULATOR), "--host", "127.0.0.1", "--port", "0", "--log", str(log)]
        self.process = subprocess.Popen([*command, *([] if festivals else ["--no-festivals"])],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.process.stdout.readline().strip()  # "festival-web listening on http://HOST:PORT"
        if "listening on" not in line:
            self.stop()
            raise RuntimeError(f"the simulator did not start: {line!r}")
        threading.Thread(target=self.process.stdout.read, daemon=True).start()  # its pipe never fills up
        port = line.rsplit(":", 1)[1]
        self.env = {"OSCARS_BASE_URL": f"http://127.0.0.1:{port}", "IMDB_BASE_URL": f"http://localhost:{port}",
                    "IMDB_GRAPHQL_URL": f"http://127.1:{port}/graphql"}

    def requests_since(self, offset: int) -> list[dict]:
        with self.log.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode()
            return [json.loads(line) for line in text[:text.rfind("\n") + 1].splitlines()]  # whole lines only

    def stop(self) -> None:
        self.process.terminate()  # a no-op once it has exited
        self.process.wait(timeout=10)


def traffic(requests: list[dict], t0: float) -> dict:
    """Requests, bytes and the first and last request (seconds since t0) per host; statuses; pages served twice."""
    by_host: dict[str, dict] = {}
    for request in requests:
        when = round(datetime.fromisoformat(request["time"]).timestamp() - t0, 2)
        entry = by_host.setdefault(host_of(request["path"]), {"requests": 0, "bytes": 0, "first_s": when})
        entry["requests"] += 1
        entry["bytes"] += request["bytes"]
        entry["last_s"] = when
    pages = Counter(r["path"] for r in requests if r["method"] == "GET" and host_of(r["path"]) in PAGE_HOSTS)
    return {"requests": len(requests), "bytes": sum(r["bytes"] for r in requests), "by_host": by_host,
            "statuses": dict(Counter(str(r["status"]) for r in requests)),
            "pages_served_twice": sorted(path for path, n in pages.items() if n > 1)}


@dataclass
class Home:
    """A FESTIVAL_PIPELINE_HOME with its embedded server started and migrated and Dagster's storage
    created, as after a user's first command (not timed: a user pays it once)."""

    env: dict[str, str]  # the phases' environment
    dagster: instance_home.DagsterEnvironment  # Dagster's environment (DAGSTER_HOME, storage URL), festival URL

    @classmethod
    def create(cls, tmp: Path, name: str, base_env: dict[str, str]) -> Home:
        env = {**base_env, "FESTIVAL_PIPELINE_HOME": str(tmp / name)}
        home = cls(env, instance_home.prepare(settings.database_settings(env), settings.pipeline_home(env), env))
        with home.instance():  # opening it creates Dagster's tables
            pass
        return home

    @contextlib.contextmanager
    def instance(self) -> Iterator:
        # the instance's dagster.yaml reads its storage URL from this process's environment
        with mock.patch.dict(os.environ, self.dagster.env):
            instance = DagsterInstance.from_config(str(self.dagster.dagster_home))
            try:
                yield instance
            finally:
                instance.dispose()

    def database(self, name: str) -> str:
        """Another database on this home's server, created and migrated (the scripts' own)."""
        url = connection.with_database(self.dagster.festival_url, name)
        connection.ensure_database_exists(url)
        migrate.upgrade(url)
        return url

    def stop(self) -> None:
        connection.stop_embedded(settings.pipeline_home(self.env))


def nominations(database_url: str, slug: str | None = None) -> list[tuple]:
    """Every nomination (of one festival, or all) as comparable values: no ids, no timestamps."""
    with connection.transaction(database_url) as cursor:
        cursor.execute(
            """SELECT o.slug, c.year, c.edition, c.ceremony_number, n.nomination_key, n.position, n.won,
                      k.prize_name, k.name, k.category_type, k.tracks_person, n.film_title,
                      n.film_imdb_ids::text, n.person_imdb_ids::text, n.nominee_names, n.details::text
               FROM festival_nominations n JOIN festival_ceremonies c ON c.id = n.ceremony_id
               JOIN festival_organizations o ON o.id = c.organization_id
               JOIN festival_categories k ON k.id = n.category_id
               WHERE %(slug)s::text IS NULL OR o.slug = %(slug)s
               ORDER BY o.slug, c.year, c.edition, n.nomination_key""",
            {"slug": slug},
        )
        return cursor.fetchall()


def compare(rows: list[tuple], reference: list[tuple]) -> dict:
    """Whether two sets of nomination rows are equal, and how many rows only one of them has."""
    mine, theirs = Counter(rows), Counter(reference)
    return {"equal": mine == theirs, "rows": len(rows), "reference_rows": len(reference),
            "only_here": sum((mine - theirs).values()), "only_in_reference": sum((theirs - mine).values())}


# the command's wall time cut at the marks of dagster_timings, in their order
INTERVALS = ("services start + launch", "daemon submits the first run", "first run starts", "runs",
             "backfill completes", "command exits")


def dagster_timings(home: Home, before: set[str], t0: float, wall: float) -> dict:
    """The backfills the command launched (those the instance did not have before) and their runs, in
    seconds since the command started; `intervals` cuts the wall time between the marks."""

    def rel(t: float | None) -> float | None:
        return None if t is None else round(t - t0, 2)

    with home.instance() as instance:
        backfills = [b for b in instance.get_backfills() if b.backfill_id not in before]
        runs = []
        for backfill in backfills:
            for record in instance.get_run_records(RunsFilter(tags={"dagster/backfill": backfill.backfill_id})):
                run, stats = record.dagster_run, instance.get_run_stats(record.dagster_run.run_id)
                runs.append({
                    "run_id": run.run_id, "status": run.status.value,
                    "partitions": f"{run.tags.get('dagster/asset_partition_range_start')}…"
                                  f"{run.tags.get('dagster/asset_partition_range_end')}",
                    "created_s": rel(record.create_timestamp.timestamp()), "enqueued_s": rel(stats.enqueued_time),
                    "launched_s": rel(stats.launch_time), "started_s": rel(record.start_time),
                    "ended_s": rel(record.end_time), "steps_succeeded": stats.steps_succeeded,
                    "steps_failed": stats.steps_failed, "materializations": stats.materializations})
    runs.sort(key=lambda r: r["created_s"])

    def edge(values: list[float | None], pick) -> float | None:
        return pick(values) if values and None not in values else None

    marks = {"backfill_launched": rel(edge([b.backfill_timestamp for b in backfills], min)),
             "first_run_created": edge([r["created_s"] for r in runs], min),
             "first_run_started": edge([r["started_s"] for r in runs], min),
             "last_run_ended": edge([r["ended_s"] for r in runs], max),
             "backfill_completed": rel(edge([b.backfill_end_timestamp for b in backfills], max)),
             "command_ended": wall}
    intervals = {name: round(b - a, 2) if a is not None and b is not None else None
                 for name, (a, b) in zip(INTERVALS, itertools.pairwise([0.0, *marks.values()]), strict=True)}
    return {"backfills": [{"backfill_id": b.backfill_id, "status": b.status.value} for b in backfills],
            "marks_s": marks, "intervals_s": intervals, "runs": runs}


def run_phase(name: str, command: list[str], home: Home, simulator: Simulator, log: Path, timeout: float) -> dict:
    """`command` in `home`'s environment, its output in `log`: wall time, the simulator's requests, and
    for a backfill command its Dagster timings, for a script the JSON line it prints."""
    shown = " ".join(settings.redact(a) for a in [Path(command[0]).name, *command[1:]])
    print(f"[{name}] {shown} (load {load()})", flush=True)
    backfill = command[0] == str(CLI)
    if backfill:
        with home.instance() as instance:
            before = {b.backfill_id for b in instance.get_backfills()}
    offset, load_before = simulator.log.stat().st_size, load()
    t0, started = time.time(), time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(command, env=home.env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            returncode = stop_group(process)
    wall = round(time.perf_counter() - started, 2)
    report = {"ok": returncode == 0, "wall_seconds": wall, "load_before": load_before, "load_after": load(),
              "http": traffic(simulator.requests_since(offset), t0)}
    text = log.read_text(errors="replace")
    if returncode != 0:
        report["output_tail"] = text[-3000:]
    elif not backfill:
        report["script"] = json.loads(text.strip().splitlines()[-1])
    if backfill:
        report["dagster"] = dagster_timings(home, before, t0, wall)
    print(f"[{name}] {'ok' if report['ok'] else 'FAILED'} in {wall} s, {report['http']['requests']} requests"
          + (f"; {report['dagster']['intervals_s']}" if backfill else ""), flush=True)
    return report


def stop_group(process: subprocess.Popen) -> int:
    """Past the timeout: SIGTERM to the phase's process group (the command stops its services), SIGKILL 30 s on."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", help="FIRST-LAST or YEAR for every phase (default: every Oscar year, and no "
                                        "--years given to the backfill commands)")
    parser.add_argument("--skip", default="", help="phases not to run, comma-separated: direct, bare, backfill, "
                                                   "single, from-archive (the last two need backfill)")
    parser.add_argument("--polite", action="store_true", help="also backfill oscars at 1 request/s per host")
    parser.add_argument("--sources", action="store_true", help="also backfill all at 1 request/s per host through "
                                                               "IMDb's API and through its pages (~17 min each)")
    parser.add_argument("--pages-first", action="store_true", help="with --sources: all-pages before all-api (to "
                                                                   "see that the order does not decide)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before a phase is stopped")
    parser.add_argument("--json", help="write the whole report here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (homes, logs)")
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if not SIMULATOR.exists() or not CLI.exists():
        parser.error(f"needs {SIMULATOR} and festival-pipeline beside {sys.executable}: pip install -e '.[test,bench]'")
    keys = [int(key) for key in partition_keys(resolve_festivals("oscars")[0])]
    try:
        years = parse_years(args.years) if args.years else keys
    except SelectionError as exc:
        parser.error(str(exc))
    first, last = years[0], years[-1]
    if years != list(range(first, last + 1)) or first < keys[0] or last > keys[-1]:
        parser.error(f"--years must be one range within the Oscar years {keys[0]}-{keys[-1]}")
    years_option = ["--years", f"{first}-{last}"] if args.years else []

    git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    tmp = Path(tempfile.mkdtemp(prefix="festival-bench-"))
    simulator = Simulator(tmp / "simulator.log", festivals=args.sources)
    base_env = {**{k: v for k, v in os.environ.items()
                   if k not in FOREIGN_VARIABLES and not k.startswith(FOREIGN_PREFIXES)}, **simulator.env}
    report: dict = {"years": f"{first}-{last}", "commit": git.stdout.strip() or None, "cpus": os.cpu_count(),
                    "started": datetime.now(UTC).isoformat(timespec="seconds"), "load_at_start": load(), "phases": {}}
    phases, rows, homes = report["phases"], {}, []

    def home(name: str, env: dict[str, str]) -> Home:
        homes.append(Home.create(tmp, name, env))
        return homes[-1]

    def measure(name: str, command: list[str], where: Home) -> dict:
        return run_phase(name, command, where, simulator, tmp / f"{name}.log", args.timeout)

    def phase(name: str, command: list[str], where: Home, festival: str | None = ACADEMY_AWARDS_SLUG) -> None:
        """A measured phase, then the nominations it left: the festival's (None: every festival's)."""
        phases[name] = measure(name, command, where)
        rows[name] = nominations(where.dagster.festival_url, festival)

    def script(name: str, database_url: str) -> list[str]:
        """direct_script.py or bare_script.py over the years, writing into `database_url`."""
        command = [sys.executable, str(ROOT / "benchmarks" / f"{name}_script.py"), "--first", str(first),
                   "--last", str(last), "--database-url", database_url]
        if name == "bare":  # it reads both sites from one address
            return [*command, "--base-url", simulator.env["OSCARS_BASE_URL"]]
        return [*command, "--oscars-base-url", simulator.env["OSCARS_BASE_URL"],
                "--imdb-base-url", simulator.env["IMDB_BASE_URL"]]

    backfill = [str(CLI), "backfill"]
    try:
        if {"direct", "bare", "backfill"} - skip:
            main_home = home("home", {**base_env, "FESTIVAL_HTTP_REQUESTS_PER_SECOND": "0"})
            # every page of the range rendered once before timing: no phase pays the simulator's first render
            measure("warm-up", script("direct", main_home.database("warm_up")), main_home)
            if "direct" not in skip:
                floor = main_home.database("direct_floor")
                phases["direct"] = measure("direct", script("direct", floor), main_home)
                rows["direct"] = nominations(floor, ACADEMY_AWARDS_SLUG)
            if "bare" not in skip:
                phases["bare"] = measure("bare", script("bare", main_home.database("bare_script")), main_home)
            if "backfill" not in skip:
                phase("backfill", [*backfill, "oscars", *years_option], main_home)
                if "single" not in skip:
                    single = SINGLE_YEAR if first <= SINGLE_YEAR <= last else last
                    phase("single", [*backfill, "oscars", "--years", str(single)], main_home)
                if "from-archive" not in skip:
                    phase("from-archive", [*backfill, "oscars", *years_option, "--from-archive"], main_home)
        if args.polite:
            phase("polite", [*backfill, "oscars", *years_option], home("home-polite", base_env))
        if args.sources:
            sources = [("all-api", "graphql"), ("all-pages", "pages")]
            for name, source in reversed(sources) if args.pages_first else sources:
                where = home(f"home-{name}", {**base_env, "IMDB_SOURCE": source})
                phase(name, [*backfill, "all", *years_option], where, festival=None)
    finally:
        simulator.stop()
        for each in homes:
            each.stop()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    report["load_at_end"] = load()
    report["checks"] = checks(report, rows)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print_summary(report)
    return 0 if all(report["checks"].values()) else 1


def checks(report: dict, rows: dict[str, list[tuple]]) -> dict[str, bool]:
    """The correctness checks; the row comparisons behind them go to `report["rows"]`."""
    phases = report["phases"]
    pairs = {f"{name}: rows equal to direct's": (name, "direct") for name in rows
             if name not in ("direct", "all-api", "all-pages") and "direct" in rows}
    if {"all-api", "all-pages"} <= rows.keys():
        pairs["all-api: rows equal to all-pages'"] = ("all-api", "all-pages")
    report["rows"] = {check: compare(rows[a], rows[b]) for check, (a, b) in pairs.items()}
    result = {f"{name}: every page fetched once": not p["http"]["pages_served_twice"] for name, p in phases.items()}
    result.update({check: comparison["equal"] for check, comparison in report["rows"].items()})
    if "from-archive" in phases:
        result["from-archive: no request"] = phases["from-archive"]["http"]["requests"] == 0
    if "all-api" in phases:
        result["all-api: no /event/ request"] = IMDB_PAGES_POOL not in phases["all-api"]["http"]["by_host"]
    result["every phase ok"] = all(p["ok"] for p in phases.values())
    return result


def print_summary(report: dict) -> None:
    print(f"years {report['years']} at {report['commit']}, load {report['load_at_start']} → {report['load_at_end']}")
    for name, phase in report["phases"].items():
        hosts = "; ".join(f"{host} {h['requests']} requests, {h['bytes']:,} bytes"
                          for host, h in phase["http"]["by_host"].items())
        print(f"{name}: {phase['wall_seconds']} s; {hosts or 'no request'}")
        if "dagster" in phase:
            print(f"  {json.dumps(phase['dagster']['intervals_s'])}")
    for check, passed in report["checks"].items():
        compared = report["rows"].get(check)
        print(f"{str(passed).lower():5} {check}" + (f" ({compared['rows']} rows)" if compared else ""))


if __name__ == "__main__":
    raise SystemExit(main())

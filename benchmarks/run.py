"""Benchmark of the Oscar backfill: Dagster vs. a direct script, on the simulator and a fresh database.

One run, everything local (127.0.0.1) and thrown away afterwards:

* the oscars.org/IMDb simulator (`../shared/festival_web/serve.py --log`) as a subprocess,
* a fresh embedded PostgreSQL (temporary FESTIVAL_PIPELINE_HOME, free FESTIVAL_EMBEDDED_PG_PORT),

then, each phase a monitored subprocess (wall time, simulator requests, rows, peak RSS per process):

  direct      benchmarks/direct_script.py, fetch+parse+enhance+write without Dagster (the floor)
  backfill    1929-2026 through Dagster as ONE run (oscars_job, else `asset materialize --partition-range`)
  single      one partition (2024) again
  reparse     1929-2026 again with `reparse: true` on both raw page assets (must fetch nothing)
  throttled   simulator --latency-ms 200, FESTIVAL_HTTP_REQUESTS_PER_SECOND=2, the full backfill again
  profile     (--profile) the reparse run in-process under cProfile: product hot spots

    . .venv/bin/activate   # in the repository root
    python benchmarks/run.py [--first 1929] [--last 2026] [--skip-throttled] [--profile] [--json out.json]

Prints a report (and writes it as JSON with --json).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
SIMULATOR = ROOT.parent / "shared" / "festival_web" / "serve.py"
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
RAW_ASSET_OPS = ("oscars__oscars_org_ceremony_page", "oscars__imdb_edition_page")
# "... - <run id> - <pid> - [<step key> - ]<EVENT_TYPE> - ..." (dagster's console log format)
_EVENT_LINE = re.compile(
    r" - (?P<run>[0-9a-f]{8}-[0-9a-f-]{27}) - (?P<pid>\d+) - (?:(?P<step>[\w.\[\]-]+) - )?(?P<event>[A-Z_]+) - "
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --------------------------------------------------------------------------- the simulator


class Simulator:
    """serve.py as a subprocess, logging every request as one JSON line."""

    def __init__(self, log: Path, latency_ms: int = 0) -> None:
        self.log = log
        command = [sys.executable, str(SIMULATOR), "--host", "127.0.0.1", "--port", "0", "--no-festivals",
                   "--log", str(log), "--latency-ms", str(latency_ms)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.process.stdout.readline().strip()  # "festival-web listening on http://HOST:PORT"
        if "listening on" not in line:
            self.stop()
            raise RuntimeError(f"simulator did not start: {line!r}")
        self.url = line.rsplit(" ", 1)[1]

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


def host_of(path: str) -> str:
    """The site a simulator path stands for (both sites are served at one address)."""
    return "oscars.org" if path.startswith("/oscars/") else "imdb.com" if path.startswith("/event/") else "other"


def summarize_requests(requests_: list[dict]) -> dict:
    pages = [r for r in requests_ if r["status"] == 200]
    paths = Counter(r["path"] for r in pages)
    by_host: dict[str, dict] = {}
    for host in ("oscars.org", "imdb.com"):
        mine = [r for r in requests_ if host_of(r["path"]) == host]
        by_host[host] = {
            "requests": len(mine),
            "pages": sum(1 for r in mine if r["status"] == 200),
            "first": mine[0]["time"] if mine else None,
            "last": mine[-1]["time"] if mine else None,
        }
    return {
        "requests": len(requests_),
        "pages": len(pages),
        "distinct_pages": len(paths),
        "pages_fetched_more_than_once": sorted(p for p, n in paths.items() if n > 1)[:10],
        "statuses": dict(Counter(str(r["status"]) for r in requests_)),
        "bytes": sum(r["bytes"] for r in pages),
        "by_host": by_host,
    }


# --------------------------------------------------------------------------- process monitoring


@dataclass
class ProcessPeak:
    pid: int
    command: str
    peak_rss_mb: float = 0.0
    step: str | None = None


@dataclass
class Measured:
    seconds: float
    returncode: int
    output: str
    processes: dict[int, ProcessPeak] = field(default_factory=dict)
    peak_tree_rss_mb: float = 0.0


def _command(process: psutil.Process) -> str:
    try:
        cmd = process.cmdline()
    except (psutil.Error, OSError):
        return "?"
    text = " ".join(cmd)
    if "multiprocessing.forkserver" in text:  # the step server, and the steps forked from it
        return "python (multiprocessing forkserver: the step server or a step forked from it)"
    if "multiprocessing" in text:
        return "python (multiprocessing spawn: a Dagster step)"
    if "watch_orphans" in text:
        return "python dagster watch_orphans"
    return " ".join(Path(cmd[0]).name if i == 0 else c for i, c in enumerate(cmd[:8]))[:140]


def run_measured(command: list[str], env: dict[str, str], timeout: float = 1800, poll: float = 0.05) -> Measured:
    """Run `command`, polling the RSS of its whole process tree; peak RSS per process and of the tree."""
    started = time.perf_counter()
    out = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed below, after the child exits
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True)
    peaks: dict[int, ProcessPeak] = {}
    tree_peak = 0.0
    root = psutil.Process(process.pid)
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        if time.monotonic() > deadline:
            for child in root.children(recursive=True):
                child.kill()
            process.kill()
            break
        total = 0.0
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            tree = []
        for member in tree:
            try:
                rss = member.memory_info().rss / 2**20
            except psutil.Error:
                continue
            total += rss
            peak = peaks.get(member.pid)
            if peak is None:
                peak = peaks[member.pid] = ProcessPeak(member.pid, _command(member))
            peak.peak_rss_mb = max(peak.peak_rss_mb, rss)
        tree_peak = max(tree_peak, total)
        time.sleep(poll)
    returncode = process.wait()
    seconds = time.perf_counter() - started
    out.seek(0)
    output = out.read()
    out.close()
    return Measured(seconds, returncode, output, peaks, tree_peak)


def attribute_steps(measured: Measured) -> str | None:
    """Name each process by the Dagster step it ran (from the console log); returns the run id."""
    run_id = None
    for match in _EVENT_LINE.finditer(measured.output):
        run_id = run_id or match["run"]
        peak = measured.processes.get(int(match["pid"]))
        if peak is not None:
            peak.step = match["step"] or "run coordinator (multiprocess executor)"
    return run_id


# --------------------------------------------------------------------------- database facts


def rows(database_url: str) -> dict[str, int]:
    from festival_pipeline.database import connection

    with connection.transaction(database_url) as cursor:
        cursor.execute(
            """SELECT (SELECT count(*) FROM festival_ceremonies c JOIN festival_organizations o
                         ON o.id = c.organization_id AND o.slug = 'academy-awards'),
                      (SELECT count(*) FROM festival_categories c JOIN festival_organizations o
                         ON o.id = c.organization_id AND o.slug = 'academy-awards'),
                      (SELECT count(*) FROM festival_nominations n JOIN festival_ceremonies c ON c.id = n.ceremony_id
                         JOIN festival_organizations o ON o.id = c.organization_id AND o.slug = 'academy-awards'),
                      (SELECT count(*) FROM raw_pages)"""
        )
        ceremonies, categories, nominations, raw_pages = cursor.fetchone()
    return {"ceremonies": ceremonies, "categories": categories, "nominations": nominations, "raw_pages": raw_pages}


def nomination_fingerprint(database_url: str) -> list[tuple]:
    """Every Oscar nomination as comparable values (no ids, no timestamps)."""
    from festival_pipeline.database import connection

    with connection.transaction(database_url) as cursor:
        cursor.execute(
            """SELECT c.year, n.nomination_key, n.won, k.prize_name, k.name, n.film_title, n.film_imdb_ids,
                      n.person_imdb_ids, n.nominee_names, n.position
               FROM festival_nominations n JOIN festival_ceremonies c ON c.id = n.ceremony_id
               JOIN festival_organizations o ON o.id = c.organization_id AND o.slug = 'academy-awards'
               JOIN festival_categories k ON k.id = n.category_id
               ORDER BY c.year, n.nomination_key"""
        )
        return cursor.fetchall()


def run_facts(run_id: str | None) -> dict:
    """Step windows and the nominations write counts of a Dagster run, from the instance's event log."""
    if run_id is None:
        return {}
    from dagster import DagsterInstance

    instance = DagsterInstance.get()
    try:
        steps: dict[str, dict[str, float]] = {}
        changes: dict[str, object] = {}
        run_window: dict[str, float] = {}
        for entry in instance.all_logs(run_id):
            event = entry.dagster_event
            if event is None:
                continue
            kind = event.event_type_value
            run_window.setdefault("first_event", entry.timestamp)  # the run's first planned event
            if kind in ("PIPELINE_SUCCESS", "PIPELINE_FAILURE"):
                run_window["end"] = entry.timestamp
            if entry.step_key and kind in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
                steps.setdefault(entry.step_key, {})["start" if kind == "STEP_START" else "end"] = entry.timestamp
            if kind == "ASSET_MATERIALIZATION":
                materialization = event.event_specific_data.materialization
                if materialization.asset_key.to_user_string() == "oscars/festival_nominations":
                    changes = {k: materialization.metadata[k].value
                               for k in ("inserted", "updated", "deleted", "dagster/row_count")
                               if k in materialization.metadata}
                if materialization.asset_key.to_user_string().endswith("_page"):
                    fetched = materialization.metadata.get("pages_fetched")
                    changes.setdefault("pages_fetched_by_asset", {})[
                        materialization.asset_key.to_user_string()] = fetched.value if fetched else None
        first = min((s["start"] for s in steps.values() if "start" in s), default=None)
        windows = {
            step: {"start_s": round(s["start"] - first, 2), "end_s": round(s.get("end", s["start"]) - first, 2),
                   "seconds": round(s.get("end", s["start"]) - s["start"], 2)}
            for step, s in sorted(steps.items(), key=lambda kv: kv[1].get("start", 0))
        }
        run_seconds = (round(run_window["end"] - run_window["first_event"], 2)
                       if {"end", "first_event"} <= run_window.keys() else None)
        # run_seconds: from the run's first event to its end, i.e. without the CLI's own start-up
        return {"run_id": run_id, "run_seconds": run_seconds, "steps": windows, "writes": changes}
    finally:
        instance.dispose()


# --------------------------------------------------------------------------- dagster commands


def oscars_job_available() -> bool:
    """Whether festival_pipeline.jobs defines `oscars_job` and the Definitions carry it."""
    if os.environ.get("FESTIVAL_BENCH_ASSET_MATERIALIZE"):
        return False
    try:
        from festival_pipeline.definitions import defs

        defs.resolve_job_def("oscars_job")
        return True
    except Exception:
        return False


def dagster_command(tmp: Path, first: str, last: str | None = None, reparse: bool = False) -> list[str]:
    """The CLI command of one run: a range (last given) or a single partition."""
    base = [sys.executable, "-m", "dagster"]
    config = {"ops": {op: {"config": {"reparse": True}} for op in RAW_ASSET_OPS}} if reparse else None
    if oscars_job_available():
        tags = {RANGE_START: first, RANGE_END: last} if last else {"dagster/partition": first}
        command = [*base, "job", "execute", "-m", "festival_pipeline.definitions", "-j", "oscars_job",
                   "--tags", json.dumps(tags)]
        if config:
            path = tmp / "reparse.yaml"
            path.write_text(json.dumps(config))  # JSON is YAML
            command += ["-c", str(path)]
        return command
    command = [*base, "asset", "materialize", "-m", "festival_pipeline.definitions", "--select", "group:oscars"]
    command += ["--partition-range", f"{first}...{last}"] if last else ["--partition", first]
    if config:
        command += ["--config-json", json.dumps(config)]
    return command


# --------------------------------------------------------------------------- phases


def phase_report(name: str, measured: Measured, simulator: Simulator, offset: int, database_url: str,
                 run_facts_: dict | None = None) -> dict:
    requests_ = simulator.requests_since(offset)
    report = {
        "phase": name,
        "ok": measured.returncode == 0,
        "wall_seconds": round(measured.seconds, 2),
        "http": summarize_requests(requests_),
        "rows": rows(database_url),
        "peak_rss_mb_tree": round(measured.peak_tree_rss_mb, 1),
        "peak_rss_mb_by_process": sorted(
            ({"pid": p.pid, "what": p.step or p.command, "peak_rss_mb": round(p.peak_rss_mb, 1)}
             for p in measured.processes.values() if p.peak_rss_mb >= 5),
            key=lambda d: -d["peak_rss_mb"],
        ),
    }
    if run_facts_:
        report["dagster"] = run_facts_
    if measured.returncode != 0:
        report["output_tail"] = measured.output[-3000:]
    return report


def warm(simulator: Simulator, first: int, last: int) -> float:
    """Render every page once so no phase pays the simulator's first-render cost."""
    import requests

    started = time.perf_counter()
    with requests.Session() as session:
        session.get(f"{simulator.url}/event/ev0000003/", timeout=60)
        for year in range(first, last + 1):
            session.get(f"{simulator.url}/oscars/ceremonies/{year}", timeout=60)
        latest = session.get(f"{simulator.url}/event/ev0000003/", timeout=60)
        from festival_pipeline.parsers import parse_imdb_edition_page

        for edition in parse_imdb_edition_page(latest.text, latest.url).editions:
            session.get(f"{simulator.url}/event/ev0000003/{edition.year}/{edition.instance}/", timeout=60)
    return time.perf_counter() - started


def dagster_phase(name: str, command: list[str], env: dict[str, str], simulator: Simulator, database_url: str) -> dict:
    print(f"[{name}] {' '.join(command[2:])}", flush=True)
    offset = simulator.offset()
    measured = run_measured(command, env)
    run_id = attribute_steps(measured)
    report = phase_report(name, measured, simulator, offset, database_url, run_facts(run_id))
    print(f"[{name}] {'ok' if report['ok'] else 'FAILED'} in {report['wall_seconds']} s, "
          f"{report['http']['requests']} requests", flush=True)
    return report


def profile_in_process(tmp: Path, first: str, last: str, top: int = 25) -> dict:
    """The reparse run in this process under cProfile (in-process executor): where the time goes."""
    from dagster import DagsterInstance, materialize

    from festival_pipeline.assets.oscars import oscars_assets
    from festival_pipeline.resources import FestivalDatabase, source_websites_from_env

    config = {"ops": {op: {"config": {"reparse": True}} for op in RAW_ASSET_OPS}}
    instance = DagsterInstance.get()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    try:
        result = profiler.runcall(
            materialize, oscars_assets, instance=instance, run_config=config,
            resources={"festival_db": FestivalDatabase(), "sites": source_websites_from_env()},
            tags={RANGE_START: first, RANGE_END: last}, raise_on_error=False,
        )
    finally:
        instance.dispose()
    seconds = time.perf_counter() - started
    path = tmp / "reparse.prof"
    profiler.dump_stats(path)
    stats = pstats.Stats(str(path))
    total = stats.total_tt

    def table(key: str, only_product: bool) -> list[dict]:
        rows_ = []
        for (filename, line, function), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():
            if only_product and "festival_pipeline" not in filename:
                continue
            rows_.append({"function": f"{Path(filename).name}:{line}({function})", "calls": calls,
                          "tottime_s": round(tottime, 2), "cumtime_s": round(cumtime, 2),
                          "module": filename.split("site-packages/")[-1].split(f"{ROOT}/")[-1]})
        return sorted(rows_, key=lambda r: -r[key])[:top]

    buffer = io.StringIO()
    pstats.Stats(str(path), stream=buffer).sort_stats("cumulative").print_stats("festival_pipeline", top)
    return {
        "ok": result.success,
        "seconds_under_profiler": round(seconds, 2),
        "profiled_seconds": round(total, 2),
        "product_by_cumulative": table("cumtime_s", True),
        "all_by_self_time": table("tottime_s", False),
        "profile_file": str(path),
    }


def direct_phase(env: dict[str, str], simulator: Simulator, database_url: str, first: int, last: int) -> dict:
    command = [sys.executable, str(ROOT / "benchmarks" / "direct_script.py"), "--database-url", database_url,
               "--oscars-base-url", simulator.url, "--imdb-base-url", simulator.url,
               "--first", str(first), "--last", str(last)]
    print(f"[direct] {' '.join(command[1:3])} …", flush=True)
    offset = simulator.offset()
    measured = run_measured(command, env)
    report = phase_report("direct", measured, simulator, offset, database_url)
    if measured.returncode == 0:
        report["script"] = json.loads(measured.output.strip().splitlines()[-1])
    print(f"[direct] {'ok' if report['ok'] else 'FAILED'} in {report['wall_seconds']} s", flush=True)
    return report


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", default="1929")
    parser.add_argument("--last", default="2026")
    parser.add_argument("--single", default="2024", help="the partition of the single-partition rerun")
    parser.add_argument("--skip-throttled", action="store_true")
    parser.add_argument("--throttled-latency-ms", type=int, default=200)
    parser.add_argument("--throttled-rps", type=float, default=2.0)
    parser.add_argument("--profile", action="store_true", help="also profile a reparse run in-process (slow)")
    parser.add_argument("--json", help="write the report here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, profile)")
    parser.add_argument("--asset-materialize", action="store_true",
                        help="use `dagster asset materialize --partition-range` even when oscars_job exists")
    args = parser.parse_args(argv)
    if not SIMULATOR.exists():
        parser.error(f"the simulator is missing: {SIMULATOR}")

    tmp = Path(tempfile.mkdtemp(prefix="festival-bench-"))
    tmp.chmod(0o711)  # as root the embedded server's account must pass through (it is never opened up for it)
    home, port = tmp / "home", free_port()
    for var in ("FESTIVAL_DATABASE_URL", "FESTIVAL_DAGSTER_DATABASE_URL", "FESTIVAL_PROXY_URL_TEMPLATE"):
        os.environ.pop(var, None)
    simulator = Simulator(tmp / "simulator.log")
    os.environ.update(
        FESTIVAL_PIPELINE_HOME=str(home), FESTIVAL_EMBEDDED_PG_PORT=str(port),
        OSCARS_BASE_URL=simulator.url, IMDB_BASE_URL=simulator.url, FESTIVAL_HTTP_REQUESTS_PER_SECOND="0",
    )
    if args.asset_materialize:
        os.environ["FESTIVAL_BENCH_ASSET_MATERIALIZE"] = "1"
    report: dict = {"range": f"{args.first}...{args.last}", "cpus": os.cpu_count(),
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()], "phases": {}}
    throttled_sim: Simulator | None = None
    try:
        from festival_pipeline.database import connection, migrate
        from festival_pipeline.runtime import instance_home

        t = time.perf_counter()
        env = instance_home.prepare()  # starts the embedded server, migrates, lays out DAGSTER_HOME
        instance_home.apply(env)
        report["setup_seconds"] = round(time.perf_counter() - t, 2)
        festival_url = connection.resolve_database_urls().festival
        direct_url = festival_url.rsplit("/", 1)[0] + "/direct_floor"
        connection.ensure_database_exists(direct_url)
        migrate.upgrade(direct_url)
        report["oscars_job"] = oscars_job_available()
        report["simulator_warmup_seconds"] = round(warm(simulator, int(args.first), int(args.last)), 2)

        organizations = run_measured([sys.executable, "-m", "dagster", "asset", "materialize", "-m",
                                      "festival_pipeline.definitions", "--select", "festival_organizations"], env)
        report["organizations_seconds"] = round(organizations.seconds, 2)

        phases = report["phases"]
        phases["direct"] = direct_phase(env, simulator, direct_url, int(args.first), int(args.last))
        phases["backfill"] = dagster_phase("backfill", dagster_command(tmp, args.first, args.last), env,
                                           simulator, festival_url)
        phases["single"] = dagster_phase("single", dagster_command(tmp, args.single), env, simulator, festival_url)
        phases["reparse"] = dagster_phase("reparse", dagster_command(tmp, args.first, args.last, reparse=True),
                                          env, simulator, festival_url)
        report["same_rows_as_direct"] = nomination_fingerprint(festival_url) == nomination_fingerprint(direct_url)

        if not args.skip_throttled:
            throttled_sim = Simulator(tmp / "simulator-throttled.log", latency_ms=args.throttled_latency_ms)
            throttled_env = {**env, "OSCARS_BASE_URL": throttled_sim.url, "IMDB_BASE_URL": throttled_sim.url,
                             "FESTIVAL_HTTP_REQUESTS_PER_SECOND": str(args.throttled_rps)}
            phases["throttled"] = dagster_phase("throttled", dagster_command(tmp, args.first, args.last),
                                                throttled_env, throttled_sim, festival_url)

        if args.profile:
            print("[profile] reparse run in-process under cProfile …", flush=True)
            report["profile"] = profile_in_process(tmp, args.first, args.last)

        report["summary"] = summary(report, args)
    finally:
        simulator.stop()
        if throttled_sim is not None:
            throttled_sim.stop()
        try:
            from festival_pipeline.database.embedded import EmbeddedPostgres

            EmbeddedPostgres(home, port).stop()
        except Exception as exc:
            print(f"could not stop the embedded PostgreSQL: {exc}", file=sys.stderr)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    text = json.dumps(report, indent=2, default=str)
    if args.json:
        Path(args.json).write_text(text + "\n")
    print(json.dumps(report["summary"], indent=2))
    return 0 if all(p["ok"] for p in report["phases"].values()) else 1


def summary(report: dict, args: argparse.Namespace) -> dict:
    phases = report["phases"]
    direct, backfill = phases["direct"], phases["backfill"]
    out: dict = {
        "wall_seconds": {name: p["wall_seconds"] for name, p in phases.items()},
        "peak_rss_mb_tree": {name: p["peak_rss_mb_tree"] for name, p in phases.items()},
        "requests": {name: p["http"]["requests"] for name, p in phases.items()},
        "pages": {name: p["http"]["pages"] for name, p in phases.items()},
        "rows_after_backfill": backfill["rows"],
        "rows_direct": direct["rows"],
        "same_rows_as_direct": report["same_rows_as_direct"],
        "ratio_backfill_to_direct": round(backfill["wall_seconds"] / direct["wall_seconds"], 2),
        "ratio_single_to_backfill": round(phases["single"]["wall_seconds"] / backfill["wall_seconds"], 3),
        "ratio_reparse_to_backfill": round(phases["reparse"]["wall_seconds"] / backfill["wall_seconds"], 2),
        "targets": {
            "backfill <= 3x direct": backfill["wall_seconds"] <= 3 * direct["wall_seconds"],
            "every page fetched once per backfill": not backfill["http"]["pages_fetched_more_than_once"]
            and backfill["http"]["pages"] == backfill["http"]["distinct_pages"],
            "reparse fetches nothing": phases["reparse"]["http"]["requests"] == 0,
        },
    }
    out["run_seconds"] = {name: p.get("dagster", {}).get("run_seconds") for name, p in phases.items()
                          if name != "direct"}
    for name in ("backfill", "reparse"):
        steps = phases[name].get("dagster", {}).get("steps", {})
        out[f"{name}_step_seconds"] = {k: v["seconds"] for k, v in steps.items()}
    if "throttled" in phases:
        throttled = phases["throttled"]
        per_host = {h: v["pages"] for h, v in throttled["http"]["by_host"].items()}
        target = 1.2 * max(per_host.values()) / args.throttled_rps
        steps = throttled.get("dagster", {}).get("steps", {})
        fetch_steps = [steps[s] for s in RAW_ASSET_OPS if s in steps]
        fetch_window = (max(s["end_s"] for s in fetch_steps) - min(s["start_s"] for s in fetch_steps)
                        if fetch_steps else None)
        overlap = (min(s["end_s"] for s in fetch_steps) - max(s["start_s"] for s in fetch_steps)
                   if len(fetch_steps) == 2 else None)
        out["throttled"] = {
            "pages_per_host": per_host,
            "target_seconds": round(target, 1),
            "wall_seconds": throttled["wall_seconds"],
            "run_seconds": throttled.get("dagster", {}).get("run_seconds"),
            "fetch_steps_window_seconds": fetch_window,
            "fetch_steps_overlap_seconds": overlap,
            "step_seconds": {k: v["seconds"] for k, v in steps.items()},
            "by_host": throttled["http"]["by_host"],
        }
        out["targets"]["throttled: hosts fetched in parallel"] = bool(overlap and overlap > 0)
        out["targets"]["throttled: fetch window <= 1.2 x pages/host / rps"] = bool(
            fetch_window is not None and fetch_window <= target)
        out["targets"]["throttled: whole backfill <= 1.2 x pages/host / rps"] = throttled["wall_seconds"] <= target
    if "profile" in report:
        out["profile_top_product"] = report["profile"]["product_by_cumulative"][:12]
    return out


if __name__ == "__main__":
    raise SystemExit(main())

"""Stopping a command stops everything it started: process_group and `festival-pipeline dev`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from festival_pipeline.runtime.process_group import run_in_process_group
from festival_pipeline.runtime.services import free_port
from festival_pipeline_tests.conftest import create_database, stop_on_sigterm

CLI = str(Path(sys.executable).with_name("festival-pipeline"))
# a command whose children are Python's own (a shell would make background jobs ignore SIGINT)
SPAWNS_TWO_SLEEPERS = ("import subprocess, time; [subprocess.Popen(['sleep', '300']) for _ in range(2)]; "
                       "time.sleep(300)")


def _runner(command: list[str], grace_seconds: float) -> subprocess.Popen:
    """A Python process that runs `command` through run_in_process_group and exits with its code."""
    script = ("import sys; from festival_pipeline.runtime.process_group import run_in_process_group; "
              f"sys.exit(run_in_process_group({command!r}, grace_seconds={grace_seconds}))")
    return subprocess.Popen([sys.executable, "-c", script], start_new_session=True)


def _wait_for(condition: Callable[[], object], seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _cmdline(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:  # gone (or a zombie) since it was listed
        return ""


def _kill(processes: list[psutil.Process]) -> None:
    """Clean up after a failed test: nothing it started stays on the machine."""
    for process in processes:
        try:
            process.kill()
        except psutil.Error:
            continue


def _alive(processes: list[psutil.Process]) -> list[str]:
    left = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{process.pid} {_cmdline(process)[:120]}")
        except psutil.NoSuchProcess:
            continue
    return left


@pytest.mark.parametrize(("received", "child_dies_of"),
                         [(signal.SIGTERM, signal.SIGTERM), (signal.SIGINT, signal.SIGINT),
                          (signal.SIGHUP, signal.SIGTERM)])  # a closed terminal stops it as SIGTERM would
def test_a_stop_signal_reaches_every_process_of_the_command(received: signal.Signals,
                                                            child_dies_of: signal.Signals) -> None:
    runner = _runner([sys.executable, "-c", SPAWNS_TWO_SLEEPERS], grace_seconds=30)
    started: list[psutil.Process] = []
    try:
        started = _wait_for(lambda: len(_descendants(runner.pid)) >= 3 and _descendants(runner.pid), 30,
                            "the command and its two children")
        runner.send_signal(received)
        assert runner.wait(timeout=20) == 128 + child_dies_of  # well before the 30 s grace: nobody was killed
        assert _alive(started) == []
    finally:
        _kill([psutil.Process(runner.pid), *started] if runner.poll() is None else started)


def test_a_command_ignoring_sigterm_is_killed_after_the_grace_period() -> None:
    runner = _runner(["/bin/sh", "-c", "trap '' TERM; sleep 300 & wait"], grace_seconds=2)
    started: list[psutil.Process] = []
    try:
        started = _wait_for(lambda: len(_descendants(runner.pid)) >= 2 and _descendants(runner.pid), 30,
                            "the shell and its sleep")
        began = time.monotonic()
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=20) == 128 + signal.SIGKILL
        assert 2 <= time.monotonic() - began < 10
        assert _alive(started) == []
    finally:
        _kill([psutil.Process(runner.pid), *started] if runner.poll() is None else started)


def _callers_handler(signum: int, _frame: object) -> None:
    raise AssertionError(f"signal {signum} reached the caller's own handler")


def test_what_a_command_leaves_behind_is_stopped_and_its_exit_code_returned(tmp_path: Path) -> None:
    # the caller's handlers come back afterwards, whatever they were (inside pytest, Dagster's
    # in-process runs leave SIGTERM mapped to KeyboardInterrupt: so set our own, known ones)
    stop_signals = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    saved = {signum: signal.signal(signum, _callers_handler) for signum in stop_signals}
    try:
        pid_file = tmp_path / "sleeper.pid"
        code = run_in_process_group(["/bin/sh", "-c", f"sleep 300 & echo $! > {pid_file}; exit 3"],
                                    grace_seconds=10)
        handlers_after = {signum: signal.getsignal(signum) for signum in stop_signals}
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    assert code == 3
    sleeper = int(pid_file.read_text())
    assert _alive([psutil.Process(sleeper)] if psutil.pid_exists(sleeper) else []) == []
    assert handlers_after == dict.fromkeys(stop_signals, _callers_handler)  # our handlers are gone again


def _dagster_processes_of(home: Path) -> list[psutil.Process]:
    """Every running process on the machine with `dagster` in its command line whose environment
    says it serves `home` (other people's Dagster processes on this machine are not ours)."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        try:
            if "dagster" not in " ".join(process.info["cmdline"] or []) or process.status() == psutil.STATUS_ZOMBIE:
                continue
            if process.environ().get("FESTIVAL_PIPELINE_HOME") == str(home):
                found.append(process)
        except psutil.Error:
            continue
    return found


def _ui_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.integration  # starts Dagster's services
def test_sigterm_to_festival_pipeline_dev_leaves_no_dagster_process(pg_home: Path, tmp_path: Path) -> None:
    ui_port = free_port()
    env = {key: value for key, value in os.environ.items()
           if key not in ("FESTIVAL_DATABASE_URL", "FESTIVAL_DAGSTER_DATABASE_URL")}
    env.update(FESTIVAL_PIPELINE_HOME=str(pg_home))
    log = tmp_path / "dev.log"
    with log.open("w") as output:
        dev = subprocess.Popen([CLI, "dev", "--port", str(ui_port)], env=env, stdout=output, stderr=subprocess.STDOUT,
                               start_new_session=True)
    tree: list[psutil.Process] = []
    try:
        def services_up() -> bool:
            names = " ".join(_cmdline(process) for process in _descendants(dev.pid))
            services = ("dagster_webserver", "dagster._daemon", "dagster api grpc")
            return all(name in names for name in services) and _ui_answers(f"http://127.0.0.1:{ui_port}/server_info")

        _wait_for(services_up, 240, f"the webserver, daemon and code server (log {log})")
        tree = _descendants(dev.pid)
        by_command_line = _dagster_processes_of(pg_home)
        assert len(by_command_line) >= 4, [_cmdline(p)[:100] for p in by_command_line]  # the check works

        dev.send_signal(signal.SIGTERM)
        code = dev.wait(timeout=90)
        assert _alive(tree) == []
        assert _alive(by_command_line) == [] and _dagster_processes_of(pg_home) == []
        assert code == 0, log.read_text()[-2000:]  # Dagster shut down cleanly
        assert "Dagster services shut down" in log.read_text()
        assert "Warning" not in log.read_text()  # `dg dev`: no "dev_command is superseded … Use 'dg dev'"
    finally:
        _kill([psutil.Process(dev.pid), *_descendants(dev.pid)] if dev.poll() is None else [])
        _kill(tree + _dagster_processes_of(pg_home))  # the server itself: the pg_home fixture


@pytest.mark.integration  # starts a Dagster code server
def test_a_code_server_started_with_sigint_ignored_still_stops_on_sigterm(pg_server, tmp_path: Path) -> None:
    """A background job of a script (`festival-pipeline serve code-server &`) starts with SIGINT
    ignored, and Dagster's code server handles SIGTERM as it handles SIGINT: it ignored SIGTERM too,
    and a deployment could only kill it."""
    env = {**os.environ, "FESTIVAL_DATABASE_URL": create_database(pg_server, "sigint"),
           "FESTIVAL_PIPELINE_HOME": str(tmp_path / "home")}
    log = tmp_path / "code-server.log"
    with log.open("w") as output:
        server = subprocess.Popen([CLI, "serve", "code-server", "--port", str(free_port())], env=env, stdout=output,
                                  stderr=subprocess.STDOUT, start_new_session=True,
                                  preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        _wait_for(lambda: "Started Dagster code proxy server" in log.read_text(), 120, f"the code server (log {log})")
        children = psutil.Process(server.pid).children(recursive=True)
        assert any("api grpc" in _cmdline(process) for process in children)  # the server it runs the code in

        assert stop_on_sigterm("code server", server) is None, f"log {log}"
    finally:
        if server.poll() is None:  # it failed before the stop
            os.killpg(server.pid, signal.SIGKILL)


def test_the_services_a_command_starts_do_not_inherit_an_ignored_sigint(tmp_path: Path) -> None:
    """`festival-pipeline backfill … &` in a script runs with SIGINT ignored; the code server it starts
    must still stop on SIGTERM (see the test above)."""
    from festival_pipeline.runtime.services import Service

    probe = "import signal; print('ignored' if signal.getsignal(signal.SIGINT) == signal.SIG_IGN else 'default')"
    service = Service("probe", [sys.executable, "-c", probe], tmp_path / "probe.log")
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        service.start(os.environ, cwd=tmp_path)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert service.process.wait(timeout=30) == 0
    assert service.log_path.read_text().strip() == "default"


def test_a_service_that_ignores_sigterm_is_killed_with_its_children_after_its_timeout(tmp_path: Path) -> None:
    """DagsterStack.close gives the code server a few seconds: one that does not stop (a call in
    flight) is killed then, with what it started, instead of being waited on."""
    from festival_pipeline.runtime.services import Service

    stubborn = ("import signal, subprocess, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "subprocess.Popen(['sleep', '300']); print('ready', flush=True); time.sleep(300)")
    service = Service("stubborn", [sys.executable, "-c", stubborn], tmp_path / "stubborn.log")
    service.start(os.environ, cwd=tmp_path)
    deadline = time.monotonic() + 30
    while "ready" not in service.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    children = psutil.Process(service.process.pid).children(recursive=True)
    assert len(children) == 1
    service.stop(timeout=0.5)
    assert service.process.returncode == -signal.SIGKILL  # SIGTERM was ignored: killed, not waited on
    assert not any(child.is_running() and child.status() != psutil.STATUS_ZOMBIE for child in children)


@pytest.mark.integration  # starts Dagster's services
def test_plain_dg_dev_serves_the_ui_in_the_repo_root(pg_home: Path) -> None:
    """`dg dev` as Dagster's docs teach it: in the repo root, nothing set but the festival home."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DAGSTER_", "FESTIVAL_"))}
    env["FESTIVAL_PIPELINE_HOME"] = str(pg_home)
    root = Path(__file__).resolve().parents[1]
    dev = subprocess.Popen([str(Path(sys.executable).with_name("dg")), "dev", "--port", str(port)], cwd=root, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for(lambda: _ui_answers(f"http://127.0.0.1:{port}/server_info") or dev.poll() is not None, 240,
                  "dg dev's webserver")
        assert dev.poll() is None, "dg dev exited"
        graphql = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", method="POST",
                                         data=b'{"query": "{ assetNodes { assetKey { path } } }"}',
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(graphql, timeout=60) as response:
            assert b'"festival_nominations"' in response.read()  # the code location is loaded
    finally:
        assert stop_on_sigterm("dg dev", dev) is None

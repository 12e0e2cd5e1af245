"""Dagster's three services for this project — the gRPC code server, the webserver and the daemon —
started as separate processes on one instance.

`festival-pipeline serve …` runs one of them in the foreground; `festival-pipeline backfill` starts
the ones that are not already running (a code server and a webserver to talk GraphQL to, a daemon
to launch the backfill's runs) for as long as it runs, and stops them at the end.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests
import yaml

from festival_pipeline.runtime.instance_home import write_atomically

DEFINITIONS_MODULE = "festival_pipeline.definitions"
LOCATION_NAME = "festival_pipeline"
STOP_TIMEOUT_SECONDS = 30
CODE_SERVER_STOP_SECONDS = 3  # when the command that started it stops it: see DagsterStack.close
DEV_STATE_FILE = "dev.json"  # in FESTIVAL_PIPELINE_HOME: the webserver of a running `festival-pipeline dev`


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def code_server_command(host: str, port: int) -> list[str]:
    """Dagster's code server (it can reload the code without a restart: for deployments)."""
    return [sys.executable, "-m", "dagster", "code-server", "start", "-m", DEFINITIONS_MODULE, "-h", host,
            "-p", str(port), "--location-name", LOCATION_NAME]


def grpc_server_command(port: int) -> list[str]:
    """The plain gRPC server (one process, no reload): quicker to start for a command's own stack."""
    return [sys.executable, "-m", "dagster", "api", "grpc", "-m", DEFINITIONS_MODULE, "-h", "127.0.0.1",
            "-p", str(port), "--location-name", LOCATION_NAME]


def grpc_workspace(path: Path, code_server: str) -> Path:
    """A workspace file that reaches the code through the gRPC code server at host:port."""
    host, _, port = code_server.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--code-server must be host:port, got {code_server!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, yaml.safe_dump(
        {"load_from": [{"grpc_server": {"host": host, "port": int(port), "location_name": LOCATION_NAME}}]}))
    return path


def webserver_command(workspace: Path, host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "dagster_webserver", "-w", str(workspace), "-h", host, "-p", str(port)]


def daemon_command(workspace: Path) -> list[str]:
    return [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(workspace)]


def restore_sigint() -> None:
    """Give SIGINT its default action back, before exec'ing a Dagster service.

    Dagster's code server handles SIGTERM by doing what SIGINT does. A process started with SIGINT
    ignored (a background job of a script, `festival-pipeline serve code-server &`; some supervisors)
    passes that on through exec, and the code server would then ignore SIGTERM too: never stopped
    cleanly, only killed at the end of a grace period.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _prepare_child() -> None:
    """In the child before exec: SIGTERM stops it (see `restore_sigint`), and comes when the parent
    dies (Linux), so a killed command leaves no service behind even when only the command itself was
    killed."""
    restore_sigint()
    with contextlib.suppress(OSError):  # not Linux: the process group still ends with the command
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Service:
    """One service process, in the starting command's process group: killing that group (a closed
    terminal, kill -9 of the group) ends it too, with the runs it started."""

    name: str
    command: Sequence[str]
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, env: Mapping[str, str], cwd: Path) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(list(self.command), env=dict(env), cwd=cwd, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            preexec_fn=_prepare_child)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """SIGTERM (the service stops its children); after `timeout` seconds, SIGKILL to whatever is
        left of its tree."""
        if self.process is None:
            return
        try:
            tree = [psutil.Process(self.process.pid), *psutil.Process(self.process.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            tree = []
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        # a service that stopped gives its children a moment to follow; one that did not is killed now
        _, alive = psutil.wait_procs(tree, timeout=5 if self.process.poll() is not None else 0)
        for process in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        self.process.wait()
        # SIGKILL is delivered asynchronously: the children are gone before this returns (the service
        # itself is reaped by `wait` above; psutil would reap it first and hide its exit code)
        psutil.wait_procs([p for p in alive if p.pid != self.process.pid], timeout=5)


_LOCATIONS = """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
_RELOAD = """mutation($name: String!) { reloadRepositoryLocation(repositoryLocationName: $name) { __typename } }"""


def wait_for_webserver(url: str, service: Service | None, timeout: float = 120.0,
                       code_server: tuple[Service, int] | None = None) -> None:
    """Until the webserver answers with the code location loaded (or a process died).

    A webserver that came up before its code server marks the location unreachable and does not look
    again by itself: once the code server listens, the webserver is asked to reload the location.
    """
    deadline = time.monotonic() + timeout
    error = ""
    while time.monotonic() < deadline:
        for watched in (service, code_server[0] if code_server else None):
            if watched is not None and not watched.running:
                raise RuntimeError(f"the Dagster {watched.name} exited; see {watched.log_path}")
        try:
            data = requests.post(f"{url}/graphql", json={"query": _LOCATIONS}, timeout=5).json()["data"]
            entries = data["workspaceOrError"]["locationEntries"]
            if entries and all(entry["loadStatus"] == "LOADED" for entry in entries):
                failed = [e for e in entries if e["locationOrLoadError"]["__typename"] == "PythonError"]
                if not failed:
                    return
                error = failed[0]["locationOrLoadError"]["message"].strip()
                if code_server is None or _listening(code_server[1]):
                    for entry in failed:
                        requests.post(f"{url}/graphql", timeout=30,
                                      json={"query": _RELOAD, "variables": {"name": entry["name"]}})
        except (requests.RequestException, KeyError, TypeError, ValueError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the Dagster webserver at {url} did not load the code location within {timeout:.0f} s"
                       + (f": {error}" if error else ""))


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def write_dev_state(home: Path, webserver_url: str) -> Path:
    path = home / DEV_STATE_FILE
    path.write_text(yaml.safe_dump({"webserver": webserver_url, "pid": os.getpid()}))
    return path


def running_dev_webserver(home: Path) -> str | None:
    """The webserver URL of a `festival-pipeline dev` running on this home, if it answers."""
    path = home / DEV_STATE_FILE
    try:
        state = yaml.safe_load(path.read_text()) or {}
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError):
        return None
    url = str(state.get("webserver", ""))
    return url if url and webserver_answers(url) else None


def webserver_answers(url: str) -> bool:
    try:
        return requests.get(f"{url.rstrip('/')}/server_info", timeout=3).ok
    except requests.RequestException:
        return False


class DagsterStack:
    """A webserver to talk GraphQL to and a daemon to launch runs: the ones already running for this
    instance (`festival-pipeline dev`, or a deployment named by URL), else started here for as long
    as the stack is open — a code server and a webserver at once, and a daemon when asked for."""

    def __init__(self, env: Mapping[str, str], dagster_home: Path, home: Path,
                 webserver_url: str | None = None) -> None:
        self.env, self.dagster_home, self.home = dict(env), dagster_home, home
        self.requested_url = webserver_url
        self.services: dict[str, Service] = {}
        self.url = ""
        self.log_dir = home / "logs" / "services"
        self._pending: tuple[Service, Service, int] | None = None

    @property
    def owns_webserver(self) -> bool:
        return "webserver" in self.services

    @property
    def owns_daemon(self) -> bool:
        return "daemon" in self.services

    def start(self) -> DagsterStack:
        """Find the webserver to use, or start a code server and a webserver (without waiting)."""
        if self.url:
            return self
        existing = self._existing_webserver()
        if existing:
            self.url = existing
            return self
        grpc_port, web_port = free_port(), free_port()
        self.workspace = grpc_workspace(self.log_dir / f"workspace-{grpc_port}.yaml", f"127.0.0.1:{grpc_port}")
        code_server = self._start(Service("code server", grpc_server_command(grpc_port),
                                          self.log_dir / "code-server.log"), "code_server")
        webserver = self._start(Service("webserver", webserver_command(self.workspace, "127.0.0.1", web_port),
                                        self.log_dir / "webserver.log"), "webserver")
        self.url = f"http://127.0.0.1:{web_port}"
        self._pending = (code_server, webserver, grpc_port)
        return self

    def wait_ready(self) -> None:
        if self._pending is not None:
            code_server, webserver, grpc_port = self._pending
            wait_for_webserver(self.url, webserver, code_server=(code_server, grpc_port))
            self._pending = None

    def __enter__(self) -> DagsterStack:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _existing_webserver(self) -> str | None:
        if self.requested_url:
            if not webserver_answers(self.requested_url):
                raise RuntimeError(f"no Dagster webserver answers at {self.requested_url}")
            return self.requested_url.rstrip("/")
        return running_dev_webserver(self.home)

    def _start(self, service: Service, key: str) -> Service:
        service.start(self.env, cwd=self.dagster_home)
        self.services[key] = service
        return service

    def start_daemon(self) -> None:
        """Start a daemon of our own when the webserver is ours too (no `festival-pipeline dev`, no
        deployment named by URL: theirs come with a daemon). A daemon's heartbeat outlives it by
        minutes, so "a healthy daemon is listed" cannot tell whether one runs."""
        if self.owns_daemon or not self.owns_webserver:
            return
        self._start(Service("daemon", daemon_command(self.workspace), self.log_dir / "daemon.log"), "daemon")

    def restart_daemon(self) -> None:
        """A fresh daemon looks at the backfills at once (a running one looks every 30 s)."""
        if self.owns_daemon:
            self.services.pop("daemon").stop()
            self.start_daemon()

    def close(self) -> None:
        """Stop every service we started (each stops its own children): the daemon and the webserver
        together, then the code server, given a few seconds only: with its clients gone and the
        backfill's runs ended it has nothing left to finish, and it may otherwise wait for a call in
        flight until killed."""
        clients = [self.services.pop(key) for key in ("daemon", "webserver") if key in self.services]
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(Service.stop, clients))
        if "code_server" in self.services:
            self.services.pop("code_server").stop(timeout=CODE_SERVER_STOP_SECONDS)

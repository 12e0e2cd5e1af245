"""Run a command whose whole process tree stops when we are told to stop.

`dagster dev` (and the Dagster services) start children of their own: the webserver, the daemon, code
servers, run workers. A SIGTERM to our process alone (systemd, docker stop, a closed terminal) would
leave them running, so the command gets a process group of its own and every stop signal we receive
goes to that whole group; whatever is still alive after a grace period is killed.

Processes that leave the group on purpose (the embedded PostgreSQL, started in a session of its
own so that it outlives the command) are not ours to stop here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import FrameType
from typing import Any

import psutil

# what the group gets for each signal we receive: SIGHUP (closed terminal) stops it like SIGTERM,
# which Dagster handles as a graceful shutdown (it would die on SIGHUP without cleaning up)
_FORWARDED = {signal.SIGINT: signal.SIGINT, signal.SIGTERM: signal.SIGTERM, signal.SIGHUP: signal.SIGTERM}


def run_in_process_group(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    grace_seconds: float = 20.0,
) -> int:
    """Run `command` in a new process group and return its exit code (128 + N when killed by signal N).

    SIGTERM, SIGINT and SIGHUP sent to us are forwarded to the group. Once we received one, or once the
    command exited on its own, the rest of the group gets `grace_seconds` to exit, then SIGKILL.
    Signal handlers can only be installed from the main thread; elsewhere nothing is forwarded.
    """
    group: list[int] = []  # the child's pid (= its group id) once it exists
    deadline: list[float] = []  # set at the first stop signal: the group must be gone by then

    def forward(signum: int, _frame: FrameType | None) -> None:
        if not deadline:
            deadline.append(time.monotonic() + grace_seconds)
        if group:
            _signal_group(group[0], _FORWARDED[signal.Signals(signum)])
        else:
            pending.append(signum)

    pending: list[int] = []  # a signal that came while the child was being started
    previous = _install(forward) if threading.current_thread() is threading.main_thread() else {}
    try:
        child = subprocess.Popen(list(command), env=None if env is None else dict(env), cwd=cwd, process_group=0)
        group.append(child.pid)
        for signum in pending:
            _signal_group(child.pid, _FORWARDED[signal.Signals(signum)])
        while child.poll() is None:
            if deadline and time.monotonic() >= deadline[0]:
                _signal_group(child.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=0.2)
        if not deadline:  # it exited by itself: what it left behind gets the same grace
            deadline.append(time.monotonic() + grace_seconds)
            _signal_group(child.pid, signal.SIGTERM)
        while _group_alive(child.pid) and time.monotonic() < deadline[0]:
            time.sleep(0.1)
        _signal_group(child.pid, signal.SIGKILL)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    code = child.returncode
    return 128 - code if code < 0 else code


def _install(handler: Callable[[int, FrameType | None], None]) -> dict[int, Any]:
    return {signum: signal.signal(signum, handler) for signum in _FORWARDED}


def _signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # nobody left in the group
        os.killpg(group, signum)


def _group_alive(group: int) -> bool:
    """Whether a process of the group still runs (zombies waiting for their parent do not count)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    for process in psutil.process_iter(["status"]):
        try:
            if process.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(process.pid) == group:
                return True
        except (ProcessLookupError, psutil.Error):
            continue
    return False

"""The step executor of every job: Dagster's multiprocess executor, started from a forkserver, that
also records where the run's worker process lives.

Steps run in processes forked from a server that has already imported Dagster and this code
location, instead of each step starting a fresh interpreter and importing both (~1 s a step).

Before the first step, the run gets three tags: this machine, the worker's process id and its start
time. Dagster's default run launcher cannot tell whether a run's process is still alive; with these
tags `festival_pipeline.runtime.dead_runs` can, on the same machine, and ends a run whose process died
instead of leaving it STARTED with its pool slots held. A run on another machine is never judged
from here.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import psutil
from dagster import (
    Executor,
    InitExecutorContext,
    executor,
    multiple_process_executor_requirements,
    multiprocess_executor,
)

HOST_TAG = "festival_pipeline/run_host"  # hostname and boot id: a reboot is another machine
PID_TAG = "festival_pipeline/run_pid"
PID_STARTED_TAG = "festival_pipeline/run_pid_started"  # the process's start time (pids are reused)


@cache
def machine_id() -> str:
    """This host's name and boot id: processes recorded under another id are not ours to judge."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = "no-boot-id"
    return f"{socket.gethostname()}/{boot}"


def process_tags(pid: int | None = None) -> dict[str, str]:
    process = psutil.Process(pid or os.getpid())
    return {HOST_TAG: machine_id(), PID_TAG: str(process.pid), PID_STARTED_TAG: f"{process.create_time():.3f}"}


class _RecordingExecutor(Executor):
    """Records the worker's process in the run's tags, then executes as the wrapped executor does."""

    def __init__(self, inner: Executor) -> None:
        self._inner = inner

    @property
    def retries(self):
        return self._inner.retries

    @property
    def step_dependency_config(self):
        return self._inner.step_dependency_config

    def execute(self, plan_context, execution_plan) -> Iterator:
        plan_context.instance.add_run_tags(plan_context.run_id, process_tags())
        yield from self._inner.execute(plan_context, execution_plan)


@executor(name="forkserver_multiprocess", config_schema=multiprocess_executor.config_schema,
          requirements=multiple_process_executor_requirements())
def _recording_multiprocess_executor(init_context: InitExecutorContext) -> Executor:
    return _RecordingExecutor(multiprocess_executor.executor_creation_fn(init_context))


step_executor = _recording_multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": ["festival_pipeline.definitions"]}}},
    name="forkserver_multiprocess",
)

"""What every executor offers the worker loop: run a claimed job to its
outcome, then clean up after it.

The loop picks an executor per job (worker.py: `executor_kind`) and knows
nothing else about it. `run` streams the job's output into the sink and
watches `control` for a stop (cancel, timeout it sets itself, log cap,
shutdown, lost lease); it returns how the job ended and never raises for
anything the job or its target did. `cleanup` is called once the result is
reported, whatever happened, so that slow removals (a container) do not
delay the result.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any, Protocol

from orchestrator_worker.control import JobControl, StopReason
from orchestrator_worker.jobs import ClaimedJob, Outcome
from orchestrator_worker.logs import LogSink


class Executor(Protocol):
    async def run(self, job: ClaimedJob, sink: LogSink, control: JobControl) -> Outcome: ...

    async def cleanup(self, job: ClaimedJob) -> None: ...

    async def aclose(self) -> None:
        """Release what the executor keeps across jobs (pools, connections)."""
        ...


async def run_within_timeout(
    job: ClaimedJob, sink: LogSink, control: JobControl, work: Coroutine[Any, Any, Outcome], started: float
) -> Outcome:
    """`work` to its outcome, or cut short by a stop (cancel, shutdown) or
    the job's timeout: for executors that run in the worker itself (HTTP
    requests, tools), with nothing outside the worker to stop."""
    task = asyncio.create_task(work, name=f"{job.kind}-{job.id}")
    stop_wait = asyncio.create_task(control.stop_requested.wait())
    try:
        done, _ = await asyncio.wait({task, stop_wait}, timeout=job.timeout_s, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            return task.result()
    finally:
        stop_wait.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    metrics = {"duration_ms": round((time.monotonic() - started) * 1000)}
    if control.stop_requested.is_set():
        await sink.system("cancelled by user")
        # A shutdown releases the job for another attempt rather than
        # reporting it; the error says why the work was cut short.
        error = f"stopped: {StopReason.SHUTDOWN}" if control.reason == StopReason.SHUTDOWN else "cancelled by user"
        return Outcome(status="cancelled", error=error, metrics=metrics)
    error = f"timed out after {job.timeout_s:g} s"
    await sink.system(error)
    return Outcome(status="timed_out", error=error, metrics=metrics)

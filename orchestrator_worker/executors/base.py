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

from typing import Protocol

from orchestrator_worker.control import JobControl
from orchestrator_worker.jobs import ClaimedJob, Outcome
from orchestrator_worker.logs import LogSink


class Executor(Protocol):
    async def run(self, job: ClaimedJob, sink: LogSink, control: JobControl) -> Outcome: ...

    async def cleanup(self, job: ClaimedJob) -> None: ...

    async def aclose(self) -> None:
        """Release what the executor keeps across jobs (pools, connections)."""
        ...

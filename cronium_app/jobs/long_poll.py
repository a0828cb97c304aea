"""A worker's claim that waits: try to claim; if nothing is due, wait for a
wake-up (a job queued in this process) or a short re-check timer (a job
queued by another process), until a job arrives or the wait is over.

Each try is a transaction of its own (`queue.claim`). A worker that hung up
while waiting is given nothing: jobs claimed for it at that moment are put
back (`queue.unclaim`), rather than waiting out a lease nobody holds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from cronium_app.db import write_session
from cronium_app.jobs import queue
from cronium_app.jobs.wake import notifier
from cronium_app.settings import Settings

# How often a waiting claimer re-checks the table for jobs created by
# another process. Jobs created in this process wake it at once.
CROSS_PROCESS_RECHECK_S = 0.25


def _claim(settings: Settings, worker_id: str, limit: int) -> list[dict[str, Any]]:
    with write_session() as session:
        return queue.claim(session, settings, worker_id, limit)


def _unclaim(worker_id: str, jobs: list[dict[str, Any]]) -> None:
    with write_session() as session:
        queue.unclaim(session, worker_id, jobs)


async def claim(
    settings: Settings,
    worker_id: str,
    limit: int,
    wait_s: float,
    *,
    hung_up: asyncio.Event,
    app_stopping: Callable[[], bool],
) -> list[dict[str, Any]]:
    """Up to `limit` claimed jobs, waiting up to `wait_s` (capped by
    CRONIUM_CLAIM_MAX_WAIT) for the first. A stopping app ends the wait at
    once: an open poll would hold up its shutdown."""
    deadline = time.monotonic() + min(wait_s, settings.claim_max_wait_s)
    while not hung_up.is_set() and not app_stopping():
        jobs = await run_in_threadpool(_claim, settings, worker_id, limit)
        if jobs and hung_up.is_set():
            await run_in_threadpool(_unclaim, worker_id, jobs)
            return []
        if jobs or time.monotonic() >= deadline:
            return jobs
        await notifier.wait(min(deadline - time.monotonic(), CROSS_PROCESS_RECHECK_S))
    return []

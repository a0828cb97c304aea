"""What the app does when it starts: refuse unsafe production settings,
create the admin from the environment, and keep the lease sweeper running."""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from cronium_app.auth.users import ensure_admin
from cronium_app.db import get_engine, write_session
from cronium_app.jobs import queue
from cronium_app.jobs.notifier import notifier
from cronium_app.settings import Settings
from cronium_app.workflows import engine as workflow_engine

WORKFLOW_RECONCILE_S = 2.0

logger = logging.getLogger(__name__)


def _create_admin(settings: Settings) -> None:
    with write_session() as session:
        user = ensure_admin(session, settings)
        if user is not None:
            logger.info("admin account ready: %s", user.email)


async def startup(settings: Settings) -> None:
    await run_in_threadpool(_create_admin, settings)


async def sweep_forever(settings: Settings) -> None:
    """Return expired leases to the queue, forever (one per app process;
    the conditional UPDATEs make concurrent sweepers harmless).

    The first sweep waits one lease length: after the app was down, workers
    that kept running their jobs need a heartbeat to renew leases that ran
    out while nobody could renew them, or those jobs would run twice."""
    await asyncio.sleep(settings.lease_seconds)
    while True:
        try:
            result = await run_in_threadpool(queue.sweep_expired_leases, get_engine(), settings)
            if result["requeued"]:
                notifier.notify()
        except Exception:  # the next round may succeed; never stop sweeping
            logger.exception("lease sweep failed")
        await asyncio.sleep(settings.sweep_interval_s)


async def reconcile_workflows_forever(settings: Settings) -> None:
    """Advance running workflow runs whose next step was not started (the
    app stopped between a step's end and the next step's start, or a job
    ended through the sweeper)."""
    while True:
        await asyncio.sleep(WORKFLOW_RECONCILE_S)
        try:
            if await run_in_threadpool(workflow_engine.reconcile_running, get_engine()):
                notifier.notify()
        except Exception:  # the next round may succeed
            logger.exception("workflow reconcile failed")

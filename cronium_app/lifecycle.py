"""The app's lifespan tasks: create the admin from the environment at start,
sweep expired leases, reconcile workflow runs and clean old history, each
in its own loop.
Each round of a loop is its own transaction."""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from cronium_app import shutdown
from cronium_app.auth.users import ensure_admin
from cronium_app.db import get_engine, read_session, write_session
from cronium_app.jobs import queue, retention, run_state, workflow_runs
from cronium_app.settings import Settings

WORKFLOW_RECONCILE_S = 2.0
RETENTION_FIRST_PASS_S = 60.0

logger = logging.getLogger(__name__)


def _create_admin(settings: Settings) -> None:
    with write_session() as session:
        user = ensure_admin(session, settings)
        if user is not None:
            logger.info("admin account ready: %s", user.email)


async def startup(settings: Settings) -> None:
    shutdown.note_shutdown_signals()
    await run_in_threadpool(_create_admin, settings)


def _sweep(settings: Settings) -> None:
    with write_session() as session:
        queue.sweep_expired_leases(session, settings)


async def sweep_forever(settings: Settings) -> None:
    """Return expired leases to the queue, forever (one per app process;
    the conditional UPDATEs make concurrent sweepers harmless).

    The first sweep waits one lease length: after the app was down, workers
    that kept running their jobs need a heartbeat to renew leases that ran
    out while nobody could renew them, or those jobs would run twice. For
    the same reason no sweep runs once the app is stopping: it can no
    longer take the heartbeats that would have renewed them."""
    await asyncio.sleep(settings.lease_seconds)
    while not shutdown.stopping():
        try:
            await run_in_threadpool(_sweep, settings)
        except Exception:  # the next round may succeed; never stop sweeping
            logger.exception("lease sweep failed")
        await asyncio.sleep(settings.sweep_interval_s)
    logger.info("the app is stopping: no more lease sweeps")


async def clean_history_forever(settings: Settings) -> None:
    """A retention pass (jobs/retention.py) a minute after start, then every
    CRONIUM_RETENTION_INTERVAL seconds, until the app stops."""
    await asyncio.sleep(RETENTION_FIRST_PASS_S)
    while not shutdown.stopping():
        try:
            await run_in_threadpool(retention.run_pass, get_engine(), settings)
        except Exception:  # the next pass may succeed
            logger.exception("retention pass failed")
        await asyncio.sleep(settings.retention_interval_s)


def _reconcile_workflows() -> None:
    with read_session() as session:
        run_ids = run_state.running_run_ids(session)
    for run_id in run_ids:
        try:
            with write_session() as session:
                workflow_runs.advance_run(session, run_id)
        except Exception:  # one broken run must not stop the others
            logger.exception("advancing workflow run %s failed", run_id)


async def reconcile_workflows_forever(settings: Settings) -> None:
    """Advance running workflow runs whose next step was not started (the
    app stopped between a step's end and the next step's start)."""
    while True:
        await asyncio.sleep(WORKFLOW_RECONCILE_S)
        try:
            await run_in_threadpool(_reconcile_workflows)
        except Exception:  # the next round may succeed
            logger.exception("workflow reconcile failed")

"""What the app does when it starts: refuse unsafe production settings,
create the admin from the environment, and keep the lease sweeper running."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading

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


# Set when the server is told to stop (SIGTERM/SIGINT). From then on it
# accepts no new connections, so no heartbeat can renew a lease, while its
# lifespan tasks run on until the open requests are done.
_stopping = threading.Event()


def stopping() -> bool:
    return _stopping.is_set()


def _note_shutdown_signals() -> None:
    """Notice SIGTERM/SIGINT the moment they arrive, then hand them on to the
    server's own handler (asyncio's loop handlers still run: they are woken
    through the wakeup fd, whatever Python-level handler is installed)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if previous is signal.SIG_IGN:
            continue

        def handler(signum, frame, previous=previous):
            _stopping.set()
            if callable(previous):
                previous(signum, frame)
            elif previous in (signal.SIG_DFL, None):
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)

        signal.signal(sig, handler)


async def startup(settings: Settings) -> None:
    _note_shutdown_signals()
    await run_in_threadpool(_create_admin, settings)


async def sweep_forever(settings: Settings) -> None:
    """Return expired leases to the queue, forever (one per app process;
    the conditional UPDATEs make concurrent sweepers harmless).

    The first sweep waits one lease length: after the app was down, workers
    that kept running their jobs need a heartbeat to renew leases that ran
    out while nobody could renew them, or those jobs would run twice. For
    the same reason no sweep runs once the app is stopping: it can no
    longer take the heartbeats that would have renewed them."""
    await asyncio.sleep(settings.lease_seconds)
    while not stopping():
        try:
            result = await run_in_threadpool(queue.sweep_expired_leases, get_engine(), settings)
            if result["requeued"]:
                notifier.notify()
        except Exception:  # the next round may succeed; never stop sweeping
            logger.exception("lease sweep failed")
        await asyncio.sleep(settings.sweep_interval_s)
    logger.info("the app is stopping: no more lease sweeps")


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

"""The scheduler loop: a lifespan task of every app process.

Every `scheduler_poll_s` (0.5 s), or sooner when the next fire time is
nearer, it fires what is due (`firing.fire_due`; the jobs it creates wake
the long-polling workers of this process). Any number of processes may run it on one
database: see `firing` for why that never creates a run twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from cronium_app import audit
from cronium_app.db import get_engine
from cronium_app.scheduler.firing import TickReport, adopt_unscheduled, fire_due, soonest_fire
from cronium_app.settings import Settings
from cronium_app.timeutil import utcnow

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Sleep at least this long between ticks, so a fire time that some other
# process is handling (and this one keeps seeing as due) cannot spin the loop.
MIN_SLEEP_S = 0.02


class Scheduler:
    """Ticks against a database with a clock (`utcnow`, or a test's)."""

    def __init__(self, engine: Engine, settings: Settings, clock: Clock = utcnow):
        self.engine, self.settings, self.clock = engine, settings, clock

    def tick(self) -> TickReport:
        report = fire_due(self.engine, self.settings, self.clock())
        if report.created:
            logger.info("scheduler created %d runs", report.created, extra={"skipped": report.skipped, "queued": report.queued})
        return report

    def seconds_to_next(self) -> float:
        """How long to sleep: until the next fire time, at most one poll."""
        poll = self.settings.scheduler_poll_s
        soonest = soonest_fire(self.engine)
        if soonest is None:
            return poll
        return min(poll, max(MIN_SLEEP_S, (soonest - self.clock()).total_seconds()))


async def run_forever(settings: Settings, clock: Clock = utcnow, engine: Engine | None = None) -> None:
    """The lifespan task (cronium_app.py registers it)."""
    if not settings.scheduler_enabled:
        logger.info("scheduler turned off (CRONIUM_SCHEDULER_ENABLED=false)")
        return
    engine = engine or get_engine()
    scheduler = Scheduler(engine, settings, clock)
    # This task's whole life, for the audit log: the scheduler acts.
    audit.context.begin(audit.Source.schedule)
    try:
        await run_in_threadpool(adopt_unscheduled, engine, clock())
    except Exception:  # not worth stopping the scheduler for
        logger.exception("adopting unscheduled schedules failed")
    while True:
        sleep_s = settings.scheduler_poll_s
        try:
            await run_in_threadpool(scheduler.tick)
            sleep_s = await run_in_threadpool(scheduler.seconds_to_next)
        except Exception:  # the next tick may succeed; never stop scheduling
            logger.exception("scheduler tick failed")
        await asyncio.sleep(sleep_s)

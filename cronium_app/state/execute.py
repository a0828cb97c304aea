"""The Execute button (events list and event page): queue a job, then open it."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from cronium_app.auth.access import Access
from cronium_app.db import write_session
from cronium_app.errors import CroniumError
from cronium_app import routes
from cronium_app.jobs import create as create_jobs
from cronium_app.settings import get_settings
from cronium_app.state.base import AppState

logger = logging.getLogger(__name__)


def queue_run(access: Access, event_id: int) -> str:
    with write_session() as session:
        job, _created = create_jobs.for_event(session, get_settings(), access, event_id=event_id)
        return job.id


class ExecuteState(AppState):
    # The event whose job is being created (0: none); its button says so.
    creating_for: int = 0

    @rx.event
    async def execute(self, event_id: int):
        if self.creating_for:
            return
        if not self._user_id:
            yield await self._require_user()
            return
        self.creating_for = int(event_id)
        yield
        try:
            job_id = await asyncio.to_thread(queue_run, self._access, int(event_id))
        except CroniumError as exc:
            self.creating_for = 0
            yield rx.toast.error(f"Could not run the event: {exc.message}", id="execute-error")
            return
        except Exception:
            logger.exception("execute failed", extra={"event_id": event_id})
            self.creating_for = 0
            yield rx.toast.error("Could not run the event: the server failed. Try again.", id="execute-error")
            return
        self.creating_for = 0
        yield rx.redirect(routes.job_url(job_id))

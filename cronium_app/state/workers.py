"""/workers: the workers serving this app, for its administrators; live."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import reflex as rx

from cronium_app import routes
from cronium_app.db import read_session
from cronium_app.display.workers import WorkerRow, worker_row
from cronium_app.jobs import workers
from cronium_app.models import Role
from cronium_app.settings import get_settings
from cronium_app.state.base import AppState
from cronium_app.state.polling import refresh_while_shown

logger = logging.getLogger(__name__)

# Heartbeats come every second from a busy worker, every 10 s from an idle one.
WORKERS_POLL_S = 2.0


def _workers() -> list[dict[str, Any]]:
    with read_session() as session:
        return workers.list_workers(session, get_settings())


class WorkersState(AppState):
    rows: list[WorkerRow] = []
    online: int = 0
    loaded: bool = False
    forbidden: bool = False
    error: str = ""
    # Seconds without a heartbeat after which a worker is shown as gone.
    gone_after: int = 60
    _watch: int = 0
    _looping: int = 0  # see polling.sole_loop

    def _apply(self, views: list[dict[str, Any]]) -> None:
        self._put("rows", [worker_row(view, self.tz) for view in views])
        self._put("online", sum(view["status"] == "online" for view in views))
        self._put("loaded", True)
        self._put("error", "")

    @rx.event
    async def load(self):
        if (go := await self._require_user()) is not None:
            return go
        self._watch += 1
        self.gone_after = int(get_settings().worker_gone_after_s)
        self.forbidden = self.user_role != Role.admin.value
        if self.forbidden:
            return None
        try:
            self._apply(await asyncio.to_thread(_workers))
        except Exception:
            logger.exception("workers load failed")
            self.error = "The workers could not be loaded."
        return WorkersState.watch(self._watch)

    @rx.event(background=True)
    async def watch(self, generation: int):
        """Refresh every WORKERS_POLL_S while this tab shows the page."""
        return await refresh_while_shown(self, generation, routes.WORKERS, _workers, self._apply,
                                  every_s=WORKERS_POLL_S, what="workers")

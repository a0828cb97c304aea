"""The dashboard: stat cards, jobs per hour, the latest jobs; live."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import reflex as rx

from cronium_app.auth.access import Access
from cronium_app import routes
from cronium_app.db import read_session
from cronium_app.display.formatting import fmt_trend, local
from cronium_app.display.rows import HourPoint, JobRow, StatCard, job_row
from cronium_app.jobs import service as jobs
from cronium_app.state.base import AppState, reload_page
from cronium_app.state.polling import DASHBOARD_POLL_S, SessionWatch, run_sole_loop

logger = logging.getLogger(__name__)

RECENT_JOBS = 10

# (key in job_stats, label, trend key, which direction is good, jobs list link)
_CARDS = (
    ("pending", "Pending", "pendingTrend", "neutral", routes.JOBS + "?status=pending"),
    ("running", "Running", "runningTrend", "neutral", routes.JOBS + "?status=running"),
    ("completedToday", "Completed today", "completedTrend", "up", routes.JOBS + "?status=completed"),
    ("failedToday", "Failed today", "failedTrend", "down", routes.JOBS + "?status=failed"),
)


def _tone(percent: float | None, good: str) -> str:
    if percent is None or percent == 0 or good == "neutral":
        return "neutral"
    rising = percent > 0
    return "good" if rising == (good == "up") else "bad"


def _snapshot(access: Access, *, with_stats: bool = True) -> dict[str, Any]:
    with read_session() as session:
        return {
            # The counts are the slow part with many jobs: the first paint
            # goes without them and the poll loop brings them at once.
            "stats": jobs.job_stats(session, access) if with_stats else None,
            "hourly": jobs.hourly_counts(session, access),
            "recent": jobs.list_jobs_ordered(session, access, jobs.JobFilter(), limit=RECENT_JOBS).items,
        }


def _cards(stats: dict[str, Any] | None) -> list[StatCard]:
    """The four cards; without stats yet, their values are "" (shown as
    skeletons)."""
    return [
        {
            "key": key,
            "label": label,
            "value": f"{int(stats[key]):,}" if stats else "",
            "trend": fmt_trend(stats.get(trend)) if stats else "",
            "tone": _tone(stats.get(trend), good) if stats else "neutral",
            "href": href,
        }
        for key, label, trend, good, href in _CARDS
    ]


class DashboardState(AppState):
    cards: list[StatCard] = []
    hourly: list[HourPoint] = []
    recent: list[JobRow] = []
    loaded: bool = False
    error: str = ""
    _watch: int = 0
    _looping: int = 0  # see polling.sole_loop

    def _apply(self, snap: dict[str, Any]) -> None:
        tz = self.tz
        if snap["stats"] is not None or not self.cards:
            self._put("cards", _cards(snap["stats"]))
        hourly: list[HourPoint] = [
            {
                "hour": local(point["hour"], tz).strftime("%H:00"),
                "completed": point["completed"],
                "failed": point["failed"],
                "partial": point["partial"],
                "other": point["other"],
            }
            for point in snap["hourly"]
        ]
        recent = [job_row(job, tz) for job in snap["recent"]]
        self._put("hourly", hourly)
        self._put("recent", recent)
        self._put("loaded", True)
        self._put("error", "")

    @rx.event
    async def load(self):
        if (go := await self._require_user()) is not None:
            return go
        self._watch += 1
        self.error = ""
        try:
            self._apply(await asyncio.to_thread(_snapshot, self._access, with_stats=False))
        except Exception:
            logger.exception("dashboard load failed")
            self.error = "The dashboard could not be loaded."
        return DashboardState.watch(self._watch)

    @rx.event(background=True)
    async def watch(self, generation: int):
        """Refresh about once a second while this tab shows the dashboard."""
        return await run_sole_loop(self, generation, lambda: self._refresh_rounds(generation))

    async def _refresh_rounds(self, generation: int):
        """Returns the page's reload when the tab's session ended."""
        session = SessionWatch(self)
        pause = 0.0
        while True:
            if await session.pause(pause):
                return reload_page()
            async with self:
                if generation != self._watch or not self._user_id or self.router.url.path not in ("", "/"):
                    return None
                access = self._access
            started = time.monotonic()
            try:
                snap = await asyncio.to_thread(_snapshot, access)
            except Exception:
                logger.exception("dashboard refresh failed")
                async with self:
                    self.error = "Live updates paused: the server could not read the jobs. Retrying…"
                pause = max(pause, 2.0)
                continue
            # The counts cost more with more jobs: never spend more than
            # about a third of the time reading them.
            pause = max(DASHBOARD_POLL_S, 2 * (time.monotonic() - started))
            async with self:
                if generation != self._watch:
                    return None
                self._apply(snap)

    @rx.event
    async def retry(self):
        return DashboardState.load

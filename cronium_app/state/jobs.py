"""/jobs: the user's jobs, filtered, sorted, keyset-paged, live.

Paging never counts rows to find a page: "Next" continues after the last id
shown (list_jobs' cursor) and "Previous" pops the cursor it came from, so
page 500 of 100,000 jobs costs what page 1 costs. The page on screen is
re-read every poll, so statuses change while you watch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

import reflex as rx

from cronium_app.auth.access import Access
from cronium_app import routes
from cronium_app.db import read_session
from cronium_app.display.formatting import day_start
from cronium_app.display.rows import JobRow, Option, job_row
from cronium_app.events import service as events
from cronium_app.jobs import service as jobs
from cronium_app.state.base import AppState, reload_page
from cronium_app.state.polling import JOBS_POLL_S, SessionWatch, run_sole_loop

logger = logging.getLogger(__name__)

PAGE_SIZE = 25
ALL = "all"
RECOUNT_EVERY = 4  # polls between two recounts of the total

# Filter value -> (label, statuses). "Running" and "Failed" match the
# dashboard's cards: a claimed job counts as running, a timeout as a failure.
STATUS_FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    ALL: ("All statuses", ()),
    "pending": ("Pending", ("pending",)),
    "running": ("Running", ("acknowledged", "running")),
    "completed": ("Completed", ("completed",)),
    "failed": ("Failed or timed out", ("failed", "timed_out")),
    "timed_out": ("Timed out", ("timed_out",)),
    "cancelled": ("Cancelled", ("cancelled",)),
    "partial": ("Partial (some servers failed)", ("partial",)),
}
ORDERS = {"newest": "Newest first", "oldest": "Oldest first"}


def _query(
    access: Access, flt: jobs.JobFilter, cursor: str, oldest_first: bool, with_total: bool
) -> tuple[list[dict[str, Any]], str | None, int | None]:
    with read_session() as session:
        page = jobs.list_jobs_ordered(
            session, access, flt, limit=PAGE_SIZE, cursor=cursor or None, oldest_first=oldest_first
        )
        total = jobs.count_jobs(session, access, flt) if with_total else None
        return page.items, page.next_cursor, total


def _extras(access: Access, flt: jobs.JobFilter | None) -> tuple[list[Option], int | None]:
    """The event filter's choices and the filter's total."""
    with read_session() as session:
        total = jobs.count_jobs(session, access, flt) if flt is not None else None
    return _event_options(access), total


def _event_options(access: Access) -> list[Option]:
    with read_session() as session:
        page = events.list_events(session, access, events.EventFilter(), limit=200, offset=0)
    return [{"value": str(e["id"]), "label": e["name"]} for e in page.items]


class JobListState(AppState):
    rows: list[JobRow] = []
    total: int = 0
    page_number: int = 1
    has_next: bool = False
    loaded: bool = False
    loading: bool = False
    error: str = ""

    status_filter: str = ALL
    event_filter: str = ALL
    date_from: str = ""
    date_to: str = ""
    q: str = ""
    order: str = "newest"
    event_options: list[Option] = []
    filter_error: str = ""

    _cursor: str = ""
    _previous: list[str] = []
    _next: str = ""
    _watch: int = 0
    _looping: int = 0  # see polling.sole_loop

    @rx.var
    def filtered(self) -> bool:
        return (
            self.status_filter != ALL
            or self.event_filter != ALL
            or bool(self.date_from or self.date_to or self.q)
        )

    @rx.var
    def has_prev(self) -> bool:
        return self.page_number > 1

    @rx.var
    def total_label(self) -> str:
        if self.total < 0:
            return f"counting… · page {self.page_number}"
        noun = "job" if self.total == 1 else "jobs"
        return f"{self.total:,} {noun} · page {self.page_number}"

    def _filter(self) -> jobs.JobFilter | None:
        """The service filter for the form, or None (and a message) when the
        dates make no sense."""
        created_from = day_start(self.date_from, self.tz) if self.date_from else None
        created_to = day_start(self.date_to, self.tz) if self.date_to else None
        if created_to is not None:
            created_to += timedelta(days=1)  # "to" includes that whole day
        if created_from and created_to and created_from >= created_to:
            self._put("filter_error", "The start date is after the end date.")
            return None
        self._put("filter_error", "")
        return jobs.JobFilter(
            status=STATUS_FILTERS.get(self.status_filter, STATUS_FILTERS[ALL])[1],
            event_id=int(self.event_filter) if self.event_filter.isdigit() else None,
            created_from=created_from,
            created_to=created_to,
            q=self.q.strip() or None,
        )

    def _show(self, items: list[dict[str, Any]], next_cursor: str | None, total: int | None) -> None:
        self._put("rows", [job_row(job, self.tz) for job in items])
        self._next = next_cursor or ""
        self._put("has_next", bool(next_cursor))
        if total is not None:
            self._put("total", total)
        self._put("loaded", True)
        self._put("error", "")

    async def _fetch(self, *, with_total: bool = True):
        flt = self._filter()
        if flt is None:
            return
        self.loading = True
        yield
        try:
            items, next_cursor, total = await asyncio.to_thread(
                _query, self._access, flt, self._cursor, self.order == "oldest", with_total
            )
        except Exception:
            logger.exception("jobs list failed")
            self.error = "The jobs could not be loaded."
        else:
            self._show(items, next_cursor, total)
        self.loading = False

    def _first_page(self) -> None:
        self._cursor, self._previous, self._next, self.page_number = "", [], "", 1

    @rx.event
    async def load(self):
        if (go := await self._require_user()) is not None:
            yield go
            return
        params = self.router.url.query_parameters
        if params:
            # Links such as /jobs?status=failed or /jobs?event=12 set the filters.
            self.status_filter = params.get("status") if params.get("status") in STATUS_FILTERS else ALL
            self.event_filter = params.get("event") if str(params.get("event", "")).isdigit() else ALL
            self.q = str(params.get("q") or "")[:200]
            self.date_from = self.date_to = ""
        self._first_page()
        self.total = -1
        self._watch += 1
        # Rows first: the total (a count over possibly 100,000s of jobs) and
        # the event filter's choices come right after the first paint.
        async for update in self._fetch(with_total=False):
            yield update
        flt = self._filter()
        try:
            self.event_options, total = await asyncio.to_thread(_extras, self._access, flt)
        except Exception:
            logger.exception("jobs list totals failed")
        else:
            if total is not None:
                self.total = total
        yield JobListState.watch(self._watch)

    @rx.event(background=True)
    async def watch(self, generation: int):
        """Re-read the page on screen every JOBS_POLL_S while it is open."""
        return await run_sole_loop(self, generation, lambda: self._refresh_rounds(generation))

    async def _refresh_rounds(self, generation: int):
        """Returns the page's reload when the tab's session ended."""
        session = SessionWatch(self)
        tick = 0
        pause = JOBS_POLL_S
        while True:
            if await session.pause(pause):
                return reload_page()
            tick += 1
            async with self:
                if generation != self._watch or not self._user_id or self.router.url.path.rstrip("/") != routes.JOBS:
                    return None
                if self.loading:
                    continue
                flt = self._filter()
                args = (self._access, flt, self._cursor, self.order == "oldest", tick % RECOUNT_EVERY == 0)
                page_key = (self._cursor, self.order)
            if flt is None:
                continue
            started = time.monotonic()
            try:
                items, next_cursor, total = await asyncio.to_thread(_query, *args)
            except Exception:
                logger.exception("jobs refresh failed")
                continue
            # A slow filter (text search over many jobs) polls less often.
            pause = max(JOBS_POLL_S, 2 * (time.monotonic() - started))
            async with self:
                # A page change or new filters while we read: that result is stale.
                if generation == self._watch and not self.loading and page_key == (self._cursor, self.order):
                    self._show(items, next_cursor, total)

    # -- filters, order, pages --------------------------------------------------

    async def _refilter(self):
        self._first_page()
        async for update in self._fetch():
            yield update

    @rx.event
    async def set_status_filter(self, value: str):
        self.status_filter = value if value in STATUS_FILTERS else ALL
        async for update in self._refilter():
            yield update

    @rx.event
    async def set_event_filter(self, value: str):
        self.event_filter = value if value.isdigit() else ALL
        async for update in self._refilter():
            yield update

    @rx.event
    async def set_date_from(self, value: str):
        self.date_from = value if day_start(value, "UTC") else ""
        async for update in self._refilter():
            yield update

    @rx.event
    async def set_date_to(self, value: str):
        self.date_to = value if day_start(value, "UTC") else ""
        async for update in self._refilter():
            yield update

    @rx.event
    async def set_q(self, value: str):
        self.q = value[:200]
        async for update in self._refilter():
            yield update

    @rx.event
    async def set_order(self, value: str):
        self.order = value if value in ORDERS else "newest"
        async for update in self._refilter():
            yield update

    @rx.event
    async def clear_filters(self):
        self.status_filter = self.event_filter = ALL
        self.date_from = self.date_to = self.q = ""
        async for update in self._refilter():
            yield update

    @rx.event
    async def next_page(self):
        if not self._next or self.loading:
            return
        self._previous = [*self._previous, self._cursor]
        self._cursor = self._next
        self.page_number += 1
        async for update in self._fetch(with_total=False):
            yield update

    @rx.event
    async def prev_page(self):
        if not self._previous or self.loading:
            return
        *rest, cursor = self._previous
        self._previous = rest
        self._cursor = cursor
        self.page_number = max(1, self.page_number - 1)
        async for update in self._fetch(with_total=False):
            yield update

    @rx.event
    async def first_page(self):
        if self.page_number == 1 or self.loading:
            return
        self._first_page()
        async for update in self._fetch(with_total=False):
            yield update

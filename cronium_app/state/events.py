"""The events list: search, type and status filters, pages."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from cronium_app.db import read_session
from cronium_app.events import service as events
from cronium_app.pagination import Page
from cronium_app.state.base import AppState
from cronium_app.state.rows import EventRow, event_row

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
ALL = "all"
EVENT_TYPES = ("bash", "python", "node", "http")
EVENT_STATUSES = ("draft", "active", "paused", "archived")


def _query(user_id: int, q: str, kind: str, status: str, offset: int) -> Page:
    flt = events.EventFilter(q=q or None, type=None if kind == ALL else kind, status=None if status == ALL else status)
    with read_session() as session:
        return events.list_events(session, user_id, flt, limit=PAGE_SIZE, offset=offset)


class EventListState(AppState):
    rows: list[EventRow] = []
    total: int = 0
    offset: int = 0
    q: str = ""
    type_filter: str = ALL
    status_filter: str = ALL
    loaded: bool = False
    loading: bool = False
    error: str = ""

    @rx.var
    def filtered(self) -> bool:
        return bool(self.q) or self.type_filter != ALL or self.status_filter != ALL

    @rx.var
    def has_prev(self) -> bool:
        return self.offset > 0

    @rx.var
    def has_next(self) -> bool:
        return self.offset + PAGE_SIZE < self.total

    @rx.var
    def range_label(self) -> str:
        if not self.total:
            return ""
        last = min(self.offset + PAGE_SIZE, self.total)
        noun = "event" if self.total == 1 else "events"
        return f"{self.offset + 1}–{last} of {self.total} {noun}"

    async def _fetch(self):
        self.loading = True
        yield
        try:
            page = await asyncio.to_thread(
                _query, self._user_id, self.q.strip(), self.type_filter, self.status_filter, self.offset
            )
        except Exception:
            logger.exception("events list failed")
            self.error = "The events could not be loaded."
        else:
            if not page.items and self.offset and page.total:
                # The page emptied (deletes elsewhere): show the last one instead.
                self.offset = max(0, (page.total - 1) // PAGE_SIZE * PAGE_SIZE)
                page = await asyncio.to_thread(
                    _query, self._user_id, self.q.strip(), self.type_filter, self.status_filter, self.offset
                )
            self.rows = [event_row(e, self.tz) for e in page.items]
            self.total = page.total or 0
            self.error = ""
            self.loaded = True
        self.loading = False

    @rx.event
    async def load(self):
        if (go := await self._require_user()) is not None:
            yield go
            return
        async for update in self._fetch():
            yield update

    @rx.event
    async def set_q(self, value: str):
        self.q = value[:200]
        self.offset = 0
        async for update in self._fetch():
            yield update

    @rx.event
    async def set_type_filter(self, value: str):
        self.type_filter = value if value in EVENT_TYPES else ALL
        self.offset = 0
        async for update in self._fetch():
            yield update

    @rx.event
    async def set_status_filter(self, value: str):
        self.status_filter = value if value in EVENT_STATUSES else ALL
        self.offset = 0
        async for update in self._fetch():
            yield update

    @rx.event
    async def clear_filters(self):
        self.q, self.type_filter, self.status_filter, self.offset = "", ALL, ALL, 0
        async for update in self._fetch():
            yield update

    @rx.event
    async def next_page(self):
        if self.offset + PAGE_SIZE < self.total:
            self.offset += PAGE_SIZE
            async for update in self._fetch():
                yield update

    @rx.event
    async def prev_page(self):
        if self.offset > 0:
            self.offset = max(0, self.offset - PAGE_SIZE)
            async for update in self._fetch():
                yield update

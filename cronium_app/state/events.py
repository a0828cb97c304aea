"""The events list: search, type and status filters, pages."""

from __future__ import annotations

from functools import partial
from typing import ClassVar

import reflex as rx

from cronium_app.auth.access import Access
from cronium_app.db import read_session
from cronium_app.display.rows import EventRow, event_row
from cronium_app.events import service as events
from cronium_app.pagination import Page
from cronium_app.state.base import AppState
from cronium_app.state.paged_list import SearchableListMixin

PAGE_SIZE = 20
ALL = "all"
EVENT_TYPES = ("bash", "python", "node", "http", "tool")
EVENT_STATUSES = ("draft", "active", "paused", "archived")


def _query(access: Access, q: str, kind: str, status: str, offset: int) -> Page:
    flt = events.EventFilter(q=q or None, type=None if kind == ALL else kind, status=None if status == ALL else status)
    with read_session() as session:
        return events.list_events(session, access, flt, limit=PAGE_SIZE, offset=offset)


class EventListState(SearchableListMixin, AppState):
    rows: list[EventRow] = []
    type_filter: str = ALL
    status_filter: str = ALL

    page_size: ClassVar[int] = PAGE_SIZE
    noun: ClassVar[str] = "event"

    @rx.var
    def filtered(self) -> bool:
        return bool(self.q) or self.type_filter != ALL or self.status_filter != ALL

    def _reader(self):
        return partial(_query, self._access, self.q.strip(), self.type_filter, self.status_filter)

    def _show_rows(self, page: Page) -> None:
        self.rows = [event_row(e, self.tz) for e in page.items]

    @rx.event
    async def set_type_filter(self, value: str):
        self.type_filter = value if value in EVENT_TYPES else ALL
        async for update in self._show(0):
            yield update

    @rx.event
    async def set_status_filter(self, value: str):
        self.status_filter = value if value in EVENT_STATUSES else ALL
        async for update in self._show(0):
            yield update

    @rx.event
    async def clear_filters(self):
        self.q, self.type_filter, self.status_filter = "", ALL, ALL
        async for update in self._show(0):
            yield update

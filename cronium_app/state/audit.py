"""/audit: the audit log, newest first, a page at a time, with filters and
a JSONL download. An administrator sees every entry, anyone else the
entries of their own actions (the same rule as /api/v1/audit)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import reflex as rx

from cronium_app.audit.actions import Action
from cronium_app.audit.query import AuditFilter, Viewer, list_entries
from cronium_app.audit.recorder import TARGET_KINDS
from cronium_app.db import read_session
from cronium_app.display.audit import AuditRow, audit_row
from cronium_app.display.formatting import day_start
from cronium_app.errors import CroniumError
from cronium_app.models import Role
from cronium_app.state.base import AppState

logger = logging.getLogger(__name__)

PAGE_SIZE = 25
ALL = "all"
EXPORT_PATH = "/api/ui/audit/export.jsonl"
# The select's choices: every family of actions ("event." finds them all).
ACTION_FAMILIES = sorted({action.value.split(".")[0] + "." for action in Action})


def _page(viewer: Viewer, flt: AuditFilter, cursor: str) -> tuple[list[dict[str, Any]], str | None]:
    with read_session() as session:
        page = list_entries(session, viewer, flt, limit=PAGE_SIZE, cursor=cursor or None)
        return page.items, page.next_cursor


class AuditState(AppState):
    rows: list[AuditRow] = []
    loaded: bool = False
    loading: bool = False
    error: str = ""
    filter_error: str = ""
    sees_all: bool = False
    actor: str = ""
    action_family: str = ALL
    target_kind: str = ALL
    date_from: str = ""
    date_to: str = ""
    page_number: int = 1
    has_next: bool = False

    _cursor: str = ""
    _previous: list[str] = []
    _next: str = ""

    @rx.var
    def has_prev(self) -> bool:
        return self.page_number > 1

    @rx.var
    def export_href(self) -> str:
        """The download of every entry the filters match."""
        query = self._query_params()
        return EXPORT_PATH + ("?" + urlencode(query) if query else "")

    def _dates(self) -> tuple[Any, Any]:
        since = day_start(self.date_from, self.tz) if self.date_from else None
        until = day_start(self.date_to, self.tz) if self.date_to else None
        # "To" includes that whole day.
        return since, until + timedelta(days=1) if until else None

    def _query_params(self) -> dict[str, str]:
        since, until = self._dates()
        params = {
            "actor": self.actor.strip(),
            "action": "" if self.action_family == ALL else self.action_family,
            "targetKind": "" if self.target_kind == ALL else self.target_kind,
            "since": since.isoformat() if since else "",
            "until": until.isoformat() if until else "",
        }
        return {key: value for key, value in params.items() if value}

    def _filter(self) -> AuditFilter | None:
        since, until = self._dates()
        try:
            flt = AuditFilter(
                actor=self.actor.strip()[:320] or None,
                action=None if self.action_family == ALL else self.action_family,
                target_kind=None if self.target_kind not in TARGET_KINDS else self.target_kind,
                since=since, until=until,
            ).checked()
        except CroniumError as exc:
            self._put("filter_error", str(exc))
            return None
        self._put("filter_error", "")
        return flt

    async def _fetch(self):
        flt = self._filter()
        if flt is None:
            return
        self.loading = True
        yield
        viewer = Viewer(user_id=self._user_id, role=self.user_role)
        try:
            items, next_cursor = await asyncio.to_thread(_page, viewer, flt, self._cursor)
        except Exception:
            logger.exception("audit log page failed")
            self.error = "The audit log could not be loaded."
        else:
            self.rows = [audit_row(entry, self.tz) for entry in items]
            self._next = next_cursor or ""
            self.has_next = bool(next_cursor)
            self.loaded = True
            self.error = ""
        self.loading = False

    def _first_page(self) -> None:
        self._cursor, self._previous, self._next, self.page_number = "", [], "", 1

    @rx.event
    async def load(self):
        if (go := await self._require_user()) is not None:
            yield go
            return
        self.sees_all = self.user_role == Role.admin.value
        self._first_page()
        async for update in self._fetch():
            yield update

    # -- filters -------------------------------------------------------------------

    @rx.event
    async def set_actor(self, value: str):
        self.actor = str(value)[:320]
        async for update in self._apply_filters():
            yield update

    @rx.event
    async def set_action_family(self, value: str):
        self.action_family = value if value in ACTION_FAMILIES else ALL
        async for update in self._apply_filters():
            yield update

    @rx.event
    async def set_target_kind(self, value: str):
        self.target_kind = value if value in TARGET_KINDS else ALL
        async for update in self._apply_filters():
            yield update

    @rx.event
    async def set_date_from(self, value: str):
        self.date_from = str(value)[:10]
        async for update in self._apply_filters():
            yield update

    @rx.event
    async def set_date_to(self, value: str):
        self.date_to = str(value)[:10]
        async for update in self._apply_filters():
            yield update

    async def _apply_filters(self):
        """Back to the first page with the filters as they are now."""
        if self._user_id == 0:
            return
        self._first_page()
        async for update in self._fetch():
            yield update

    @rx.event
    async def clear_filters(self):
        self.actor, self.action_family, self.target_kind, self.date_from, self.date_to = "", ALL, ALL, "", ""
        async for update in self._apply_filters():
            yield update

    @rx.event
    def download(self):
        """The browser fetches the export itself (with its session cookie):
        every matching entry, streamed, never held in this state."""
        if self._user_id == 0:
            return None
        return rx.download(url=self.export_href, filename="cronium-audit.jsonl")

    # -- pages ---------------------------------------------------------------------

    @rx.event
    async def next_page(self):
        if not self._next or self.loading or self._user_id == 0:
            return
        self._previous = [*self._previous, self._cursor]
        self._cursor = self._next
        self.page_number += 1
        async for update in self._fetch():
            yield update

    @rx.event
    async def prev_page(self):
        if not self._previous or self.loading or self._user_id == 0:
            return
        *rest, cursor = self._previous
        self._previous, self._cursor = rest, cursor
        self.page_number = max(1, self.page_number - 1)
        async for update in self._fetch():
            yield update

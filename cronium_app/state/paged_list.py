"""What the paged lists (events, workflows, servers, variables) share: the
page's offset, the pager's vars and handlers, and the fetch that reads one
page in a thread.

A list state mixes `PagedListMixin` (or `SearchableListMixin`, which adds the
search box) in before `AppState`, declares its own `rows`, and fills in:

- `_reader()`: the query for one page, given its offset, bound to the user and
  the filters on the event loop; it runs in a thread. A `Page` whose total is
  None was read one row longer than a page: that row only tells whether there
  is a next page.
- `_show_rows(page)`: turn the page's items into rows (and anything else the
  page carries).
- `_reset()` (optional): what `load` puts back before it fetches.
- `noun`, `page_size`: for the range label and the pager.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import ClassVar

import reflex as rx

from cronium_app.pagination import Page


class PagedListMixin(rx.State, mixin=True):
    offset: int = 0
    # What the query counted; a list whose query does not count knows only
    # what it has read (one more than it shows while there is a next page).
    total: int = 0
    loaded: bool = False
    loading: bool = False
    error: str = ""

    page_size: ClassVar[int] = 20
    noun: ClassVar[str] = "item"  # the plural adds an "s"
    counted: ClassVar[bool] = True

    @rx.var
    def has_prev(self) -> bool:
        return self.offset > 0

    @rx.var
    def has_next(self) -> bool:
        return self.offset + self.page_size < self.total

    @rx.var
    def range_label(self) -> str:
        if not self.rows:
            return ""
        last = self.offset + len(self.rows)
        if self.counted:
            return f"{self.offset + 1}–{last} of {self.total} {self._noun(self.total)}"
        more = " (more on the next page)" if self.offset + self.page_size < self.total else ""
        return f"{self.offset + 1}–{last} {self._noun(last)}{more}"

    def _noun(self, count: int) -> str:
        return self.noun if count == 1 else f"{self.noun}s"

    # -- the hooks ---------------------------------------------------------------

    def _reader(self) -> Callable[[int], Page]:
        raise NotImplementedError

    def _show_rows(self, page: Page) -> None:
        raise NotImplementedError

    def _reset(self) -> None:
        """What `load` puts back (dialogs, busy markers) before it fetches."""

    # -- the fetch ---------------------------------------------------------------

    async def _fetch(self):
        self.loading = True
        yield
        read = self._reader()
        try:
            page = await asyncio.to_thread(read, self.offset)
            if not page.items and self.offset and page.total != 0:
                # The page emptied (deletes elsewhere): show the last one instead.
                self.offset = self._last_offset(page.total)
                page = await asyncio.to_thread(read, self.offset)
        except Exception:
            logging.getLogger(type(self).__module__).exception("%s list failed", self._noun(2))
            self.error = f"The {self._noun(2)} could not be loaded."
        else:
            if page.total is None:
                shown = page.items[: self.page_size]
                total = self.offset + len(page.items)
                page = Page(items=shown, total=total, limit=self.page_size, offset=self.offset, extra=page.extra)
            self._show_rows(page)
            self.total = page.total or 0
            self.error = ""
            self.loaded = True
        self.loading = False

    def _last_offset(self, total: int | None) -> int:
        if total is None:
            return max(0, self.offset - self.page_size)
        return max(0, (total - 1) // self.page_size * self.page_size)

    async def _show(self, offset: int):
        """Fetch the page that starts at `offset`."""
        self.offset = max(0, offset)
        async for update in self._fetch():
            yield update

    @rx.event
    async def load(self):
        if (go := await self._require_user()) is not None:
            yield go
            return
        self._reset()
        async for update in self._fetch():
            yield update

    @rx.event
    async def next_page(self):
        if self.offset + self.page_size < self.total:
            async for update in self._show(self.offset + self.page_size):
                yield update

    @rx.event
    async def prev_page(self):
        if self.offset > 0:
            async for update in self._show(self.offset - self.page_size):
                yield update


class SearchableListMixin(PagedListMixin, mixin=True):
    """A paged list with a search box: a new search starts at the first page."""

    q: str = ""

    @rx.event
    async def set_q(self, value: str):
        self.q = (value or "")[:200]
        async for update in self._show(0):
            yield update

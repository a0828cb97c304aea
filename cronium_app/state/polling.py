"""What the live pages share: how often they poll, and (`FollowedRowMixin`,
for the pages about one row: a job, a workflow run) the page's flags, its
first read and its poll loop, which knows that its page is still the one open.

A page's on_load starts its poll loop (a background event). Reflex cancels
an on_load chain, background children included, when the tab navigates
elsewhere or disconnects; the loops also check for themselves, each round,
that the tab is still on their page and that no newer loop (a newer load of
the same page) replaced them.

A loop also watches the tab's session (`SessionWatch`): at most every
SESSION_RECHECK_S, and during its waits, it asks whether the session still
works (not signed out everywhere, password not changed, account not
disabled). When it has ended, the loop stops and ends with a page reload
(its background event returns it), so an open tab of an ended session
stops updating within a second, even with no click.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import reflex as rx

from cronium_app.errors import NotFound
from cronium_app.state.base import reload_page

logger = logging.getLogger(__name__)

DASHBOARD_POLL_S = 1.0
JOBS_POLL_S = 1.5
LOG_POLL_S = 0.15
JOB_POLL_EVERY = 8  # job detail: re-read the job row every N log polls at least
# After a failed poll, how long a loop waits before it tries again.
RETRY_AFTER_S = 2.0
# How often a poll loop re-checks its tab's session (one read of a users row).
SESSION_RECHECK_S = 0.5


class SessionWatch:
    """A poll loop's check that its tab's session still works, made at most
    every SESSION_RECHECK_S (a loop polling faster reads the users row no
    more often). `ended` and `pause` say True once the session has ended,
    and the loop then returns `reload_page()` at once: the reload's first
    event meets the session check (session_check.py), which drops the
    tab's data, and the page goes to /login."""

    def __init__(self, state: Any):
        self._state = state
        self._next_check = 0.0

    async def ended(self) -> bool:
        now = time.monotonic()
        if now < self._next_check:
            return False
        self._next_check = now + SESSION_RECHECK_S
        return await self._state._session_ended()

    async def pause(self, seconds: float) -> bool:
        """Wait `seconds`, watching the session meanwhile: True (at once) when it ended."""
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            await asyncio.sleep(min(left, SESSION_RECHECK_S))
            if await self.ended():
                return True
        return await self.ended()


@contextlib.asynccontextmanager
async def sole_loop(state: Any, generation: int) -> AsyncIterator[bool]:
    """Whether this poll loop may run: yes for the first loop of the page's
    current load (`state._watch`), no for any other. A loop is a background
    event the browser sends back after a load; a client can send it again
    any number of times, and each would be another loop polling the
    database. `state._looping` holds the generation of the loop that runs."""
    async with state:
        mine = generation == state._watch and state._looping != generation
        if mine:
            state._looping = generation
    try:
        yield mine
    finally:
        if mine:
            async with state:
                if state._looping == generation:
                    state._looping = 0


async def run_sole_loop(state: Any, generation: int, rounds: Callable[[], Awaitable[Any]]) -> Any:
    """Run `rounds()` if this is the sole loop of the page's current load;
    what it returns (the reload of an ended session, or None)."""
    async with sole_loop(state, generation) as mine:
        if mine:
            return await rounds()
    return None


async def refresh_while_shown(
    state: Any,
    generation: int,
    page_path: str,
    read: Callable[[], Any],
    show: Callable[[Any], None],
    *,
    every_s: float,
    what: str,
) -> None:
    """The body of a list page's poll loop (a background event): every
    `every_s`, while the tab is on `page_path` and no newer load replaced
    this loop, `read()` in a thread and `show(result)` under the state lock.
    A failed read shows a notice in `state.error` (naming `what`) and is
    tried again after RETRY_AFTER_S. The state has `_watch` and `_looping`.
    Returns the page's reload when the tab's session ended."""
    session = SessionWatch(state)
    async with sole_loop(state, generation) as mine:
        if not mine:
            return None
        while True:
            if await session.pause(every_s):
                return reload_page()
            async with state:
                if generation != state._watch or state.router.url.path.rstrip("/") != page_path:
                    return None
            try:
                result = await asyncio.to_thread(read)
            except Exception:
                logger.exception("%s refresh failed", what)
                async with state:
                    state.error = f"Live updates paused: the server could not read the {what}. Retrying…"
                if await session.pause(RETRY_AFTER_S):
                    return reload_page()
                continue
            async with state:
                if generation != state._watch:
                    return None
                show(result)


class FollowedRowMixin(rx.State, mixin=True):
    """A page about one row that it follows live. Mixed in before AppState."""

    loaded: bool = False
    not_found: bool = False
    error: str = ""
    poll_error: str = ""
    following: bool = False
    # The generation of the poll loop that may write (a newer load moves it on).
    _watch: int = 0
    # The generation of the poll loop that runs (sole_loop), 0 for none.
    _looping: int = 0

    def _restart(self) -> int:
        """A fresh page state and a new loop generation (an older loop stops)."""
        key = self._watch + 1
        self.reset()
        self._watch = key
        return key

    def _row_id_in_url(self) -> str:
        """The id the page's URL ends with (checked by `_load_row`)."""
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    async def _load_row(self, prefix: str, fetch: Callable[[int, str], Any], *, what: str, log_key: str):
        """The row whose id (starting with `prefix`) ends the URL: (id, row),
        or None once the page shows why not (not found, or a load error)."""
        row_id = self._row_id_in_url()
        if not row_id.startswith(prefix) or len(row_id) > 40:
            self.not_found = True
            self.loaded = True
            return None
        try:
            return row_id, await asyncio.to_thread(fetch, self._access, row_id)
        except NotFound:
            self.not_found = True
            self.loaded = True
        except Exception:
            logger.exception("%s load failed", what, extra={log_key: row_id})
            self.error = f"This {what} could not be loaded."
        return None

    async def _follow(self, generation: int, *args: Any, **kwargs: Any) -> Any:
        """The page's poll loop (a background event), once per load: see
        `_follow_rounds`. Returns the page's reload when the session ended."""
        return await run_sole_loop(self, generation, lambda: self._follow_rounds(generation, *args, **kwargs))

    async def _follow_rounds(
        self,
        generation: int,
        page_url: Callable[[], str],
        poll_args: Callable[[], tuple],
        fetch: Callable[..., Any],
        show: Callable[[Any], float | None],
        *,
        what: str,
        log_key: str,
        first_wait_s: float = 0.0,
    ) -> Any:
        """The rounds of the page's poll loop.

        Each round, under the state lock: stop when a newer load replaced this
        loop (`_watch` moved on) or the tab left `page_url()`; else take
        `poll_args()`. Then `fetch(*args)` in a thread, and `show(result)` under
        the lock, which returns how long to wait before the next round, or None
        when there is nothing more to follow. NotFound ends the loop with the
        page's not-found view; any other failure shows a notice and retries.
        `what` names the thing read, for the notice; the log names the poll's
        second argument (the row id) under `log_key`. The tab's session is
        watched throughout (SessionWatch): the page's reload is returned when
        it ended.
        """
        session = SessionWatch(self)
        if await session.pause(first_wait_s):
            return reload_page()
        while True:
            if await session.ended():
                return reload_page()
            async with self:
                if generation != self._watch or self.router.url.path.rstrip("/") != page_url():
                    return None
                args = poll_args()
            try:
                result = await asyncio.to_thread(fetch, *args)
            except NotFound:
                async with self:
                    if generation == self._watch:
                        self.not_found = True
                        self.following = False
                return None
            except Exception:
                logger.exception("%s poll failed", what, extra={log_key: args[1]})
                async with self:
                    if generation != self._watch:
                        return None
                    self.poll_error = f"Live updates paused: the server could not read the {what}. Retrying…"
                if await session.pause(RETRY_AFTER_S):
                    return reload_page()
                continue
            async with self:
                if generation != self._watch:
                    return None
                self._put("poll_error", "")
                wait_s = show(result)
                if wait_s is None:
                    self.following = False
                    return None
            if wait_s and await session.pause(wait_s):
                return reload_page()

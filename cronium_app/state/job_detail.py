"""/jobs/{id}: the job's status and metadata, and its live log.

The log is read as "lines after seq N" (get_logs), N being the last line
this page holds, so a page that opens halfway through a run, or reopens
after a reload or a reconnect (which restarts this page's load), gets every
line exactly once and in order. While the job runs the page polls every
LOG_POLL_S; once the job is over, one last read collects what is left.

Lines reach the browser in two lists: `log_head`, resent only every
TAIL_CHUNK lines, and `log_tail`, the newest lines, which is all that a
poll sends. A page holds at most KEEP_LINES lines and shows the last
MAX_SHOWN of those matching the filter; "Download" always has all lines.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import reflex as rx

from cronium_app.auth.access import Access
from cronium_app.db import read_session, write_session
from cronium_app.errors import CroniumError
from cronium_app.jobs import service as jobs
from cronium_app.jobs.actions import actions_of_job
from cronium_app.jobs.status import TERMINAL
from cronium_app import routes
from cronium_app.state.base import AppState
from cronium_app.state.execute import queue_run
from cronium_app.state.polling import JOB_POLL_EVERY, LOG_POLL_S, FollowedRowMixin
from cronium_app.display.rows import (
    ActionRow, JobView, LogLine, ServerRunRow, action_rows, job_view, log_line, server_runs,
)

logger = logging.getLogger(__name__)

LOG_BATCH = 1000
DOWNLOAD_BATCH = 10_000
TAIL_CHUNK = 200
MAX_SHOWN = 2000
KEEP_LINES = 10_000
# After the job's end, how often and how many times the page looks again
# while the jobs its conditional actions queued are still going.
ACTION_POLL_S = 1.0
ACTION_WAIT_ROUNDS = 120

_SCROLL_LOG_TO_END = (
    "setTimeout(() => { const e = document.getElementById('log-lines'); if (e) e.scrollTop = e.scrollHeight; }, 50)"
)

# What the page holds of the log (JobDetailState): kept across a load of
# the same job.
_LOG_STATE = ("log_head", "log_tail", "log_filter", "line_count", "hidden_count", "_last_seq", "_lines", "_dropped")

_EMPTY_VIEW: JobView = job_view({"id": "", "status": "pending"}, "UTC")


def _poll(access: Access, job_id: str, after_seq: int, known_status: str, with_job: bool):
    """New log lines, and the job itself when it may have changed."""
    with read_session() as session:
        logs = jobs.get_logs(session, access, job_id, after_seq=after_seq, limit=LOG_BATCH)
        job = None
        if with_job or logs["status"] != known_status or logs["complete"]:
            job = _with_actions(session, access, job_id)
        return logs, job


def _with_actions(session, access: Access, job_id: str) -> dict[str, Any]:
    """The job, with the conditional actions its end fired (and the job
    whose end fired it, when an action created it)."""
    return {**jobs.get_job_dict(session, access, job_id), "actions": actions_of_job(session, access, job_id)}


def _job(access: Access, job_id: str) -> dict[str, Any]:
    with read_session() as session:
        return _with_actions(session, access, job_id)


def _cancel(access: Access, job_id: str) -> dict[str, Any]:
    with write_session() as session:
        jobs.cancel_job(session, access, job_id)
    return _job(access, job_id)


def _full_log(access: Access, job_id: str) -> str:
    parts: list[str] = []
    after = 0
    with read_session() as session:
        while True:
            batch = jobs.get_logs(session, access, job_id, after_seq=after, limit=DOWNLOAD_BATCH)
            for line in batch["lines"]:
                prefix = "" if line["stream"] == "stdout" else f"[{line['stream']}] "
                parts.append(prefix + line["line"])
            if len(batch["lines"]) < DOWNLOAD_BATCH:
                break
            after = batch["lastSeq"]
    return "\n".join(parts) + ("\n" if parts else "")


class JobDetailState(FollowedRowMixin, AppState):
    job: JobView = _EMPTY_VIEW
    # Per-server results of a job that ran on remote servers.
    server_runs: list[ServerRunRow] = []
    # What the job's end fired, and the job whose end queued this one (if any).
    actions: list[ActionRow] = []
    origin_job_id: str = ""
    origin_purpose: str = ""
    source_event_id: int = 0
    terminal: bool = False
    cancelling: bool = False
    rerunning: bool = False
    downloading: bool = False

    log_head: list[LogLine] = []
    log_tail: list[LogLine] = []
    log_filter: str = ""
    line_count: int = 0
    hidden_count: int = 0

    _job_id: str = ""
    _last_seq: int = 0
    _lines: list[LogLine] = []
    _dropped: int = 0

    @rx.var
    def shown_count(self) -> int:
        return len(self.log_head) + len(self.log_tail)

    @rx.var
    def can_cancel(self) -> bool:
        return self.loaded and not self.terminal and not self.job["cancel_requested"]

    # -- the job -------------------------------------------------------------------

    def _set_job(self, job: dict[str, Any]) -> None:
        self._put("job", job_view(job, self.tz))
        self._put("server_runs", server_runs(job))
        found = job.get("actions") or {}
        self._put("actions", action_rows(found.get("items") or []))
        origin = found.get("origin") or {}
        self._put("origin_job_id", origin.get("jobId") or "")
        self._put("origin_purpose", origin.get("purpose") or "")
        self._put("source_event_id", job.get("eventId") or 0)
        self._put("terminal", job["status"] in TERMINAL)

    # -- the log -------------------------------------------------------------------

    def _matches(self, line: LogLine) -> bool:
        needle = self.log_filter.strip().lower()
        return not needle or needle in line["line"].lower()

    def _add_lines(self, rows: list[dict[str, Any]]) -> None:
        fresh = [log_line(row, self.tz) for row in rows if row["seq"] > self._last_seq]
        if not fresh:
            return
        self._last_seq = fresh[-1]["seq"]
        self._lines.extend(fresh)
        if len(self._lines) > KEEP_LINES:
            extra = len(self._lines) - KEEP_LINES
            self._dropped += extra
            del self._lines[:extra]
        self.line_count += len(fresh)
        matching = [line for line in fresh if self._matches(line)]
        if not matching:
            return
        tail = self.log_tail + matching
        if len(tail) > TAIL_CHUNK:
            head = self.log_head + tail
            if len(head) > MAX_SHOWN:
                self.hidden_count += len(head) - MAX_SHOWN
                head = head[-MAX_SHOWN:]
            self.log_head = head
            tail = []
        self.log_tail = tail

    def _log_state(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _LOG_STATE}

    def _put_log_state(self, kept: dict[str, Any]) -> None:
        for name, value in kept.items():
            setattr(self, name, value)

    def _reshow(self) -> None:
        matching = [line for line in self._lines if self._matches(line)]
        shown = matching[-MAX_SHOWN:]
        self.hidden_count = len(matching) - len(shown) + (self._dropped if not self.log_filter.strip() else 0)
        self.log_head = shown
        self.log_tail = []

    # -- loading and following ---------------------------------------------------------

    @rx.event
    async def load(self):
        if (go := await self._require_user()) is not None:
            return go
        # A reconnect (or a reload of the tab) runs on_load again on the page
        # that is open: the log it holds stays, and the poll goes on from its
        # last line. Emptied and refilled, the log box would lose the reader's
        # place (and, while it shows "Loading", its own scroll state).
        kept = self._log_state() if self._job_id and self._job_id == self._row_id_in_url() else None
        key = self._restart()
        found = await self._load_row("job_", _job, what="job", log_key="job_id")
        if found is None:
            return None
        self._job_id, job = found
        if kept is not None:
            self._put_log_state(kept)
        self._set_job(job)
        self.loaded = True
        self.following = True
        return JobDetailState.follow(key)

    @rx.event(background=True)
    async def follow(self, generation: int):
        polls = 0

        waits_for_actions = 0

        def poll_args() -> tuple:
            with_job = waits_for_actions > 0 or polls % JOB_POLL_EVERY == 0
            return (self._access, self._job_id, self._last_seq, self.job["status"], with_job)

        def show(result) -> float | None:
            nonlocal polls, waits_for_actions
            logs, job = result
            self._add_lines(logs["lines"])
            if job is not None:
                self._set_job(job)
            if logs["complete"]:
                # The job is over; the jobs its actions queued may not be yet:
                # their outcome is shown when it comes (for a while).
                if not self._actions_pending() or waits_for_actions >= ACTION_WAIT_ROUNDS:
                    return None
                waits_for_actions += 1
                return ACTION_POLL_S
            polls += 1
            return LOG_POLL_S if len(logs["lines"]) < LOG_BATCH else 0.0

        return await self._follow(
            generation, lambda: routes.job_url(self._job_id), poll_args, _poll, show,
            what="log", log_key="job_id",
        )

    def _actions_pending(self) -> bool:
        return any(a["result_job_id"] and a["result_status"] not in TERMINAL for a in self.actions)

    @rx.event
    def set_log_filter(self, value: str):
        self.log_filter = value[:200]
        self._reshow()
        # The list was replaced: start again from its newest line.
        return rx.call_script(_SCROLL_LOG_TO_END)

    # -- actions -----------------------------------------------------------------

    @rx.event
    async def cancel(self):
        if self.cancelling or self.terminal or not self._job_id:
            return
        self.cancelling = True
        yield
        try:
            job = await asyncio.to_thread(_cancel, self._access, self._job_id)
        except CroniumError as exc:
            self.cancelling = False
            yield rx.toast.error(exc.message, id="cancel-result")
            return
        except Exception:
            logger.exception("cancel failed", extra={"job_id": self._job_id})
            self.cancelling = False
            yield rx.toast.error("The job could not be cancelled. Try again.", id="cancel-result")
            return
        self._set_job(job)
        self.cancelling = False
        if job["status"] == "cancelled":
            message = "Job cancelled."
        else:
            message = "Cancel requested: the worker is stopping the job."
        yield rx.toast.info(message, id="cancel-result")

    @rx.event
    async def rerun(self):
        if self.rerunning or not self.source_event_id:
            return
        self.rerunning = True
        yield
        try:
            job_id = await asyncio.to_thread(queue_run, self._access, self.source_event_id)
        except CroniumError as exc:
            self.rerunning = False
            yield rx.toast.error(f"Could not run the event again: {exc.message}", id="rerun-result")
            return
        except Exception:
            logger.exception("re-run failed", extra={"job_id": self._job_id})
            self.rerunning = False
            yield rx.toast.error("Could not run the event again. Try again.", id="rerun-result")
            return
        self.rerunning = False
        yield rx.redirect(routes.job_url(job_id))

    @rx.event
    async def download(self):
        if self.downloading or not self._job_id:
            return
        self.downloading = True
        yield
        try:
            text = await asyncio.to_thread(_full_log, self._access, self._job_id)
        except Exception:
            logger.exception("log download failed", extra={"job_id": self._job_id})
            self.downloading = False
            yield rx.toast.error("The log could not be read. Try again.", id="download-result")
            return
        self.downloading = False
        yield rx.download(data=text, filename=f"{self._job_id}.log", mime_type="text/plain")

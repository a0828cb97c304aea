"""The workflows list: search, pages, and a Run button per workflow.

Starting a run (here, or from the editor) goes through `queue_workflow_run`,
which then opens the run's page."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any, ClassVar, TypedDict

import reflex as rx

from cronium_app.auth.access import Access
from cronium_app.db import read_session, write_session
from cronium_app.errors import CroniumError
from cronium_app import routes
from cronium_app.pagination import Page
from cronium_app.settings import get_settings
from cronium_app.state.base import AppState
from cronium_app.display.formatting import fmt_short
from cronium_app.state.paged_list import SearchableListMixin
from cronium_app.jobs import workflow_runs
from cronium_app.workflows import service as workflows

logger = logging.getLogger(__name__)

PAGE_SIZE = 20


class WorkflowRow(TypedDict):
    id: int
    href: str
    name: str
    description: str
    status: str
    schedule: str
    updated: str


def workflow_row(item: dict[str, Any], tz: str) -> WorkflowRow:
    return {
        "id": item["id"],
        "href": routes.workflow_url(item["id"]),
        "name": item["name"],
        "description": item.get("description") or "",
        "status": item["status"],
        "schedule": item.get("scheduleType") or "manual",
        "updated": fmt_short(item.get("updatedAt"), tz),
    }


def _query(access: Access, q: str, offset: int) -> Page:
    with read_session() as session:
        return workflows.list_workflows(session, access, q=q or None, limit=PAGE_SIZE, offset=offset)


def queue_workflow_run(access: Access, workflow_id: int, run_input: Any = None) -> str:
    """Start a run (its first steps' jobs are queued at once); the run id."""
    with write_session() as session:
        run, _created = workflow_runs.start_run(session, get_settings(), access, workflow_id, run_input)
        return run.id


class WorkflowListState(SearchableListMixin, AppState):
    rows: list[WorkflowRow] = []
    # The workflow whose run is being started (0: none); its button says so.
    starting_for: int = 0

    page_size: ClassVar[int] = PAGE_SIZE
    noun: ClassVar[str] = "workflow"

    def _reader(self):
        return partial(_query, self._access, self.q.strip())

    def _show_rows(self, page: Page) -> None:
        self.rows = [workflow_row(item, self.tz) for item in page.items]

    def _reset(self) -> None:
        self.starting_for = 0

    @rx.event
    async def clear_search(self):
        self.q = ""
        async for update in self._show(0):
            yield update

    @rx.event
    async def run(self, workflow_id: int):
        if self.starting_for:
            return
        self.starting_for = int(workflow_id)
        yield
        try:
            run_id = await asyncio.to_thread(queue_workflow_run, self._access, int(workflow_id))
        except CroniumError as exc:
            self.starting_for = 0
            yield rx.toast.error(f"Could not run the workflow: {exc.message}", id="run-result")
            return
        except Exception:
            logger.exception("workflow run failed", extra={"workflow_id": workflow_id})
            self.starting_for = 0
            yield rx.toast.error("Could not run the workflow: the server failed. Try again.", id="run-result")
            return
        self.starting_for = 0
        yield rx.redirect(routes.workflow_run_url(run_id))

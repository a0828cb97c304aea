"""/workflow-runs/{id}: a run's status and each step's, live.

The page polls the run about once a second (a background event, as the
job page does) until the run has settled and none of its jobs is still
running; Cancel stops the steps not started yet and ends the run.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, TypedDict

import reflex as rx

from cronium_app.auth.access import Access
from cronium_app.db import read_session, write_session
from cronium_app.events import service as events
from cronium_app.errors import CroniumError, NotFound
from cronium_app.jobs import service as jobs
from cronium_app.jobs.status import HELD, PENDING
from cronium_app import routes
from cronium_app.state.polling import FollowedRowMixin
from cronium_app.state.base import AppState
from cronium_app.display.formatting import fmt_datetime, fmt_duration, fmt_json, job_duration, parse_iso
from cronium_app.jobs import run_state, workflow_runs
from cronium_app.workflows import service as workflows

logger = logging.getLogger(__name__)

# A run's steps take seconds at least: once a second is live enough.
POLL_S = 1.0
MAX_STEPS = 200
ACTIVE_JOB = (PENDING, *HELD)


class StepState(TypedDict):
    name: str
    status: str
    event_name: str
    event_href: str
    job_id: str
    job_href: str
    duration: str
    output: str


class RunView(TypedDict):
    id: str
    status: str
    workflow_name: str
    workflow_href: str
    created: str
    completed: str
    duration: str
    input: str


_EMPTY_RUN: RunView = {
    "id": "", "status": "running", "workflow_name": "", "workflow_href": "", "created": "—",
    "completed": "—", "duration": "—", "input": "",
}


def _snapshot(access: Access, run_id: str) -> dict[str, Any]:
    with read_session() as session:
        run = run_state.run_to_dict(session, run_state.get_run(session, access, run_id))
        name = "(deleted workflow)"
        if run["workflowId"] is not None:
            try:
                name = workflows.get_workflow(session, access, run["workflowId"]).name
            except NotFound:
                name = f"workflow {run['workflowId']}"
        # Steps not started yet have no job to name their event: ask for it.
        event_names: dict[int, str] = {}
        for event_id in {step["eventId"] for step in run["steps"] if step.get("eventId")}:
            try:
                event_names[event_id] = events.get_event(session, access, event_id).name
            except NotFound:
                pass
        step_jobs = jobs.list_jobs_ordered(
            session, access, jobs.JobFilter(workflow_run_id=run_id), limit=MAX_STEPS
        ).items
        return {"run": run, "workflowName": name, "eventNames": event_names,
                "jobs": {job["id"]: job for job in step_jobs}}


def _cancel(access: Access, run_id: str) -> dict[str, Any]:
    with write_session() as session:
        workflow_runs.cancel_run(session, access, run_id)
    return _snapshot(access, run_id)


def step_state(step: dict[str, Any], job: dict[str, Any] | None, event_names: dict[int, str]) -> StepState:
    event_id = step.get("eventId")
    job_id = step.get("jobId") or ""
    return {
        "name": step["name"],
        "status": step.get("status") or "waiting",
        "event_name": event_names.get(event_id) or (job or {}).get("eventName") or "deleted event",
        "event_href": routes.event_url(event_id) if event_id else "",
        "job_id": job_id,
        "job_href": routes.job_url(job_id) if job_id else "",
        "duration": job_duration(job) if job else "—",
        "output": fmt_json(step.get("output")),
    }


def run_view(snap: dict[str, Any], tz: str) -> RunView:
    run = snap["run"]
    start, end = parse_iso(run.get("createdAt")), parse_iso(run.get("completedAt"))
    return {
        "id": run["id"],
        "status": run["status"],
        "workflow_name": snap["workflowName"],
        "workflow_href": routes.workflow_url(run["workflowId"]) if run["workflowId"] is not None else routes.WORKFLOWS,
        "created": fmt_datetime(run.get("createdAt"), tz),
        "completed": fmt_datetime(run.get("completedAt"), tz),
        "duration": fmt_duration((end - start).total_seconds() * 1000) if start and end else "—",
        "input": fmt_json(run.get("input")),
    }


def settled(snap: dict[str, Any]) -> bool:
    """Nothing more will change: the run is over and none of its jobs runs."""
    if snap["run"]["status"] == run_state.RunStatus.running:
        return False
    return not any(job["status"] in ACTIVE_JOB for job in snap["jobs"].values())


class WorkflowRunState(FollowedRowMixin, AppState):
    run: RunView = _EMPTY_RUN
    steps: list[StepState] = []
    cancelling: bool = False

    _run_id: str = ""

    @rx.var
    def can_cancel(self) -> bool:
        return self.loaded and self.run["status"] == "running"

    def _apply(self, snap: dict[str, Any]) -> None:
        self._put("run", run_view(snap, self.tz))
        found = snap["jobs"]
        self._put("steps", [
            step_state(step, found.get(step.get("jobId") or ""), snap["eventNames"]) for step in snap["run"]["steps"]
        ])

    @rx.event
    async def load(self):
        if (go := await self._require_user()) is not None:
            return go
        key = self._restart()
        found = await self._load_row("run_", _snapshot, what="run", log_key="run_id")
        if found is None:
            return None
        self._run_id, snap = found
        self._apply(snap)
        self.loaded = True
        if settled(snap):
            return None
        self.following = True
        return WorkflowRunState.follow(key)

    @rx.event(background=True)
    async def follow(self, generation: int):
        def show(snap) -> float | None:
            self._apply(snap)
            return None if settled(snap) else POLL_S

        return await self._follow(
            generation, lambda: routes.workflow_run_url(self._run_id), lambda: (self._access, self._run_id),
            _snapshot, show, what="run", log_key="run_id", first_wait_s=POLL_S,
        )

    @rx.event
    async def cancel(self):
        if self.cancelling or not self._run_id or self.run["status"] != "running":
            return
        self.cancelling = True
        yield
        try:
            snap = await asyncio.to_thread(_cancel, self._access, self._run_id)
        except CroniumError as exc:
            self.cancelling = False
            yield rx.toast.error(exc.message, id="cancel-result")
            return
        except Exception:
            logger.exception("workflow run cancel failed", extra={"run_id": self._run_id})
            self.cancelling = False
            yield rx.toast.error("The run could not be cancelled. Try again.", id="cancel-result")
            return
        self._apply(snap)
        self.cancelling = False
        yield rx.toast.info("Run cancelled: steps not started yet will not run.", id="cancel-result")

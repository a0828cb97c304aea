"""Workflow runs, as groups of jobs: start a run, start its ready steps,
settle its status, cancel it.

`advance_run` is idempotent: it reads the run's state (`run_state.view_run`),
creates a job for each ready step under the key `wfrun:{run}:step:{step}`
(unique, so a step never gets two jobs), and writes the run's final status
once nothing more can start. It runs after every job of the run ends (in
the transaction that records the end) and from a periodic reconciler, which
is what makes a run survive an app restart between a step's end and the
next step's start.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from cronium_app import audit
from cronium_app.auth.access import Ability, Access
from cronium_app.errors import Conflict
from cronium_app.ids import new_id
from cronium_app.jobs.cancel import cancel_where
from cronium_app.jobs.create import check_queue_room, insert_job
from cronium_app.jobs.run_state import RunStatus, RunView, get_run, step_key, view_run
from cronium_app.models import Event, Job, WorkflowRun, WorkflowStep
from cronium_app.payloads import check_io_size
from cronium_app.settings import Settings
from cronium_app.timeutil import utcnow
from cronium_app.workflows.service import get_workflow, graph_snapshot

logger = logging.getLogger(__name__)


def start_run(
    session: Session, settings: Settings, access: Access, workflow_id: int, input: Any = None,
    idempotency_key: str | None = None,
    scheduled: bool = False,
) -> tuple[WorkflowRun, bool]:
    """A new run of a workflow with its first steps queued. Returns (run,
    created); with an idempotency key already used, the existing run."""
    access.require(Ability.run, "run workflows")
    workflow = get_workflow(session, access, workflow_id)
    if workflow.status == "archived":
        raise Conflict(f"workflow {workflow_id} is archived; unarchive it to run it")
    check_io_size(input, settings, "input")
    if idempotency_key is not None:
        existing = session.exec(select(WorkflowRun).where(WorkflowRun.idempotency_key == idempotency_key)).first()
        if existing is not None:
            return existing, False
    if not scheduled:
        check_queue_room(session, settings, access.user_id)
    run = WorkflowRun(id=new_id("run"), workflow_id=workflow_id, user_id=access.user_id,
                      workspace_id=access.workspace_id, status=RunStatus.running,
                      input=input, idempotency_key=idempotency_key, graph=graph_snapshot(session, workflow_id))
    session.add(run)
    session.flush()
    _advance(session, run)
    if not scheduled:
        audit.record(session, audit.Action.workflow_run, workflow, details={"runId": run.id})
    return run, True


def advance_run(session: Session, run_id: str) -> int:
    """Start the run's ready steps and settle its status; returns jobs created."""
    run = session.get(WorkflowRun, run_id)
    return _advance(session, run) if run is not None else 0


def advance_after_job(session: Session, job_id: str) -> None:
    """A job ended: move its workflow run on, if it belongs to one. In a
    savepoint, so that a failure here (logged; the reconciler tries again)
    never undoes the job's own end."""
    run_id = session.execute(sa.select(Job.workflow_run_id).where(Job.id == job_id)).scalar()
    if run_id is None:
        return
    try:
        with session.begin_nested():
            advance_run(session, run_id)
    except Exception:
        logger.exception("advancing workflow run %s after job %s failed", run_id, job_id,
                         extra={"job_id": job_id, "run_id": run_id})


def _advance(session: Session, run: WorkflowRun) -> int:
    if run.status != RunStatus.running:
        return 0
    view = view_run(session, run)
    created = 0
    if view.ready:
        created = _start_steps(session, run, view)
        session.flush()
        view = view_run(session, run)
    if view.status != RunStatus.running:
        now = utcnow()
        session.execute(
            sa.update(WorkflowRun)
            .where(WorkflowRun.id == run.id, WorkflowRun.status == RunStatus.running)
            .values(status=view.status, completed_at=now, updated_at=now)
        )
    return created


def _start_steps(session: Session, run: WorkflowRun, view: RunView) -> int:
    """A job for each ready step, running what the run's graph froze for it."""
    steps = {step.id: step for step in view.steps}
    event_ids = {steps[step_id].event_id for step_id in view.ready}
    events = {e.id: e for e in session.exec(select(Event).where(Event.id.in_(event_ids))).all()}
    # The link to the step row only while it exists: replacing the
    # workflow's graph deletes the rows, not the steps of this run.
    live_steps = set(session.exec(select(WorkflowStep.id).where(WorkflowStep.id.in_(view.ready.keys()))).all())
    created = 0
    for step_id, step_input in view.ready.items():
        event_id = steps[step_id].event_id
        execution = view.graph.executions.get(event_id) if view.graph.executions is not None else None
        if execution is None and event_id not in events:
            continue  # a run from before snapshots whose event is gone: nothing to run
        event = events.get(event_id)
        _, was_created = insert_job(
            session, user_id=run.user_id, workspace_id=run.workspace_id, event=event, execution=execution, input=step_input,
            priority=event.priority if event is not None else 0,
            idempotency_key=step_key(run.id, step_id), workflow_id=run.workflow_id, workflow_run_id=run.id,
            workflow_step_id=step_id if step_id in live_steps else None,
        )
        created += int(was_created)
    return created


def cancel_run(session: Session, access: Access, run_id: str) -> WorkflowRun:
    """The run ends as cancelled; its pending steps end and its running ones
    are asked to stop."""
    access.require(Ability.run, "cancel workflow runs")
    run = get_run(session, access, run_id)
    now = utcnow()
    changed = session.execute(
        sa.update(WorkflowRun)
        .where(WorkflowRun.id == run_id, WorkflowRun.status == RunStatus.running)
        .values(status=RunStatus.cancelled, completed_at=now, updated_at=now)
    ).rowcount
    if not changed:
        raise Conflict(f"workflow run {run_id} is already {run.status}")
    cancel_where(session, Job.workflow_run_id == run_id)
    session.refresh(run)
    audit.record(session, audit.Action.workflow_cancel, audit.Target("workflow_run", run.id),
                 details={"workflowId": run.workflow_id}, workspace_id=run.workspace_id)
    return run

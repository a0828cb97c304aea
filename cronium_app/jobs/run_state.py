"""A workflow run's state, derived from its graph and its jobs.

The state of a run is never stored step by step: from the graph and the
run's jobs (one per started step, found by its idempotency key) `view_run`
works out which steps are done, which are skipped, and which are ready (with
the input each ready step gets), and the run's status once nothing more can
start. Reading only: the jobs are created, and the run's status written, by
`workflow_runs`, which calls this after every job end and from a periodic
reconciler. (Workflow definitions, the graphs, belong to
`cronium_app.workflows`.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from cronium_app.errors import NotFound
from cronium_app.jobs.status import TERMINAL, UNSUCCESSFUL, JobStatus
from cronium_app.models import Job, WorkflowEdge, WorkflowRun, WorkflowStep
from cronium_app.timeutil import isoformat
from cronium_app.workflows.service import get_workflow, is_condition_false, load_graph


class RunStatus:
    running = "running"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


SKIPPED = "skipped"
WAITING = "waiting"


def step_key(run_id: str, step_id: int) -> str:
    return f"wfrun:{run_id}:step:{step_id}"


def _edge_holds(edge: WorkflowEdge, parent: Job) -> bool:
    if parent.status == JobStatus.cancelled.value:
        return False
    if edge.condition == "always":
        return True
    if edge.condition == "on_success":
        return parent.status == JobStatus.completed.value
    if edge.condition == "on_failure":
        return parent.status in UNSUCCESSFUL
    wanted = not is_condition_false(edge.condition)
    # A condition never set counts as false.
    return bool(parent.condition) == wanted


@dataclass
class RunView:
    """Every step's state: a job status, `waiting`, `skipped`, or `ready`."""

    steps: list[WorkflowStep]  # the graph's steps, in definition order
    states: dict[int, str]
    jobs: dict[int, Job]
    ready: dict[int, Any]  # step id → the input its job gets
    status: str


def _topological(steps: list[WorkflowStep], edges: list[WorkflowEdge]) -> list[WorkflowStep]:
    by_id = {step.id: step for step in steps}
    indegree = {step.id: 0 for step in steps}
    for edge in edges:
        indegree[edge.to_step_id] += 1
    order, frontier = [], [sid for sid, d in indegree.items() if d == 0]
    while frontier:
        sid = frontier.pop(0)
        order.append(by_id[sid])
        for edge in edges:
            if edge.from_step_id == sid:
                indegree[edge.to_step_id] -= 1
                if indegree[edge.to_step_id] == 0:
                    frontier.append(edge.to_step_id)
    return order


def view_run(session: Session, run: WorkflowRun) -> RunView:
    steps, edges = load_graph(session, run.workflow_id)
    names = {step.id: step.name for step in steps}
    jobs = {
        job.workflow_step_id: job
        for job in session.exec(select(Job).where(Job.workflow_run_id == run.id)).all()
        if job.workflow_step_id is not None
    }
    incoming: dict[int, list[WorkflowEdge]] = {step.id: [] for step in steps}
    for edge in edges:
        incoming[edge.to_step_id].append(edge)
    states: dict[int, str] = {}
    ready: dict[int, Any] = {}
    for step in _topological(steps, edges):
        if step.id in jobs:
            states[step.id] = jobs[step.id].status
            continue
        parents = incoming[step.id]
        if not parents:
            states[step.id] = "ready"
            ready[step.id] = run.input
            continue
        if any(states[e.from_step_id] not in (*TERMINAL, SKIPPED) for e in parents):
            states[step.id] = WAITING
            continue
        satisfied = [e for e in parents if states[e.from_step_id] != SKIPPED and _edge_holds(e, jobs[e.from_step_id])]
        if not satisfied:
            states[step.id] = SKIPPED
            continue
        states[step.id] = "ready"
        if len(satisfied) == 1:
            ready[step.id] = jobs[satisfied[0].from_step_id].output
        else:
            ready[step.id] = {names[e.from_step_id]: jobs[e.from_step_id].output for e in satisfied}
    return RunView(steps=steps, states=states, jobs=jobs, ready=ready, status=_run_status(run, states, jobs, edges))


def _run_status(run: WorkflowRun, states: dict[int, str], jobs: dict[int, Job], edges: list[WorkflowEdge]) -> str:
    if run.status == RunStatus.cancelled:
        return RunStatus.cancelled
    if any(state not in (*TERMINAL, SKIPPED) for state in states.values()):
        return RunStatus.running
    for step_id, job in jobs.items():
        if job.status == JobStatus.cancelled.value:
            return RunStatus.cancelled
        if job.status in UNSUCCESSFUL:
            handled = any(e.from_step_id == step_id and e.condition == "on_failure" for e in edges)
            if not handled:
                return RunStatus.failed
    return RunStatus.completed


def running_run_ids(session: Session) -> list[str]:
    return list(session.exec(select(WorkflowRun.id).where(WorkflowRun.status == RunStatus.running)).all())


def get_run(session: Session, user_id: int, run_id: str) -> WorkflowRun:
    run = session.get(WorkflowRun, run_id)
    if run is None or run.user_id != user_id:
        raise NotFound(f"workflow run {run_id} not found")
    return run


def run_to_dict(session: Session, run: WorkflowRun) -> dict[str, Any]:
    view = view_run(session, run)
    return {
        "id": run.id,
        "workflowId": run.workflow_id,
        "status": run.status,
        "input": run.input,
        "createdAt": isoformat(run.created_at),
        "completedAt": isoformat(run.completed_at),
        "steps": [
            {
                "stepId": step.id,
                "name": step.name,
                "eventId": step.event_id,
                "status": view.states.get(step.id),
                "jobId": view.jobs[step.id].id if step.id in view.jobs else None,
                "output": view.jobs[step.id].output if step.id in view.jobs else None,
            }
            for step in view.steps
        ],
    }


def list_runs(session: Session, user_id: int, workflow_id: int, *, limit: int, offset: int) -> list[dict[str, Any]]:
    get_workflow(session, user_id, workflow_id)
    rows = session.exec(
        select(WorkflowRun).where(WorkflowRun.workflow_id == workflow_id)
        .order_by(WorkflowRun.created_at.desc(), WorkflowRun.id.desc()).limit(limit).offset(offset)
    ).all()
    return [
        {"id": r.id, "status": r.status, "createdAt": isoformat(r.created_at), "completedAt": isoformat(r.completed_at)}
        for r in rows
    ]

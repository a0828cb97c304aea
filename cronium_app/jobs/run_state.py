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

from cronium_app.auth.access import Access
from cronium_app.errors import NotFound
from cronium_app.jobs.status import TERMINAL, UNSUCCESSFUL, JobStatus
from cronium_app.models import Job, WorkflowRun
from cronium_app.timeutil import isoformat
from cronium_app.workflows.service import get_workflow, graph_snapshot, is_condition_false


class RunStatus:
    running = "running"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


SKIPPED = "skipped"
WAITING = "waiting"


def step_key(run_id: str, step_id: int) -> str:
    return f"wfrun:{run_id}:step:{step_id}"


@dataclass(frozen=True)
class Step:
    id: int
    name: str
    event_id: int


@dataclass(frozen=True)
class Edge:
    from_step_id: int
    to_step_id: int
    condition: str


@dataclass(frozen=True)
class RunGraph:
    """The graph a run follows: the one frozen when it started
    (`workflows.service.graph_snapshot`), so editing or deleting the
    workflow or its events never re-runs, skips or unblocks a step of a run
    that is going. Runs older than the snapshot follow the current graph
    (`executions` None: their steps run their events as they are now)."""

    steps: list[Step]
    edges: list[Edge]
    executions: dict[int, dict[str, Any]] | None  # event id → execution spec

    @classmethod
    def of(cls, session: Session, run: WorkflowRun) -> "RunGraph":
        frozen = run.graph
        if frozen is None:
            frozen = graph_snapshot(session, run.workflow_id) if run.workflow_id is not None else {}
            executions = None
        else:
            executions = {int(event_id): spec for event_id, spec in frozen.get("executions", {}).items()}
        return cls(
            steps=[Step(s["id"], s["name"], s["eventId"]) for s in frozen.get("steps", [])],
            edges=[Edge(e["from"], e["to"], e["condition"]) for e in frozen.get("edges", [])],
            executions=executions,
        )


def _edge_holds(edge: Edge, parent: Job) -> bool:
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

    graph: RunGraph
    steps: list[Step]  # the graph's steps, in definition order
    states: dict[int, str]
    jobs: dict[int, Job]
    ready: dict[int, Any]  # step id → the input its job gets
    status: str


def _topological(steps: list[Step], edges: list[Edge]) -> list[Step]:
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
    graph = RunGraph.of(session, run)
    steps, edges = graph.steps, graph.edges
    names = {step.id: step.name for step in steps}
    # Found by key, not by workflow_step_id: that link is cleared when the
    # workflow's steps are replaced, while the run still follows its graph.
    step_of_key = {step_key(run.id, step.id): step.id for step in steps}
    jobs = {
        step_of_key[job.idempotency_key]: job
        for job in session.exec(select(Job).where(Job.workflow_run_id == run.id)).all()
        if job.idempotency_key in step_of_key
    }
    incoming: dict[int, list[Edge]] = {step.id: [] for step in steps}
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
    status = _run_status(run, states, jobs, edges)
    return RunView(graph=graph, steps=steps, states=states, jobs=jobs, ready=ready, status=status)


def _run_status(run: WorkflowRun, states: dict[int, str], jobs: dict[int, Job], edges: list[Edge]) -> str:
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


def get_run(session: Session, access: Access, run_id: str) -> WorkflowRun:
    run = session.get(WorkflowRun, run_id)
    if not access.owns(run):
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


def list_runs(session: Session, access: Access, workflow_id: int, *, limit: int, offset: int) -> list[dict[str, Any]]:
    get_workflow(session, access, workflow_id)
    rows = session.exec(
        select(WorkflowRun).where(WorkflowRun.workflow_id == workflow_id)
        .order_by(WorkflowRun.created_at.desc(), WorkflowRun.id.desc()).limit(limit).offset(offset)
    ).all()
    return [
        {"id": r.id, "status": r.status, "createdAt": isoformat(r.created_at), "completedAt": isoformat(r.completed_at)}
        for r in rows
    ]

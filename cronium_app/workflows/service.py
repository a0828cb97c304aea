"""Workflow definitions: create, read, replace, delete, scoped to their owner.

A definition is validated as a whole before anything is written: step
names unique, every edge between known steps, no cycles, and every step's
event owned by the same user.
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from cronium_app import audit
from cronium_app.auth.access import Ability, Access
from cronium_app.errors import Invalid, NotFound
from cronium_app.events.service import execution_spec
from cronium_app.models import Event, Workflow, WorkflowEdge, WorkflowStep
from cronium_app.pagination import Page, escape_like
from cronium_app.schedules import state as schedule_state
from cronium_app.timeutil import isoformat, utcnow
from cronium_app.workflows.schemas import EdgeCondition, WorkflowIn

# on_condition edges store their value in the condition column, which is
# VARCHAR(16): the stored name must fit (PostgreSQL enforces the length).
CONDITION_FALSE = "on_cond_false"
# What earlier code stored (SQLite ignored the length); still read as false.
_LEGACY_CONDITION_FALSE = "on_condition_false"


def is_condition_false(stored: str) -> bool:
    return stored in (CONDITION_FALSE, _LEGACY_CONDITION_FALSE)


def stored_condition(condition: EdgeCondition, value: bool) -> str:
    if condition == EdgeCondition.on_condition and not value:
        return CONDITION_FALSE
    return condition.value


def public_condition(stored: str) -> tuple[str, bool]:
    if is_condition_false(stored):
        return EdgeCondition.on_condition.value, False
    return stored, True


def find_cycle(names: list[str], edges: list[tuple[str, str]]) -> list[str] | None:
    """Steps left on a cycle (Kahn's algorithm), or None if there is none."""
    indegree = {name: 0 for name in names}
    children: dict[str, list[str]] = defaultdict(list)
    for parent, child in edges:
        children[parent].append(child)
        indegree[child] += 1
    ready = deque(name for name, degree in indegree.items() if degree == 0)
    seen = 0
    while ready:
        name = ready.popleft()
        seen += 1
        for child in children[name]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    if seen == len(names):
        return None
    return sorted(name for name, degree in indegree.items() if degree > 0)


def check_graph(names: list[str], edges: list[tuple[str, str]]) -> None:
    """A graph of named steps a workflow can run: names unique, edges between
    known steps, none twice, no step after itself and no cycle (the error
    names the steps on it)."""
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise Invalid(f"step names must be unique; repeated: {', '.join(duplicates)}", field="steps")
    known = set(names)
    for parent, child in edges:
        for end in (parent, child):
            if end not in known:
                raise Invalid(f"edge {parent!r} → {child!r} names an unknown step {end!r}", field="edges")
        if parent == child:
            raise Invalid(f"step {parent!r} cannot follow itself", field="edges")
    if len(set(edges)) != len(edges):
        raise Invalid("two edges join the same pair of steps", field="edges")
    cycle = find_cycle(names, edges)
    if cycle:
        raise Invalid(f"the steps form a cycle: {', '.join(cycle)}", field="edges")


def validate(session: Session, access: Access, data: WorkflowIn) -> None:
    check_graph([step.name for step in data.steps], [(edge.from_step, edge.to_step) for edge in data.edges])
    event_ids = {step.event_id for step in data.steps}
    owned = set(session.exec(select(Event.id).where(access.scope(Event), Event.id.in_(event_ids))).all())
    for step in data.steps:
        if step.event_id not in owned:
            raise Invalid(f"step {step.name!r}: event {step.event_id} not found", field="steps")


def _write_graph(session: Session, workflow: Workflow, data: WorkflowIn) -> None:
    ids: dict[str, int] = {}
    for step in data.steps:
        row = WorkflowStep(workflow_id=workflow.id, event_id=step.event_id, name=step.name, position=step.position)
        session.add(row)
        session.flush()
        ids[step.name] = row.id
    for edge in data.edges:
        session.add(
            WorkflowEdge(
                workflow_id=workflow.id,
                from_step_id=ids[edge.from_step],
                to_step_id=ids[edge.to_step],
                condition=stored_condition(edge.condition, edge.value),
            )
        )
    session.flush()


def create_workflow(session: Session, access: Access, data: WorkflowIn, *, source: str | None = None) -> Workflow:
    """`source` names what created it ("mcp"), when not the API or the UI."""
    access.require(Ability.edit, "create workflows")
    validate(session, access, data)
    workflow = Workflow(user_id=access.user_id, workspace_id=access.workspace_id, name=data.name,
                        description=data.description, status=data.status, tags=data.tags, source=source)
    for key, value in data.row_values().items():
        setattr(workflow, key, value)
    schedule_state.on_saved(workflow, None, utcnow())
    session.add(workflow)
    session.flush()
    _write_graph(session, workflow, data)
    audit.record(session, audit.Action.workflow_create, workflow, after=_audit_snapshot(session, workflow))
    return workflow


def _audit_snapshot(session: Session, workflow: Workflow) -> dict[str, Any]:
    """The workflow's row and its graph (steps and edges), as the audit log
    compares them."""
    return {**audit.snapshot(workflow), "graph": graph_snapshot(session, workflow.id)}


def get_workflow(session: Session, access: Access, workflow_id: int) -> Workflow:
    workflow = session.get(Workflow, workflow_id)
    if not access.owns(workflow):
        raise NotFound(f"workflow {workflow_id} not found")
    return workflow


def replace_workflow(session: Session, access: Access, workflow_id: int, data: WorkflowIn) -> Workflow:
    """A new definition replaces the old. Past runs keep their jobs; their
    links to removed steps are cleared by the foreign keys."""
    access.require(Ability.edit, "change workflows")
    workflow = get_workflow(session, access, workflow_id)
    validate(session, access, data)
    before = _audit_snapshot(session, workflow)
    session.execute(sa.delete(WorkflowEdge).where(WorkflowEdge.workflow_id == workflow_id))
    session.execute(sa.delete(WorkflowStep).where(WorkflowStep.workflow_id == workflow_id))
    schedule_before = schedule_state.snapshot(workflow)
    workflow.name, workflow.description, workflow.status, workflow.tags = data.name, data.description, data.status, data.tags
    for key, value in data.row_values().items():
        setattr(workflow, key, value)
    schedule_state.on_saved(workflow, schedule_before, utcnow())
    workflow.updated_at = utcnow()
    session.add(workflow)
    session.flush()
    _write_graph(session, workflow, data)
    audit.record(session, audit.Action.workflow_update, workflow, before=before, after=_audit_snapshot(session, workflow))
    return workflow


def set_status(session: Session, access: Access, workflow_id: int, status: str) -> Workflow:
    """Activate or pause a workflow (its schedule follows), leaving its graph alone."""
    access.require(Ability.edit, "change workflows")
    workflow = get_workflow(session, access, workflow_id)
    schedule_before = schedule_state.snapshot(workflow)
    workflow.status = status
    schedule_state.on_saved(workflow, schedule_before, utcnow())
    workflow.updated_at = utcnow()
    session.add(workflow)
    session.flush()
    return workflow


def names_using_event(session: Session, access: Access, event_id: int) -> list[str]:
    """The names of the workspace's workflows with a step that runs the event."""
    query = (select(Workflow.name).join(WorkflowStep, WorkflowStep.workflow_id == Workflow.id)
             .where(access.scope(Workflow), WorkflowStep.event_id == event_id).distinct().order_by(Workflow.name))
    return list(session.exec(query).all())


def delete_workflow(session: Session, access: Access, workflow_id: int) -> None:
    access.require(Ability.edit, "delete workflows")
    workflow = get_workflow(session, access, workflow_id)
    audit.record(session, audit.Action.workflow_delete, workflow, before=_audit_snapshot(session, workflow))
    session.delete(workflow)
    session.flush()


def load_graph(session: Session, workflow_id: int) -> tuple[list[WorkflowStep], list[WorkflowEdge]]:
    steps = list(session.exec(select(WorkflowStep).where(WorkflowStep.workflow_id == workflow_id).order_by(WorkflowStep.id)).all())
    edges = list(session.exec(select(WorkflowEdge).where(WorkflowEdge.workflow_id == workflow_id).order_by(WorkflowEdge.id)).all())
    return steps, edges


def graph_snapshot(session: Session, workflow_id: int) -> dict[str, Any]:
    """The workflow's graph as a run freezes it when it starts: steps, edges,
    and each step's event as the job it will run (its execution spec)."""
    steps, edges = load_graph(session, workflow_id)
    events = session.exec(select(Event).where(Event.id.in_({step.event_id for step in steps}))).all()
    return {
        "steps": [{"id": step.id, "name": step.name, "eventId": step.event_id} for step in steps],
        "edges": [{"from": e.from_step_id, "to": e.to_step_id, "condition": e.condition} for e in edges],
        "executions": {str(event.id): execution_spec(event) for event in events},
    }


def workflow_to_dict(session: Session, workflow: Workflow) -> dict[str, Any]:
    steps, edges = load_graph(session, workflow.id)
    names = {step.id: step.name for step in steps}
    edge_dicts = []
    for edge in edges:
        condition, value = public_condition(edge.condition)
        edge_dicts.append({"from": names[edge.from_step_id], "to": names[edge.to_step_id], "condition": condition, "value": value})
    return {
        "id": workflow.id,
        "name": workflow.name,
        "description": workflow.description,
        "status": workflow.status,
        "source": workflow.source,
        "tags": list(workflow.tags or []),
        "steps": [{"id": s.id, "name": s.name, "eventId": s.event_id, "position": s.position} for s in steps],
        "edges": edge_dicts,
        **schedule_state.schedule_to_dict(workflow),
        "createdAt": isoformat(workflow.created_at),
        "updatedAt": isoformat(workflow.updated_at),
    }


def list_workflows(session: Session, access: Access, *, q: str | None, limit: int, offset: int) -> Page:
    query = select(Workflow).where(access.scope(Workflow))
    if q:
        query = query.where(Workflow.name.ilike(f"%{escape_like(q)}%", escape="\\"))
    total = session.exec(select(sa.func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Workflow.id.desc()).limit(limit).offset(offset)).all()
    items = [
        {"id": w.id, "name": w.name, "description": w.description, "status": w.status,
         "scheduleType": w.schedule_type, "nextFireAt": isoformat(w.next_fire_at),
         "createdAt": isoformat(w.created_at), "updatedAt": isoformat(w.updated_at)}
        for w in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)

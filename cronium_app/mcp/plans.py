"""A plan: a few events and the workflows that run them, named the way an
events-as-code document names them (steps name events). Checking one and
creating one go through the as-code planner and applier (`ascode.sync`),
so a plan is held to every rule a document is: field shapes, schedules,
step references, the workflow graph (a cycle is named), limits."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from cronium_app.ascode import parse, sync
from cronium_app.ascode.document import EventSpec, WorkflowSpec
from cronium_app.auth.access import Access
from cronium_app.errors import Conflict, CroniumError
from cronium_app.models import Event, Workflow
from cronium_app.settings import Settings

SOURCE = "mcp"
# A plan is a conversation's worth of work, not an instance's export.
MAX_PLAN_EVENTS = 50
MAX_PLAN_WORKFLOWS = 10
# How the as-code parser says where an item was written ("plan line 12: ").
_UNLOCATED = re.compile(r"\bplan line \d+: ")


class PlanIn(BaseModel):
    """Events, and workflows whose steps run them by name (`event`). Field
    names are the API's (camelCase); what is left out takes the API's defaults."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    events: list[EventSpec] = Field(default_factory=list, max_length=MAX_PLAN_EVENTS)
    workflows: list[WorkflowSpec] = Field(default_factory=list, max_length=MAX_PLAN_WORKFLOWS)


def _parsed(plan: PlanIn) -> parse.Parsed:
    """The plan as a document of one file named `plan` (JSON is YAML): the
    as-code parser then names each problem's field (`events[0] (hello).schedule...`)."""
    body = {"version": 1, **plan.model_dump(mode="json", by_alias=True, exclude_unset=True)}
    return parse.parse([parse.Source("plan", json.dumps(body, indent=2))])


def _said(exc: CroniumError) -> list[str]:
    """A refusal's problems, each as `field: what is wrong`. The lines the
    as-code parser adds are lines of a text the caller never saw: dropped."""
    found = exc.details.get("problems") or []
    said = [f"{p['field']}: {p['message']}" if p.get("field") else p["message"] for p in found]
    return said or [_UNLOCATED.sub("", exc.message)]


def _refusal(exc: CroniumError) -> CroniumError:
    exc.message = "; ".join(_said(exc))
    exc.args = (exc.message,)
    return exc


def validate_plan(session: Session, settings: Settings, access: Access, plan: PlanIn) -> dict[str, Any]:
    """Everything creating the plan would check, or every problem found.
    The plan is created in a savepoint that is rolled back: the services'
    own checks (limits, servers, tools) run too, and nothing is kept."""
    try:
        parsed = _parsed(plan)
        planned = sync.make_plan(session, settings, access, parsed, prune=False)
        existing = [f"{c.kind} {c.name!r} exists already: change it with update_{c.kind}"
                    for c in planned.changes if c.action != sync.CREATE]
        if existing:
            return {"valid": False, "problems": existing}
        trial = session.begin_nested()
        try:
            sync.apply(session, settings, access, parsed, prune=False)
        finally:
            trial.rollback()
    except CroniumError as exc:
        return {"valid": False, "problems": _said(exc)}
    return {"valid": True, "problems": [], "warnings": [_UNLOCATED.sub("", w) for w in planned.warnings],
            "creates": [{"kind": c.kind, "name": c.name} for c in planned.changes]}


def create_bundle(session: Session, settings: Settings, access: Access, plan: PlanIn) -> dict[str, Any]:
    """Create every event and workflow of the plan in the caller's
    transaction: all of them, or (on any refusal) none. Names must be new:
    a bundle never changes what exists."""
    try:
        parsed = _parsed(plan)
        planned = sync.make_plan(session, settings, access, parsed, prune=False)
        existing = [f"{c.kind} {c.name!r}" for c in planned.changes if c.action != sync.CREATE]
        if existing:
            raise Conflict(f"{', '.join(existing)} exist(s) already: a bundle only creates; "
                           "use update_event / update_workflow to change them")
        sync.apply(session, settings, access, parsed, prune=False, fingerprint=planned.fingerprint(),
                   source=SOURCE)
    except CroniumError as exc:
        raise _refusal(exc) from None
    names = [spec.name for spec in plan.events]
    events = session.exec(select(Event.id, Event.name).where(
        access.scope(Event), Event.source == SOURCE, Event.name.in_(names))).all()
    flow_names = [spec.name for spec in plan.workflows]
    flows = session.exec(select(Workflow.id, Workflow.name).where(
        access.scope(Workflow), Workflow.source == SOURCE, Workflow.name.in_(flow_names))).all()
    return {"events": [{"id": i, "name": n} for i, n in events],
            "workflows": [{"id": i, "name": n} for i, n in flows]}

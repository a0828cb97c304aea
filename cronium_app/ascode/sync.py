"""Plan and apply a document: what would be created, updated, left
unchanged or (with prune) deleted, and then doing exactly that.

Items are matched by name (variables by key). The desired state of an item
is the whole of what the document says, with the API's defaults for what it
leaves out; it is compared field by field with what the server holds. Apply
goes through the same services as the API, in the caller's transaction, so
a document applies entirely or not at all. Secrets are references: apply
never writes a secret's value and never clears one; a reference the server
has no value for is a warning.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from cronium_app.ascode.document import EventSpec, ScheduleSpec, WorkflowSpec
from cronium_app.ascode.parse import Parsed, Where, problem, refuse
from cronium_app.auth.access import Ability, Access
from cronium_app.errors import Conflict, CroniumError
from cronium_app.events import service as events
from cronium_app.events.schemas import EventCreate, EventUpdate
from cronium_app.models import Event, Server, Variable, Workflow
from cronium_app.schedules.schemas import ScheduleFields
from cronium_app.schedules.triggers import ScheduleError, validate
from cronium_app.settings import Settings
from cronium_app.timeutil import isoformat, utcnow
from cronium_app.variables import service as variables
from cronium_app.workflows import service as workflows
from cronium_app.workflows.schemas import WorkflowIn

CREATE, UPDATE, UNCHANGED, DELETE = "create", "update", "unchanged", "delete"
ACTIONS = (CREATE, UPDATE, UNCHANGED, DELETE)


@dataclass
class Change:
    kind: str  # variable | event | workflow
    name: str
    action: str
    fields: list[str] = field(default_factory=list)  # what an update changes
    where: Where | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "action": self.action, "fields": self.fields,
                "file": self.where.file if self.where else None, "line": self.where.line if self.where else None}


@dataclass
class Plan:
    changes: list[Change]
    warnings: list[str]
    prune: bool

    def summary(self) -> dict[str, int]:
        return {action: sum(1 for c in self.changes if c.action == action) for action in ACTIONS}

    def fingerprint(self) -> str:
        """Names what would change and how: apply refuses a plan whose
        fingerprint is not the one the caller was shown."""
        changes = [[c.kind, c.name, c.action, c.fields] for c in self.changes]
        return hashlib.sha256(json.dumps([changes, self.prune]).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {"changes": [c.to_dict() for c in self.changes], "warnings": self.warnings,
                "summary": self.summary(), "prune": self.prune, "fingerprint": self.fingerprint()}


def _ts(value: Any) -> str | None:
    return isoformat(value) if value is not None else None


def schedule_state(row: dict[str, Any]) -> dict[str, Any]:
    """The schedule fields of an API reply (event or workflow), as compared."""
    keys = ("scheduleType", "cronExpression", "intervalSeconds", "runAt", "timezone", "startAt",
            "maxExecutions", "misfirePolicy", "overlapPolicy")
    return {key: row[key] for key in keys}


@dataclass
class Current:
    """What the user has now, by name."""

    events: dict[str, list[Event]]
    workflows: dict[str, list[Workflow]]
    variables: dict[str, Variable]
    server_ids: dict[str, list[int]]  # server name -> ids
    server_names: dict[int, str]
    event_names: dict[int, str]

    @classmethod
    def load(cls, session: Session, access: Access) -> "Current":
        event_rows = session.exec(select(Event).where(access.scope(Event)).order_by(Event.name, Event.id)).all()
        workflow_rows = session.exec(
            select(Workflow).where(access.scope(Workflow)).order_by(Workflow.name, Workflow.id)).all()
        variable_rows = session.exec(select(Variable).where(access.scope(Variable))).all()
        servers = session.exec(select(Server.id, Server.name).where(access.scope(Server))).all()
        by_name: dict[str, list] = {}
        for row in event_rows:
            by_name.setdefault(row.name, []).append(row)
        wf_by_name: dict[str, list] = {}
        for row in workflow_rows:
            wf_by_name.setdefault(row.name, []).append(row)
        server_ids: dict[str, list[int]] = {}
        for server_id, name in servers:
            server_ids.setdefault(name, []).append(server_id)
        return cls(by_name, wf_by_name, {v.key: v for v in variable_rows}, server_ids,
                   {server_id: name for server_id, name in servers}, {e.id: e.name for e in event_rows})


# -- desired and current states, in the API's field names ---------------------------


def event_state(event: dict[str, Any], server_names: dict[int, str]) -> dict[str, Any]:
    """An event as the API shows it (`event_to_dict`), reduced to what a document states."""
    return {
        "description": event["description"], "type": event["type"], "status": event["status"],
        "script": event["script"], "httpRequest": event["httpRequest"],
        "timeoutSeconds": event["timeoutSeconds"], "retries": event["retries"], "cpus": event["cpus"],
        "memoryMb": event["memoryMb"], "pidsLimit": event["pidsLimit"], "network": event["network"],
        "maxConcurrent": event["maxConcurrent"], "priority": event["priority"],
        "retentionDays": event["retentionDays"], "retentionRuns": event["retentionRuns"],
        "envVars": event["envVars"], "image": event["image"], "tags": event["tags"],
        "servers": [server_names.get(i, f"#{i}") for i in event["serverIds"]],
        "serverTags": event["serverTags"], "remoteDocker": event["remoteDocker"],
        **schedule_state(event),
    }


def desired_event(spec: EventSpec, settings: Settings) -> dict[str, Any]:
    schedule = spec.schedule.api_fields()
    return {
        "description": spec.description, "type": spec.type.value, "status": spec.status.value,
        "script": spec.script,
        "httpRequest": spec.http_request.model_dump() if spec.http_request else None,
        "timeoutSeconds": spec.timeout_seconds or settings.job_default_timeout_s, "retries": spec.retries,
        "cpus": spec.cpus if spec.cpus is not None else settings.job_default_cpus,
        "memoryMb": spec.memory_mb or settings.job_default_memory_mb,
        "pidsLimit": spec.pids_limit or settings.job_default_pids, "network": spec.network.value,
        "maxConcurrent": spec.max_concurrent, "priority": spec.priority,
        "retentionDays": spec.retention_days, "retentionRuns": spec.retention_runs,
        "envVars": dict(spec.env_vars), "image": spec.image, "tags": list(spec.tags),
        "servers": list(spec.servers), "serverTags": list(spec.server_tags), "remoteDocker": spec.remote_docker,
        **schedule, "runAt": _ts(schedule["runAt"]), "startAt": _ts(schedule["startAt"]),
    }


def workflow_state(workflow: dict[str, Any], event_names: dict[int, str]) -> dict[str, Any]:
    return {
        "description": workflow["description"], "status": workflow["status"], "tags": workflow["tags"],
        "steps": [{"name": s["name"], "event": event_names.get(s["eventId"]), "position": s["position"]}
                  for s in workflow["steps"]],
        "edges": [{"from": e["from"], "to": e["to"], "condition": e["condition"], "value": e["value"]}
                  for e in workflow["edges"]],
        **schedule_state(workflow),
    }


def desired_workflow(spec: WorkflowSpec) -> dict[str, Any]:
    schedule = spec.schedule.api_fields()
    return {
        "description": spec.description, "status": spec.status, "tags": list(spec.tags),
        "steps": [{"name": s.name, "event": s.event, "position": s.position} for s in spec.steps],
        "edges": [{"from": e.from_step, "to": e.to_step, "condition": e.condition.value, "value": e.value}
                  for e in spec.edges],
        **schedule, "runAt": _ts(schedule["runAt"]), "startAt": _ts(schedule["startAt"]),
    }


def _differing(desired: dict[str, Any], current: dict[str, Any]) -> list[str]:
    return [key for key, value in desired.items() if current.get(key) != value]


# -- the plan ------------------------------------------------------------------------


# The document's names for the schedule fields the API names.
_SCHEDULE_FIELD = {"scheduleType": "type"}


def _check_schedule(parsed: Parsed, kind: str, index: int, spec: ScheduleSpec, *, refuse_past: bool) -> None:
    """Refuse, at the plan, a schedule the service would refuse at apply,
    naming the line of each field at fault."""
    try:
        validate(ScheduleFields.model_validate(spec.api_fields()).spec(), utcnow(), refuse_past=refuse_past)
    except ScheduleError as exc:
        raise refuse([
            problem(parsed.where(kind, index, "schedule", _SCHEDULE_FIELD.get(name, name)),
                    parsed.label(kind, index, "schedule", _SCHEDULE_FIELD.get(name, name)), message)
            for name, message in exc.problems.items()
        ]) from None


def _one(rows: dict[str, list], name: str, kind: str, where: Where) -> Any:
    found = rows.get(name) or []
    if len(found) > 1:
        raise refuse([problem(where, "name", f"the server has {len(found)} {kind}s named {name!r}: "
                                             "rename all but one before applying")])
    return found[0] if found else None


def make_plan(session: Session, settings: Settings, access: Access, parsed: Parsed, *, prune: bool) -> Plan:
    doc = parsed.document
    current = Current.load(session, access)
    changes: list[Change] = []
    warnings: list[str] = []

    for index, spec in enumerate(doc.variables):
        where = parsed.where("variables", index)
        row = current.variables.get(spec.key)
        if spec.secret:
            if row is None:
                warnings.append(f"{where}: secret variable {spec.key!r} has no value here: set it with "
                                f"`cronium variables set {spec.key} VALUE --secret`")
                changes.append(Change("variable", spec.key, UNCHANGED, where=where))
            else:
                changes.append(Change("variable", spec.key, UNCHANGED if row.secret else UPDATE,
                                      [] if row.secret else ["secret"], where))
        elif row is None:
            changes.append(Change("variable", spec.key, CREATE, where=where))
        else:
            fields = [name for name, same in (("value", row.value == spec.value), ("secret", not row.secret)) if not same]
            changes.append(Change("variable", spec.key, UPDATE if fields else UNCHANGED, fields, where))

    file_events = {spec.name for spec in doc.events}
    for index, spec in enumerate(doc.events):
        where = parsed.where("events", index)
        for server in spec.servers:
            if len(current.server_ids.get(server, [])) != 1:
                reason = "no server" if server not in current.server_ids else "more than one server"
                raise refuse([problem(where, "servers", f"{reason} named {server!r} here")])
        row = _one(current.events, spec.name, "event", where)
        if row is None:
            changes.append(Change("event", spec.name, CREATE, where=where))
        else:
            fields = _differing(desired_event(spec, settings),
                                event_state(events.event_to_dict(row), current.server_names))
            changes.append(Change("event", spec.name, UPDATE if fields else UNCHANGED, fields, where))
        _check_schedule(parsed, "events", index, spec.schedule,
                        refuse_past=row is None or "runAt" in changes[-1].fields)
        missing = sorted(set(spec.secret_env_var_names) - set(row.secret_env_names or () if row else ()))
        if missing:
            warnings.append(f"{where}: event {spec.name!r}: secret environment variable(s) {', '.join(missing)} "
                            "have no value here: set them in the event's editor or with PATCH /api/v1/events/{id}")

    for index, spec in enumerate(doc.workflows):
        where = parsed.where("workflows", index)
        for step_index, step in enumerate(spec.steps):
            known = step.event in file_events or (not prune and step.event in current.events)
            if not known:
                raise refuse([problem(where, f"steps[{step_index}].event",
                                      f"no event named {step.event!r} in the document"
                                      + ("" if prune else " or on the server"))])
        try:
            workflows.check_graph([s.name for s in spec.steps], [(e.from_step, e.to_step) for e in spec.edges])
        except CroniumError as exc:
            raise refuse([problem(where, parsed.label("workflows", index, exc.details.get("field", "steps")),
                                  exc.message)]) from None
        row = _one(current.workflows, spec.name, "workflow", where)
        if row is None:
            changes.append(Change("workflow", spec.name, CREATE, where=where))
        else:
            fields = _differing(desired_workflow(spec),
                                workflow_state(workflows.workflow_to_dict(session, row), current.event_names))
            changes.append(Change("workflow", spec.name, UPDATE if fields else UNCHANGED, fields, where))
        _check_schedule(parsed, "workflows", index, spec.schedule,
                        refuse_past=row is None or "runAt" in changes[-1].fields)

    if prune:
        named = {("variable", v.key) for v in doc.variables} | {("event", n) for n in file_events} | {
            ("workflow", w.name) for w in doc.workflows}
        for kind, rows in (("workflow", current.workflows), ("event", current.events)):
            for name, found in rows.items():
                if (kind, name) not in named:
                    changes.extend(Change(kind, name, DELETE) for _ in found)
        changes.extend(Change("variable", key, DELETE) for key in sorted(current.variables)
                       if ("variable", key) not in named)
    return Plan(changes, warnings, prune)


# -- apply ---------------------------------------------------------------------------


def _located(where: Where | None, kind: str, name: str, exc: CroniumError) -> CroniumError:
    """A service's refusal, said of the item of the document it came from."""
    exc.message = f"{where}: {kind} {name!r}: {exc.message}" if where else f"{kind} {name!r}: {exc.message}"
    exc.args = (exc.message,)
    return exc


def _event_fields(spec: EventSpec, settings: Settings, server_ids: dict[str, list[int]]) -> dict[str, Any]:
    """Every field of the event, as the API takes it: what the document
    leaves out is the default, on an update as on a create."""
    data = spec.model_dump(by_alias=True, exclude={"servers", "schedule", "actions", "secret_env_var_names"})
    desired = desired_event(spec, settings)
    for limit in ("timeoutSeconds", "cpus", "memoryMb", "pidsLimit"):
        data[limit] = desired[limit]
    data.update(spec.schedule.api_fields())
    data["serverIds"] = [server_ids[name][0] for name in spec.servers]
    return data


def _workflow_in(spec: WorkflowSpec, event_ids: dict[str, int]) -> WorkflowIn:
    return WorkflowIn.model_validate({
        "name": spec.name, "description": spec.description, "status": spec.status, "tags": spec.tags,
        "steps": [{"name": s.name, "eventId": event_ids[s.event], "position": s.position} for s in spec.steps],
        "edges": [{"from": e.from_step, "to": e.to_step, "condition": e.condition, "value": e.value}
                  for e in spec.edges],
        **spec.schedule.api_fields(),
    })


def apply(session: Session, settings: Settings, access: Access, parsed: Parsed, *, prune: bool,
          fingerprint: str | None = None, source: str | None = None) -> Plan:
    """Make the server hold what the document says, in the caller's
    transaction. With `fingerprint`, only if the plan is still the one shown.
    `source` marks what it creates (events.source, workflows.source)."""
    access.require(Ability.edit, "apply a document")
    plan = make_plan(session, settings, access, parsed, prune=prune)
    if fingerprint is not None and fingerprint != plan.fingerprint():
        raise Conflict("the plan has changed since it was shown (the server or the document changed): plan again")
    by_item = {(c.kind, c.name): c for c in plan.changes if c.action != DELETE}
    doc = parsed.document
    current = Current.load(session, access)

    for spec in doc.variables:
        change = by_item[("variable", spec.key)]
        if change.action == UNCHANGED:
            continue
        value = current.variables[spec.key].value if spec.secret else spec.value
        _guarded(change, lambda: variables.set_variable(session, settings, access, spec.key, value,
                                                        secret=spec.secret))

    event_ids = {name: rows[0].id for name, rows in current.events.items()}
    for spec in doc.events:
        change = by_item[("event", spec.name)]
        fields = _event_fields(spec, settings, current.server_ids)
        if change.action == CREATE:
            event = _guarded(change, lambda: events.create_event(session, settings, access,
                                                                 EventCreate.model_validate(fields), source=source))
            event_ids[spec.name] = event.id
        elif change.action == UPDATE:
            _guarded(change, lambda: events.update_event(session, settings, access, event_ids[spec.name],
                                                         EventUpdate.model_validate(fields)))

    workflow_ids = {name: rows[0].id for name, rows in current.workflows.items()}
    for spec in doc.workflows:
        change = by_item[("workflow", spec.name)]
        if change.action == CREATE:
            _guarded(change, lambda: workflows.create_workflow(session, access, _workflow_in(spec, event_ids),
                                                                source=source))
        elif change.action == UPDATE:
            _guarded(change, lambda: workflows.replace_workflow(session, access, workflow_ids[spec.name],
                                                                _workflow_in(spec, event_ids)))

    for kind in ("workflow", "event", "variable"):
        for change in plan.changes:
            if change.kind == kind and change.action == DELETE:
                _delete(session, access, current, change)
    return plan


def _guarded(change: Change, action):
    try:
        return action()
    except CroniumError as exc:
        raise _located(change.where, change.kind, change.name, exc) from None


def _delete(session: Session, access: Access, current: Current, change: Change) -> None:
    if change.kind == "variable":
        variables.delete_variable(session, access, change.name)
    elif change.kind == "event":
        for row in current.events[change.name]:
            events.delete_event(session, access, row.id)
    else:
        for row in current.workflows[change.name]:
            workflows.delete_workflow(session, access, row.id)

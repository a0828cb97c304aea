"""Conditional actions: what to do when a job of an event ends. Send a
message through one of the owner's tools (a default message unless the
action has templates of its own), or run another event with the job's
output as its input. Definitions only, scoped to their owner; firing them
is `jobs.actions`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from cronium_app import audit
from cronium_app.auth.access import Ability, Access
from cronium_app.bounds import RowId
from cronium_app.errors import Invalid, NotFound
from cronium_app.models import Event, EventAction, Tool
from cronium_app.settings import Settings
from cronium_app.timeutil import isoformat, utcnow
from cronium_app.tools import service as tools_service
from cronium_app.tools.schemas import FieldName, Out, Template, ToolActionIn
from orchestrator_worker.tools.kinds import CALL_WEBHOOK, KIND_TABLE, SEND_EMAIL

MAX_ACTIONS_PER_EVENT = 20
MAX_ALERT_WINDOW_S = 30 * 86400
TRIGGERS = ("success", "failure", "always", "condition", "late", "long_running")
# Triggers checked on a clock (jobs/late_runs.py), not when a job ends: "late"
# when no run succeeded in `thresholdSeconds` (a dead man's switch),
# "long_running" when a run is still going after `thresholdSeconds`. A
# message only, sent once per late streak and once per long run.
TIMED_TRIGGERS = ("late", "long_running")
MAX_THRESHOLD_S = 365 * 86400
KINDS = ("message", "run_event")

# The default message: what ended, how, the last lines of its log and a link.
DEFAULT_TEXT = (
    "{% if input.recovered %}\u2705 {{ input.event.name }} recovered: the latest run completed."
    "{% else %}{% if input.job.status == 'completed' %}\u2705{% else %}\u274c{% endif %} "
    "{{ input.event.name }}: {{ input.job.status | replace('_', ' ') }}{% endif %}\n"
    "Duration: {{ input.job.duration }}"
    "{% if input.job.exitCode is not none %} \u00b7 exit code {{ input.job.exitCode }}{% endif %}\n"
    "{% if input.job.error and not input.recovered %}Error: {{ input.job.error }}\n{% endif %}"
    "{% if input.job.logTail and not input.recovered %}Last log lines:\n```\n{{ input.job.logTail | join('\\n') }}\n```\n"
    "{% endif %}{{ input.job.url }}"
)
DEFAULT_SUBJECT = (
    "[Cronium] {{ input.event.name }}: "
    "{% if input.recovered %}recovered{% else %}{{ input.job.status | replace('_', ' ') }}{% endif %}"
)
DEFAULT_WEBHOOK_BODY = "{{ input | tojson }}"


def default_fields(action: str) -> dict[str, str]:
    """The templates an action's fields have unless it sets its own (an
    email's recipients have no default)."""
    if action == SEND_EMAIL:
        return {"subject": DEFAULT_SUBJECT, "body": DEFAULT_TEXT}
    if action == CALL_WEBHOOK:
        return {"body": DEFAULT_WEBHOOK_BODY}
    return {"text": DEFAULT_TEXT}


class ActionFields(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    trigger: Literal[TRIGGERS] | None = None  # type: ignore[valid-type]
    # For trigger "condition": fire when the job set this condition.
    condition_value: bool | None = Field(default=None, alias="conditionValue")
    kind: Literal[KINDS] | None = None  # type: ignore[valid-type]
    tool_id: RowId | None = Field(default=None, alias="toolId")
    # Templates of the message's fields; a field left out gets the default.
    fields: dict[FieldName, Template] | None = None
    target_event_id: RowId | None = Field(default=None, alias="targetEventId")
    enabled: bool | None = None
    alert_window_seconds: Annotated[int, Field(ge=0, le=MAX_ALERT_WINDOW_S)] | None = Field(
        default=None, alias="alertWindowSeconds"
    )
    # For "late" and "long_running": how long, in seconds.
    threshold_seconds: Annotated[int, Field(ge=1, le=MAX_THRESHOLD_S)] | None = Field(
        default=None, alias="thresholdSeconds"
    )


class ActionCreate(ActionFields):
    trigger: Literal[TRIGGERS]  # type: ignore[valid-type]
    kind: Literal[KINDS]  # type: ignore[valid-type]


class ActionUpdate(ActionFields):
    pass


class ActionOut(Out):
    id: int
    event_id: int
    trigger: str
    condition_value: bool
    kind: str
    tool_id: int | None
    tool_name: str | None
    fields: dict[str, str]
    target_event_id: int | None
    target_event_name: str | None
    enabled: bool
    alert_window_seconds: int
    threshold_seconds: int | None
    failing: bool
    last_alert_at: str | None
    created_at: str | None
    updated_at: str | None


class ActionList(Out):
    items: list[ActionOut]


def _event(session: Session, access: Access, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if not access.owns(event):
        raise NotFound(f"event {event_id} not found")
    return event


def get_action(session: Session, access: Access, event_id: int, action_id: int) -> EventAction:
    action = session.get(EventAction, action_id)
    _event(session, access, event_id)
    if action is None or action.event_id != event_id:
        raise NotFound(f"action {action_id} not found")
    return action


def _apply(session: Session, access: Access, action: EventAction, data: ActionFields) -> None:
    for name in ("trigger", "kind", "condition_value", "enabled", "alert_window_seconds", "tool_id", "target_event_id",
                 "threshold_seconds"):
        value = getattr(data, name)
        if value is not None:
            setattr(action, name, value)
    if data.fields is not None:
        action.templates = dict(data.fields)
    if action.trigger in TIMED_TRIGGERS:
        if action.kind != "message":
            raise Invalid(f"a {action.trigger.replace('_', ' ')} action sends a message", field="kind")
        if action.threshold_seconds is None:
            raise Invalid("say after how many seconds", field="thresholdSeconds")
    else:
        action.threshold_seconds = None
    if action.kind == "message":
        if action.tool_id is None:
            raise Invalid("a message action needs the tool to send it through", field="toolId")
        tool = session.get(Tool, action.tool_id)
        if not access.owns(tool):
            raise Invalid(f"unknown tool {action.tool_id}", field="toolId")
        # Checked as it will be sent: the defaults fill the fields left out.
        tools_service.check_action(
            session, access, ToolActionIn(toolId=action.tool_id, fields=action.templates),
            defaults=default_fields(KIND_TABLE[tool.kind].action), where="action",
        )
        action.target_event_id = None
    else:
        target = session.get(Event, action.target_event_id) if action.target_event_id else None
        if not access.owns(target):
            raise Invalid("choose the event to run", field="targetEventId")
        action.tool_id, action.templates = None, {}


def list_actions(session: Session, access: Access, event_id: int) -> list[dict[str, Any]]:
    _event(session, access, event_id)
    rows = session.exec(
        select(EventAction).where(EventAction.event_id == event_id).order_by(EventAction.id)
    ).all()
    return [action_to_dict(session, row) for row in rows]


def create_action(session: Session, settings: Settings, access: Access, event_id: int, data: ActionCreate) -> EventAction:
    access.require(Ability.edit, "change conditional actions")
    _event(session, access, event_id)
    count = len(session.exec(select(EventAction.id).where(EventAction.event_id == event_id)).all())
    if count >= MAX_ACTIONS_PER_EVENT:
        raise Invalid(f"an event has at most {MAX_ACTIONS_PER_EVENT} conditional actions")
    action = EventAction(user_id=access.user_id, event_id=event_id, trigger=data.trigger, kind=data.kind,
                         alert_window_seconds=settings.alert_window_s)
    _apply(session, access, action, data)
    session.add(action)
    session.flush()
    audit.record(session, audit.Action.event_action_create, action, after=action, workspace_id=access.workspace_id)
    return action


def update_action(session: Session, access: Access, event_id: int, action_id: int, data: ActionUpdate) -> EventAction:
    access.require(Ability.edit, "change conditional actions")
    action = get_action(session, access, event_id, action_id)
    before = audit.snapshot(action)
    trigger_before = action.trigger
    _apply(session, access, action, data)
    if action.trigger != trigger_before:
        # Another trigger: the failure streak of the old one means nothing now.
        action.failing, action.alerted = False, False
    action.updated_at = utcnow()
    session.add(action)
    session.flush()
    audit.record(session, audit.Action.event_action_update, action, before=before, after=action,
                 workspace_id=access.workspace_id)
    return action


def delete_action(session: Session, access: Access, event_id: int, action_id: int) -> None:
    access.require(Ability.edit, "delete conditional actions")
    action = get_action(session, access, event_id, action_id)
    audit.record(session, audit.Action.event_action_delete, action, before=action, workspace_id=access.workspace_id)
    session.delete(action)
    session.flush()


def action_to_dict(session: Session, action: EventAction) -> dict[str, Any]:
    tool = session.get(Tool, action.tool_id) if action.tool_id else None
    target = session.get(Event, action.target_event_id) if action.target_event_id else None
    return {
        "id": action.id, "eventId": action.event_id, "trigger": action.trigger,
        "conditionValue": action.condition_value, "kind": action.kind,
        "toolId": action.tool_id, "toolName": tool.name if tool else None,
        "fields": dict(action.templates or {}),
        "targetEventId": action.target_event_id, "targetEventName": target.name if target else None,
        "enabled": action.enabled, "alertWindowSeconds": action.alert_window_seconds,
        "thresholdSeconds": action.threshold_seconds,
        "failing": action.failing, "lastAlertAt": isoformat(action.last_alert_at),
        "createdAt": isoformat(action.created_at), "updatedAt": isoformat(action.updated_at),
    }

"""The cards under a saved event's editor that are not part of its form:
its conditional actions (what happens when a job ends) and its webhook
triggers (secret URLs that start it from outside); a workflow's editor has
the webhook triggers card too.

A trigger's URL holds its secret: it is shown once, right after the
trigger is made or its secret rotated, and is dropped from this state when
the card is closed or the page left.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from typing import Any, TypedDict

import reflex as rx
from pydantic import ValidationError

from cronium_app.auth.access import Access
from cronium_app.db import read_session, write_session
from cronium_app.display.formatting import fmt_short
from cronium_app.display.messages import FORM, sentence, service_field_errors, validation_field_errors
from cronium_app.errors import CroniumError, NotFound
from cronium_app.events import service as events
from cronium_app.settings import get_settings
from cronium_app.state.base import AppState
from cronium_app.tools import actions as actions_service
from cronium_app.tools import service as tools
from cronium_app.tools.actions import ActionCreate
from cronium_app.triggers import service as triggers
from cronium_app.triggers.service import TriggerCreate
from cronium_app.workflows import service as workflows
from orchestrator_worker.tools.kinds import KIND_TABLE

logger = logging.getLogger(__name__)

TRIGGER_LABELS = {"success": "On success", "failure": "On failure (failed, timed out)", "always": "Always",
                  "condition": "On condition", "late": "When no run succeeded for a while",
                  "long_running": "When a run takes too long"}
TIMED = ("late", "long_running")
ACTION_FIELDS = ("trigger", "conditionValue", "kind", "toolId", "fields", "fields.to", "fields.text",
                 "targetEventId", "alertWindowSeconds", "thresholdSeconds")
NONE = "0"  # a select's "nothing chosen" (select items cannot be empty)


class Option(TypedDict):
    id: str
    label: str
    kind: str


class ActionItem(TypedDict):
    id: int
    when: str
    what: str
    detail: str


class TriggerItem(TypedDict):
    id: str
    name: str
    url_prefix: str
    signed: bool
    last_used: str


def _action_item(item: dict[str, Any]) -> ActionItem:
    when = TRIGGER_LABELS.get(item["trigger"], item["trigger"])
    if item["trigger"] == "condition":
        when = f"When the condition is {'true' if item['conditionValue'] else 'false'}"
    minutes = (item.get("thresholdSeconds") or 0) / 60
    if item["trigger"] == "late":
        when = f"When no run succeeded in {minutes:g} min"
    elif item["trigger"] == "long_running":
        when = f"When a run is still going after {minutes:g} min"
    if item["kind"] == "run_event":
        what, detail = f"Run {item.get('targetEventName') or 'an event'}", "with this job's output as its input"
    else:
        what = f"Message through {item.get('toolName') or 'a tool'}"
        detail = "custom message" if item.get("fields", {}).get("text") else "the default message"
        if item["trigger"] == "failure" and item.get("alertWindowSeconds"):
            detail += f"; at most one alert per {item['alertWindowSeconds'] // 60} min, then one 'recovered'"
    return {"id": item["id"], "when": when, "what": what, "detail": detail}


def _trigger_item(item: dict[str, Any], tz: str) -> TriggerItem:
    return {"id": item["id"], "name": item.get("name") or "", "url_prefix": item["urlPrefix"],
            "signed": bool(item.get("signed")), "last_used": fmt_short(item.get("lastUsedAt"), tz, empty="never")}


# -- database work, in threads ---------------------------------------------------


def _read_workflow(access: Access, workflow_id: int) -> dict[str, Any]:
    settings = get_settings()
    with read_session() as session:
        workflows.get_workflow(session, access, workflow_id)  # NotFound for another's
        found = triggers.list_triggers(session, settings, access, event_id=None, workflow_id=workflow_id)
        return {"actions": [], "triggers": found, "tools": [], "events": []}


def _read(access: Access, event_id: int) -> dict[str, Any]:
    settings = get_settings()
    with read_session() as session:
        page = tools.list_tools(session, access, q=None, limit=200, offset=0)
        others = events.list_events(session, access, events.EventFilter(), limit=500, offset=0)
        return {
            "actions": actions_service.list_actions(session, access, event_id),
            "triggers": triggers.list_triggers(session, settings, access, event_id=event_id, workflow_id=None),
            "tools": [{"id": str(t["id"]), "label": f"{t['name']} ({KIND_TABLE[t['kind']].label})", "kind": t["kind"]}
                      for t in page.items],
            "events": [{"id": str(e["id"]), "label": e["name"], "kind": e["type"]} for e in others.items],
        }


def _add_action(access: Access, event_id: int, data: ActionCreate) -> None:
    with write_session() as session:
        actions_service.create_action(session, get_settings(), access, event_id, data)


def _delete_action(access: Access, event_id: int, action_id: int) -> None:
    with write_session() as session:
        actions_service.delete_action(session, access, event_id, action_id)


def _add_trigger(access: Access, data: TriggerCreate) -> dict[str, Any]:
    settings = get_settings()
    with write_session() as session:
        trigger, secret = triggers.create_trigger(session, settings, access, data)
        return triggers.trigger_to_dict(trigger, settings, secret)


def _rotate_trigger(access: Access, trigger_id: str) -> dict[str, Any]:
    settings = get_settings()
    with write_session() as session:
        trigger, secret = triggers.rotate_trigger(session, access, trigger_id)
        return triggers.trigger_to_dict(trigger, settings, secret)


def _delete_trigger(access: Access, trigger_id: str) -> None:
    with write_session() as session:
        triggers.delete_trigger(session, access, trigger_id)


class EventExtrasState(AppState):
    """For an event's page, or (triggers only) a workflow's."""

    event_id: int = 0
    workflow_id: int = 0
    actions: list[ActionItem] = []
    triggers: list[TriggerItem] = []
    tool_options: list[Option] = []
    event_options: list[Option] = []
    busy: bool = False
    errors: dict[str, str] = {}

    # The new action's form.
    action_open: bool = False
    a_trigger: str = "failure"
    a_condition: str = "true"
    a_kind: str = "message"
    a_tool: str = NONE
    a_to: str = ""
    a_text: str = ""
    a_target: str = NONE
    a_window: str = "60"
    a_threshold: str = "60"

    # The new trigger's form, and the URL shown once.
    t_name: str = ""
    t_signing: str = ""
    shown_url: str = ""

    @rx.var
    def tool_kind(self) -> str:
        return next((o["kind"] for o in self.tool_options if o["id"] == self.a_tool), "")

    @rx.var
    def curl_example(self) -> str:
        if not self.shown_url:
            return ""
        body = shlex.quote('{"hello": "world"}')
        return f"curl -X POST -H 'Content-Type: application/json' -d {body} {shlex.quote(self.shown_url)}"

    @rx.event
    async def load(self):
        self.shown_url, self.t_signing, self.action_open, self.errors = "", "", False, {}
        parts = self.router.url.path.rstrip("/").rsplit("/", 2)
        row_id = int(parts[-1]) if parts[-1].isdigit() and len(parts[-1]) <= 12 else 0
        on_workflow = len(parts) > 1 and parts[-2] == "workflows"
        self.event_id, self.workflow_id = (0, row_id) if on_workflow else (row_id, 0)
        if (go := await self._require_user()) is not None:
            return go
        if row_id:
            await self._refresh()
        return None

    async def _refresh(self) -> None:
        try:
            if self.workflow_id:
                found = await asyncio.to_thread(_read_workflow, self._access, self.workflow_id)
            else:
                found = await asyncio.to_thread(_read, self._access, self.event_id)
        except NotFound:
            self.event_id = self.workflow_id = 0
            return
        tz = self.tz
        self.actions = [_action_item(item) for item in found["actions"]]
        self.triggers = [_trigger_item(item, tz) for item in found["triggers"]]
        self.tool_options = found["tools"]
        self.event_options = [o for o in found["events"] if o["id"] != str(self.event_id)]

    def _edited(self, key: str) -> None:
        if any(k in self.errors for k in (key, FORM)):
            self.errors = {k: v for k, v in self.errors.items() if k not in (key, FORM)}

    # -- conditional actions -----------------------------------------------------------

    @rx.event
    def set_action_open(self, value: bool):
        self.action_open = bool(value)
        self.errors = {}

    @rx.event
    def set_action_field(self, key: str, value: str):
        if key in ("a_trigger", "a_condition", "a_kind", "a_tool", "a_to", "a_text", "a_target", "a_window",
                   "a_threshold"):
            setattr(self, key, (value or "")[:16_000])
            self._edited({"a_tool": "toolId", "a_target": "targetEventId", "a_to": "fields.to", "a_text": "fields.text",
                          "a_window": "alertWindowSeconds", "a_threshold": "thresholdSeconds"}.get(key, key))

    def _action_body(self) -> tuple[dict[str, Any], dict[str, str]]:
        body: dict[str, Any] = {"trigger": self.a_trigger, "kind": self.a_kind}
        errors: dict[str, str] = {}
        if self.a_trigger == "condition":
            body["conditionValue"] = self.a_condition == "true"
        if self.a_trigger in TIMED:
            threshold = self.a_threshold.strip()
            if not threshold.isdigit() or int(threshold) < 1:
                errors["thresholdSeconds"] = "Enter whole minutes, at least 1."
            else:
                body["thresholdSeconds"] = int(threshold) * 60
            if self.a_kind != "message":
                errors["kind"] = "This trigger sends a message."
        if self.a_kind == "message":
            if self.a_tool == NONE:
                errors["toolId"] = "Choose the tool the message goes through."
            else:
                body["toolId"] = int(self.a_tool)
            fields = {}
            if self.a_text.strip():
                fields[{"email": "body", "webhook": "body"}.get(self.tool_kind, "text")] = self.a_text
            if self.tool_kind == "email":
                if not self.a_to.strip():
                    errors["fields.to"] = "Enter who gets the email."
                fields["to"] = self.a_to.strip()
            if fields:
                body["fields"] = fields
            if self.a_trigger in ("failure", "long_running"):
                window = self.a_window.strip() or "0"
                if not window.isdigit():
                    errors["alertWindowSeconds"] = "Enter whole minutes."
                else:
                    body["alertWindowSeconds"] = int(window) * 60
        elif self.a_target == NONE:
            errors["targetEventId"] = "Choose the event to run."
        else:
            body["targetEventId"] = int(self.a_target)
        return body, errors

    @rx.event
    async def add_action(self):
        if self.busy or not self.event_id:
            return
        body, errors = self._action_body()
        data = None
        try:
            data = ActionCreate.model_validate(body)
        except ValidationError as exc:
            errors = {**validation_field_errors(exc, fields=ACTION_FIELDS), **errors}
        if errors:
            self.errors = errors
            return
        self.busy = True
        yield
        try:
            await asyncio.to_thread(_add_action, self._access, self.event_id, data)
        except CroniumError as exc:
            self.errors = service_field_errors(exc, fields=ACTION_FIELDS)
            return
        finally:
            self.busy = False
        self.action_open = False
        self.a_text, self.a_to = "", ""
        await self._refresh()
        yield rx.toast.success("Conditional action added.", id="action-result")

    @rx.event
    async def delete_action(self, action_id: int):
        if self.busy:
            return
        self.busy = True
        try:
            await asyncio.to_thread(_delete_action, self._access, self.event_id, action_id)
        except NotFound:
            pass
        finally:
            self.busy = False
        await self._refresh()

    # -- webhook triggers -----------------------------------------------------------------

    @rx.event
    def set_t_name(self, value: str):
        self.t_name = (value or "")[:100]

    @rx.event
    def set_t_signing(self, value: str):
        self.t_signing = (value or "")[:1024]
        self._edited("signingSecret")

    @rx.event
    def hide_url(self):
        self.shown_url = ""

    async def _trigger_call(self, work, *args: Any, done: str):
        if self.busy or not (self.event_id or self.workflow_id):
            return
        self.busy = True
        yield
        try:
            item = await asyncio.to_thread(work, self._access, *args)
        except (ValidationError, CroniumError) as exc:
            message = exc.message if isinstance(exc, CroniumError) else str(exc)
            yield rx.toast.error(sentence(message), id="trigger-result")
            return
        finally:
            self.busy = False
        self.shown_url = item["url"] if item else ""
        self.t_signing = ""
        await self._refresh()
        yield rx.toast.success(done, id="trigger-result")

    @rx.event
    async def add_trigger(self):
        try:
            target = {"workflowId": self.workflow_id} if self.workflow_id else {"eventId": self.event_id}
            data = TriggerCreate.model_validate(
                {**target, "name": self.t_name.strip() or None, "signingSecret": self.t_signing or None}
            )
        except ValidationError as exc:
            self.errors = validation_field_errors(exc, fields=("name", "signingSecret"))
            return
        async for update in self._trigger_call(_add_trigger, data, done="Webhook trigger made: copy its URL now."):
            yield update
        self.t_name = ""

    @rx.event
    async def rotate_trigger(self, trigger_id: str):
        async for update in self._trigger_call(_rotate_trigger, trigger_id,
                                               done="New secret: the old URL no longer works."):
            yield update

    @rx.event
    async def delete_trigger(self, trigger_id: str):
        async for update in self._trigger_call(_delete_trigger, trigger_id, done="Webhook trigger revoked."):
            yield update

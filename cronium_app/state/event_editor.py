"""/events/new and /events/{id}: the event form.

The form keeps every input as the text the user typed; saving turns it into
the service's input shape, and errors from either pydantic (shape) or the
service (limits) come back as {field: message} shown next to each field.
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar, TypedDict

import reflex as rx
from pydantic import ValidationError

from cronium_app.auth.access import Access
from cronium_app import routes
from cronium_app.db import read_session, write_session
from cronium_app.display.env_form import (
    ENV_KEY,
    SECRET_ENV_KEY,
    EnvRow,
    blank_env_row,
    env_changes,
    env_rows,
    named_values,
    rows_after_save,
)
from cronium_app.display.formatting import local
from cronium_app.display.messages import sentence, validation_field_errors
from cronium_app.display.rows import JobRow, KeyValue, job_row
from cronium_app.errors import CroniumError
from cronium_app.events import service as events
from cronium_app.events.schemas import HTTP_METHODS, PRIORITY_RANGE, EventCreate, EventUpdate
from cronium_app.jobs import service as jobs
from cronium_app.servers import service as servers
from cronium_app.settings import get_settings
from cronium_app.state.base import AppState
from cronium_app.state.editor import EditorCalls, EditorMixin
from cronium_app.state.events import EVENT_STATUSES, EVENT_TYPES
from cronium_app.state.schedule_form import SCHEDULE_KEYS, ScheduleFormMixin
from cronium_app.tools import checks
from cronium_app.tools import service as tools
from cronium_app.tools.schemas import TemplatePreviewIn
from orchestrator_worker.tools.kinds import FIELD_LABELS, KIND_TABLE, TEMPLATE_MAX_CHARS

logger = logging.getLogger(__name__)

NETWORKS = ("none", "egress")
RECENT_RUNS = 5

TEMPLATES = {
    "python": 'print("Hello from Cronium")\n',
    "node": 'console.log("Hello from Cronium");\n',
    "bash": 'echo "Hello from Cronium"\n',
    "http": "",
    "tool": "",
}
# A tool event's sample input for the preview, until the user types another.
SAMPLE_INPUT = '{"name": "world"}'
NO_TOOL = "0"


# Form field -> the key its errors use (the API's field names).
ERROR_KEYS = {
    "name": "name",
    "description": "description",
    "kind": "type",
    "status": "status",
    "timeout": "timeoutSeconds",
    "retries": "retries",
    "cpus": "cpus",
    "memory": "memoryMb",
    "pids": "pidsLimit",
    "max_concurrent": "maxConcurrent",
    "priority": "priority",
    "retention_days": "retentionDays",
    "retention_runs": "retentionRuns",
    "network": "network",
    "tags": "tags",
    "server_tags": "serverTags",
    **SCHEDULE_KEYS,
    "http_method": "httpRequest.method",
    "http_url": "httpRequest.url",
    "http_body": "httpRequest.body",
}
_CHOICES = {
    "kind": EVENT_TYPES,
    "status": EVENT_STATUSES,
    "network": NETWORKS,
    "http_method": HTTP_METHODS,
}
# Fields whose bounds get a message in words: key -> (label, unit).
BOUNDED = {
    "timeoutSeconds": ("Timeout", "second"),
    "retries": ("Retries", ""),
    "cpus": ("CPUs", ""),
    "memoryMb": ("Memory", "MB"),
    "pidsLimit": ("Processes", ""),
    "maxConcurrent": ("Runs at once", ""),
    "priority": ("Priority", ""),
    "retentionDays": ("Days kept", "day"),
    "retentionRuns": ("Runs kept", ""),
    "intervalSeconds": ("The interval", "second"),
}


class ServerOption(TypedDict):
    id: str
    name: str
    address: str


def _server_options(session, access: Access) -> list[ServerOption]:
    """The user's servers an event can target (the first 200, by name)."""
    page = servers.list_servers(session, access, q=None, tag=None, limit=200, offset=0)
    return [
        {"id": str(item["id"]), "name": item["name"], "address": f"{item['username']}@{item['host']}:{item['port']}"}
        for item in page.items
    ]


class ToolOption(TypedDict):
    id: str
    label: str
    kind: str


def _tool_options(session, access: Access) -> list[ToolOption]:
    """The user's tools a tool event can send through (the first 200)."""
    page = tools.list_tools(session, access, q=None, limit=200, offset=0)
    return [{"id": str(t["id"]), "label": f"{t['name']} ({KIND_TABLE[t['kind']].label})", "kind": t["kind"]}
            for t in page.items]


def _load_new(access: Access) -> tuple[list[ServerOption], list[ToolOption]]:
    with read_session() as session:
        return _server_options(session, access), _tool_options(session, access)


def _load(access: Access, event_id: int) -> tuple[dict[str, Any], list[dict[str, Any]], list[ServerOption], list[ToolOption]]:
    with read_session() as session:
        event = events.event_to_dict(events.get_event(session, access, event_id))
        runs = jobs.list_jobs_ordered(session, access, jobs.JobFilter(event_id=event_id), limit=RECENT_RUNS).items
        return event, runs, _server_options(session, access), _tool_options(session, access)


def _save(access: Access, event_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    with write_session() as session:
        if event_id:
            event = events.update_event(session, settings, access, event_id, EventUpdate.model_validate(payload))
        else:
            event = events.create_event(session, settings, access, EventCreate.model_validate(payload))
        return events.event_to_dict(event)


def _delete(access: Access, event_id: int) -> None:
    with write_session() as session:
        events.delete_event(session, access, event_id)


class EventEditorState(ScheduleFormMixin, EditorMixin, AppState):
    calls: ClassVar[EditorCalls] = EditorCalls(
        read_new=_load_new, read=_load, save=_save, delete=_delete, row_url=routes.event_url, list_url=routes.EVENTS
    )
    noun: ClassVar[str] = "event"
    new_form_reads: ClassVar[str] = "your servers"

    # What the page shows (the flags and errors come from EditorMixin).
    recent_runs: list[JobRow] = []

    # The form, as typed.
    name: str = ""
    description: str = ""
    kind: str = "python"
    status: str = "active"
    timeout: str = ""
    retries: str = "0"
    cpus: str = ""
    memory: str = ""
    pids: str = ""
    # Queue and history: blank retention fields take the instance's default.
    max_concurrent: str = "0"
    priority: str = "0"
    retention_days: str = ""
    retention_runs: str = ""
    network: str = "none"
    # Secret rows hold a value only while it is typed: never once saved.
    env_rows: list[EnvRow] = []
    # The secrets the service holds for this event (names only).
    saved_secret_names: list[str] = []
    tags: str = ""
    http_method: str = "GET"
    http_url: str = ""
    header_rows: list[KeyValue] = []
    http_body: str = ""
    # Where it runs: no server chosen = the local container runtime.
    server_options: list[ServerOption] = []
    server_ids: list[str] = []
    server_tags: str = ""
    remote_docker: bool = False

    # The code editor loads `editor_doc` when `editor_key` changes and
    # reports every edit into `_script` (see components/code_editor.py).
    editor_doc: str = ""
    editor_key: int = 0
    _script: str = ""

    # A tool event: the tool, its fields' templates, and their preview over
    # a sample input.
    tool_options: list[ToolOption] = []
    tool_id: str = NO_TOOL
    tool_fields: dict[str, str] = {}
    preview_input: str = SAMPLE_INPUT
    preview: dict[str, str] = {}
    preview_error: str = ""

    # Server limits, for the hints under the fields.
    limits: dict[str, str] = {}

    @rx.var
    def is_http(self) -> bool:
        return self.kind == "http"

    @rx.var
    def is_tool(self) -> bool:
        return self.kind == "tool"

    @rx.var
    def runs_script(self) -> bool:
        return self.kind not in ("http", "tool")

    @rx.var
    def tool_field_names(self) -> list[str]:
        """The fields the chosen tool's action renders, in form order."""
        kind = next((o["kind"] for o in self.tool_options if o["id"] == self.tool_id), "")
        return list(KIND_TABLE[kind].fields) if kind in KIND_TABLE else []

    # -- loading -----------------------------------------------------------------

    def _set_limits(self) -> None:
        s = get_settings()
        self.limits = {
            "timeout": f"1 to {s.job_max_timeout_s} seconds",
            "retries": f"0 to {s.job_max_retries}",
            "cpus": f"up to {s.job_max_cpus:g}",
            "memory": f"16 to {s.job_max_memory_mb} MB",
            "pids": f"8 to {s.job_max_pids} processes",
            "max_concurrent": "0: no limit; more runs wait in the queue",
            "priority": f"-{PRIORITY_RANGE} to {PRIORITY_RANGE}; higher runs first",
            "retention_days": (f"Blank: this server's default ({s.retention_days} days)" if s.retention_days
                               else "Blank: this server's default (kept forever)"),
            "retention_runs": "Blank: no limit by count",
            "network": "" if s.allow_egress else "Egress is turned off on this server.",
        }

    def _reset_form(self) -> None:
        s = get_settings()
        # Keep the editor's key growing: a reused key would not reload it.
        key = self.editor_key
        self.reset()
        self.editor_key = key
        self._set_limits()
        self.timeout = str(s.job_default_timeout_s)
        self.cpus = f"{s.job_default_cpus:g}"
        self.memory = str(s.job_default_memory_mb)
        self.pids = str(s.job_default_pids)
        self._load_script(TEMPLATES["python"])

    def _load_script(self, text: str) -> None:
        self._script = text
        self.editor_doc = text
        self.editor_key += 1

    def _fill(self, event: dict[str, Any]) -> None:
        self.name = event["name"]
        self.description = event.get("description") or ""
        self.kind = event["type"]
        self.status = event["status"]
        self.timeout = str(event["timeoutSeconds"])
        self.retries = str(event["retries"])
        self.cpus = f"{event['cpus']:g}"
        self.memory = str(event["memoryMb"])
        self.pids = str(event["pidsLimit"])
        self.max_concurrent = str(event.get("maxConcurrent") or 0)
        self.priority = str(event.get("priority") or 0)
        self.retention_days = "" if event.get("retentionDays") is None else str(event["retentionDays"])
        self.retention_runs = "" if event.get("retentionRuns") is None else str(event["retentionRuns"])
        self.network = event["network"]
        self.env_rows = env_rows(event)
        self.tags = ", ".join(event.get("tags") or [])
        self.server_ids = [str(i) for i in event.get("serverIds") or []]
        self.server_tags = ", ".join(event.get("serverTags") or [])
        self.remote_docker = bool(event.get("remoteDocker"))
        self._fill_schedule(event)
        http = event.get("httpRequest") or {}
        self.http_method = http.get("method") or "GET"
        self.http_url = http.get("url") or ""
        self.header_rows = [{"key": k, "value": v} for k, v in (http.get("headers") or {}).items()]
        self.http_body = http.get("body") or ""
        action = event.get("toolAction") or {}
        self.tool_id = str(action.get("toolId") or NO_TOOL)
        self.tool_fields = dict(action.get("fields") or {})
        self._load_script(event.get("script") or "")
        self._saved(event)
        self.errors = {}

    def _show_new(self, found) -> None:
        self._refresh_preview()
        self.server_options, self.tool_options = found

    def _show_row(self, found) -> None:
        event, runs, options, tool_options = found
        self.tool_options = tool_options
        self._fill(event)
        self.recent_runs = [job_row(job, self.tz) for job in runs]
        self.server_options = options

    def _saved(self, row: dict[str, Any]) -> None:
        # Only the saved marks: the form (and the code editor, whose cursor a
        # reload would move) keeps what was typed, except the secrets' values.
        self.current_id = row["id"]
        self.saved_name = row["name"]
        self.env_rows = rows_after_save(self.env_rows)
        self.saved_secret_names = list(row.get("secretEnvVarNames") or [])
        self.updated = local(row.get("updatedAt"), self.tz).strftime("%Y-%m-%d %H:%M:%S")
        self.dirty = False

    # -- editing -----------------------------------------------------------------

    def _validation_errors(self, exc: ValidationError) -> dict[str, str]:
        return validation_field_errors(exc, bounds=BOUNDED, nested=("httpRequest",))

    @rx.event
    def set_field(self, field: str, value: str):
        if field in SCHEDULE_KEYS:
            self._set_schedule(field, value)
            return
        if field not in ERROR_KEYS:
            return
        value = "" if value is None else str(value)
        if field in _CHOICES and value not in _CHOICES[field]:
            return
        if field == "kind" and value != self.kind:
            self._switch_type(value)
        setattr(self, field, value)
        self._touch(ERROR_KEYS[field])

    # -- a tool event ---------------------------------------------------------------

    @rx.event
    async def set_tool(self, value: str):
        if value != NO_TOOL and not any(o["id"] == value for o in self.tool_options):
            return
        self.tool_id = value
        self._touch("toolAction", "toolAction.toolId")
        await self._render_preview()

    @rx.event
    async def set_tool_field(self, name: str, value: str):
        if name not in FIELD_LABELS:
            return
        self.tool_fields = {**self.tool_fields, name: (value or "")[:TEMPLATE_MAX_CHARS]}
        self._touch("toolAction", f"toolAction.fields.{name}")
        await self._render_preview()

    @rx.event
    async def set_preview_input(self, value: str):
        self.preview_input = (value or "")[:10_000]
        await self._render_preview()

    def _sample_input(self) -> Any:
        text = self.preview_input.strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return text  # not JSON: the input is this text

    @rx.event
    async def refresh_tool_preview(self):
        await self._render_preview()

    async def _render_preview(self) -> None:
        """The chosen tool's fields rendered as a job would, over the sample input."""
        fields = {name: self.tool_fields.get(name, "") for name in self.tool_field_names}
        if not fields:
            self.preview, self.preview_error = {}, ""
            return
        data = TemplatePreviewIn(fields=fields, input=self._sample_input(), eventId=self.current_id or None)
        try:
            result = await checks.preview(get_settings(), self._access, data)
        except CroniumError as exc:
            self.preview_error = sentence(exc.message)
            return
        self.preview = dict(result.get("fields") or {})
        problem = result.get("error")
        where = FIELD_LABELS.get(result.get("field") or "", "")
        self.preview_error = sentence(f"{where}: {problem}" if where else problem) if problem else ""

    @rx.event
    def toggle_server(self, server_id: str, chosen: bool):
        ids = [i for i in self.server_ids if i != server_id]
        self.server_ids = [*ids, server_id] if chosen else ids
        self._touch("serverIds")

    @rx.event
    def set_remote_docker(self, value: bool):
        self.remote_docker = bool(value)
        self._touch("remoteDocker")

    def _switch_type(self, new_type: str) -> None:
        """A script still empty or untouched becomes the new language's example."""
        if not self._script.strip() or self._script == TEMPLATES.get(self.kind):
            self._load_script(TEMPLATES.get(new_type, ""))

    @rx.event
    def set_script(self, value: str):
        self._script = value if isinstance(value, str) else ""
        self._touch("script")

    def _rows(self, which: str) -> list[Any]:
        return list(self.env_rows if which == "env" else self.header_rows)

    def _store_rows(self, which: str, rows: list[Any]) -> None:
        if which == "env":
            self.env_rows = rows
            self._touch(ENV_KEY, SECRET_ENV_KEY)
        else:
            self.header_rows = rows
            self._touch("httpRequest.headers")

    @rx.event
    def add_row(self, which: str):
        blank = blank_env_row() if which == "env" else KeyValue(key="", value="")
        self._store_rows(which, [*self._rows(which), blank])

    @rx.event
    def remove_row(self, which: str, index: int):
        rows = self._rows(which)
        if 0 <= index < len(rows):
            rows.pop(index)
            self._store_rows(which, rows)

    @rx.event
    def set_row(self, which: str, index: int, part: str, value: str):
        rows = self._rows(which)
        if 0 <= index < len(rows) and part in ("key", "value"):
            rows[index] = {**rows[index], part: value}
            self._store_rows(which, rows)

    @rx.event
    def set_env_secret(self, index: int, secret: bool):
        """Mark a row secret or plain. A stored secret marked plain needs
        its value typed again; marked secret again while still empty, it
        keeps its stored value."""
        rows = self._rows("env")
        if 0 <= index < len(rows):
            rows[index] = {**rows[index], "secret": bool(secret)}
            self._store_rows("env", rows)

    # -- saving ------------------------------------------------------------------

    def _payload(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The service input, and the problems found in the form and by the
        schema, both at once (the form's own message wins for a field)."""
        payload, problems = self._form_payload()
        try:
            (EventUpdate if self.current_id else EventCreate).model_validate(payload)
        except ValidationError as exc:
            problems = {**self._validation_errors(exc), **problems}
        return payload, problems

    def _form_payload(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The service input built from the form, and the problems found on
        the way (numbers that are not numbers, half-filled rows)."""
        problems: dict[str, str] = {}

        def number(field: str, kind: type, *, optional: bool = False):
            text = getattr(self, field).strip()
            if not text and optional:
                return None
            try:
                return kind(text)
            except ValueError:
                problems[ERROR_KEYS[field]] = "Enter a whole number." if kind is int else "Enter a number."
                return None

        env = env_changes(self.env_rows, self.saved_secret_names)
        problems.update(env.problems)
        payload: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "type": self.kind,
            "status": self.status,
            "timeoutSeconds": number("timeout", int),
            "retries": number("retries", int),
            "cpus": number("cpus", float),
            "memoryMb": number("memory", int),
            "pidsLimit": number("pids", int),
            "maxConcurrent": number("max_concurrent", int),
            "priority": number("priority", int),
            "retentionDays": number("retention_days", int, optional=True),
            "retentionRuns": number("retention_runs", int, optional=True),
            "network": self.network,
            "envVars": env.plain,
            "tags": [tag.strip() for tag in self.tags.split(",") if tag.strip()],
            "serverIds": [int(i) for i in self.server_ids],
            "serverTags": [tag.strip() for tag in self.server_tags.split(",") if tag.strip()],
            "remoteDocker": self.remote_docker,
        }
        if env.secret:
            payload["secretEnvVars"] = env.secret
        payload.update(self._schedule_payload(problems))
        if not self.name.strip():
            problems["name"] = "Give the event a name."
        if self.kind == "http":
            payload["httpRequest"] = {
                "method": self.http_method,
                "url": self.http_url.strip(),
                "headers": named_values(self.header_rows, "httpRequest.headers", "header", problems),
                "body": self.http_body if self.http_body else None,
            }
            if not payload["httpRequest"]["url"]:
                problems["httpRequest.url"] = "Enter the URL to call."
        elif self.kind == "tool":
            if self.tool_id == NO_TOOL:
                problems["toolAction"] = "Choose the tool to send through."
            else:
                fields = {name: self.tool_fields.get(name, "") for name in self.tool_field_names}
                payload["toolAction"] = {"toolId": int(self.tool_id), "fields": fields}
            payload["serverIds"], payload["serverTags"] = [], []
        else:
            payload["script"] = self._script
        return payload, problems

"""/tools: the user's tools (Slack, Discord, Teams, webhook, email): list,
search, create, edit, send a test message, delete.

Stored credentials (hook URLs, header values, signing secrets, passwords)
never come into this state: the service does not return them. What the
user types into a credential field is held only while the dialog is open;
on edit, an empty credential field keeps the stored value.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any, ClassVar, TypedDict

import reflex as rx
from pydantic import ValidationError

from cronium_app.auth.access import Access
from cronium_app.db import read_session, write_session
from cronium_app.display.formatting import fmt_datetime, fmt_short
from cronium_app.display.messages import FORM, sentence, service_field_errors, validation_field_errors
from cronium_app.errors import CroniumError, NotFound
from cronium_app.pagination import Page
from cronium_app.settings import get_settings
from cronium_app.state.base import AppState
from cronium_app.state.paged_list import SearchableListMixin
from cronium_app.state.saving import DialogFormMixin
from cronium_app.tools import checks
from cronium_app.tools import service as tools
from cronium_app.tools.schemas import ToolCreate, ToolTestIn, ToolUpdate
from orchestrator_worker.tools.kinds import EMAIL, KIND_TABLE, KINDS, WEBHOOK

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
# The form's fields under the API's names, so that service and schema
# messages land next to the right control.
FIELDS = ("name", "kind", "url", "method", "contentType", "headers", "signingSecret", "host", "port", "security",
          "username", "password", "fromAddress")
SECRET_FIELDS = ("url", "headers", "signingSecret", "password")
BOUNDED = {"port": ("Port", "")}
BLANK = {"name": "", "kind": "slack", "url": "", "method": "POST", "contentType": "application/json", "headers": "",
         "signingSecret": "", "host": "", "port": "587", "security": "starttls", "username": "", "password": "",
         "fromAddress": ""}
KIND_OPTIONS = [(kind, KIND_TABLE[kind].label) for kind in KINDS]
URL_HINTS = {
    "slack": "The incoming webhook URL Slack gave (https://hooks.slack.com/services/…).",
    "discord": "The channel's webhook URL (https://discord.com/api/webhooks/…).",
    "teams": "The Workflows or incoming webhook URL of the channel.",
    "webhook": "Where Cronium sends the request.",
}


class ToolRow(TypedDict):
    id: int
    name: str
    kind: str
    kind_label: str
    target: str
    details: str
    check: str  # ok | failed | never
    check_message: str
    checked: str
    checked_full: str


def _target(item: dict[str, Any]) -> str:
    if item["kind"] == EMAIL:
        return f"{item.get('fromAddress') or ''} via {item.get('host')}:{item.get('port')}"
    return f"{item.get('urlHost') or ''}/…" if item.get("urlHost") else "no URL"


def _details(item: dict[str, Any]) -> str:
    if item["kind"] == WEBHOOK:
        parts = [item.get("method") or "POST", item.get("contentType") or ""]
        if item.get("headerNames"):
            parts.append("headers: " + ", ".join(item["headerNames"]))
        if item.get("signed"):
            parts.append("signed (HMAC-SHA256)")
        return " · ".join(p for p in parts if p)
    if item["kind"] == EMAIL:
        security = {"starttls": "STARTTLS", "tls": "TLS", "none": "no encryption"}.get(item.get("security") or "", "")
        login = f"login {item['username']}" if item.get("username") else "no login"
        return f"{security} · {login}"
    return ""


def tool_row(item: dict[str, Any], tz: str) -> ToolRow:
    ok = item.get("lastTestOk")
    return {
        "id": item["id"],
        "name": item["name"],
        "kind": item["kind"],
        "kind_label": KIND_TABLE[item["kind"]].label,
        "target": _target(item),
        "details": _details(item),
        "check": "never" if ok is None else ("ok" if ok else "failed"),
        "check_message": sentence(item["lastTestMessage"]) if item.get("lastTestMessage") else "",
        "checked": fmt_short(item.get("lastTestedAt"), tz, empty=""),
        "checked_full": fmt_datetime(item.get("lastTestedAt"), tz, empty=""),
    }


def parse_headers(text: str) -> tuple[dict[str, str], str | None]:
    """'Name: value' lines as a dict, or the first bad line's problem."""
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            return {}, f"Line {number} is not 'Name: value'."
        headers[name.strip()] = value.strip()
    return headers, None


# -- database work, in threads ---------------------------------------------------


def _query(access: Access, q: str, offset: int) -> Page:
    with read_session() as session:
        return tools.list_tools(session, access, q=q or None, limit=PAGE_SIZE, offset=offset)


def _create(access: Access, data: ToolCreate) -> dict[str, Any]:
    with write_session() as session:
        return tools.tool_to_dict(tools.create_tool(session, get_settings(), access, data))


def _update(access: Access, tool_id: int, data: ToolUpdate) -> dict[str, Any]:
    with write_session() as session:
        return tools.tool_to_dict(tools.update_tool(session, get_settings(), access, tool_id, data))


def _get(access: Access, tool_id: int) -> dict[str, Any]:
    with read_session() as session:
        return tools.tool_to_dict(tools.get_tool(session, access, tool_id))


def _delete(access: Access, tool_id: int) -> None:
    with write_session() as session:
        tools.delete_tool(session, access, tool_id)


class ToolsState(DialogFormMixin, SearchableListMixin, AppState):
    rows: list[ToolRow] = []
    testing: list[int] = []

    # The create / edit dialog: the fields under the API's names.
    original: dict[str, str] = {}
    form: dict[str, str] = dict(BLANK)
    stored_headers: list[str] = []
    stored_signed: bool = False

    # The test dialog: where an email tool's test message goes.
    test_id: int = 0
    test_name: str = ""
    test_kind: str = ""
    test_to: str = ""
    test_lines: list[str] = []

    confirm_id: int = 0
    confirm_name: str = ""
    confirming: bool = False

    page_size: ClassVar[int] = PAGE_SIZE
    noun: ClassVar[str] = "tool"

    @rx.var
    def kind(self) -> str:
        return self.form.get("kind", "slack")

    @rx.var
    def kind_label(self) -> str:
        kind = self.form.get("kind", "")
        return KIND_TABLE[kind].label if kind in KIND_TABLE else kind

    @rx.var
    def url_hint(self) -> str:
        return URL_HINTS.get(self.form.get("kind", ""), "")

    @rx.var
    def filtered(self) -> bool:
        return bool(self.q)

    # -- the list ------------------------------------------------------------------

    def _reader(self):
        return partial(_query, self._access, self.q.strip())

    def _show_rows(self, page: Page) -> None:
        self.rows = [tool_row(item, self.tz) for item in page.items]

    def _reset(self) -> None:
        self.editor_open = False
        self.confirm_id = 0
        self.test_id = 0
        self._drop_secrets()

    def _row(self, tool_id: int) -> ToolRow | None:
        return next((row for row in self.rows if row["id"] == tool_id), None)

    def _replace_row(self, item: dict[str, Any]) -> None:
        self.rows = [tool_row(item, self.tz) if row["id"] == item["id"] else row for row in self.rows]

    # -- create and edit -------------------------------------------------------------

    def _drop_secrets(self) -> None:
        if any(self.form.get(name) for name in SECRET_FIELDS):
            self.form = {**self.form, **{name: "" for name in SECRET_FIELDS}}

    @rx.event
    def open_create(self):
        self.editing_id = 0
        self.original = {}
        self.form = dict(BLANK)
        self.stored_headers, self.stored_signed = [], False
        self.errors = {}
        self.editor_open = True

    @rx.event
    async def open_edit(self, tool_id: int):
        try:
            item = await asyncio.to_thread(_get, self._access, tool_id)
        except NotFound:
            yield rx.toast.error("This tool no longer exists.", id="tool-result")
            return
        values = {
            "name": item["name"], "kind": item["kind"], "method": item.get("method") or BLANK["method"],
            "contentType": item.get("contentType") or BLANK["contentType"], "host": item.get("host") or "",
            "port": str(item.get("port") or BLANK["port"]), "security": item.get("security") or BLANK["security"],
            "username": item.get("username") or "", "fromAddress": item.get("fromAddress") or "",
        }
        self.editing_id = item["id"]
        self.original = values
        self.form = {**BLANK, **values}
        self.stored_headers = list(item.get("headerNames") or [])
        self.stored_signed = bool(item.get("signed"))
        self.errors = {}
        self.editor_open = True

    @rx.event
    def set_field(self, key: str, value: str):
        if key not in BLANK or (key == "kind" and self.editing_id):
            return
        self.form = {**self.form, key: (value or "")[:20_000]}
        if any(k in self.errors for k in (key, FORM)):
            self.errors = {k: v for k, v in self.errors.items() if k not in (key, FORM)}

    def _body(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The create/update body under the API's names, and the form's own
        errors. On edit only what changed is sent; an empty credential
        field keeps the stored one."""
        form, errors = self.form, {}
        kind = form["kind"]
        if not form["name"].strip():
            errors["name"] = "Give the tool a name."
        keys = ["name"]
        if kind == EMAIL:
            keys += ["host", "port", "security", "username", "fromAddress"]
            if not form["host"].strip():
                errors["host"] = "Enter the SMTP server's host name."
            if not form["port"].strip().isdigit() or not 1 <= int(form["port"].strip()) <= 65535:
                errors["port"] = "Enter a port number from 1 to 65535."
            if not form["fromAddress"].strip():
                errors["fromAddress"] = "Enter the address the email comes from."
        elif kind == WEBHOOK:
            keys += ["method", "contentType"]
        values = {k: form[k].strip() for k in keys}
        body: dict[str, Any] = (
            {k: v for k, v in values.items() if v != self.original.get(k)} if self.editing_id else {**values, "kind": kind}
        )
        if "port" in body and "port" not in errors:
            body["port"] = int(body["port"])
        secret_keys = {EMAIL: ("password",), WEBHOOK: ("url", "headers", "signingSecret")}.get(kind, ("url",))
        for key in secret_keys:
            if key == "headers":
                if form["headers"].strip():
                    headers, problem = parse_headers(form["headers"])
                    if problem:
                        errors["headers"] = problem
                    body["headers"] = headers
            elif form[key].strip():
                body[key] = form[key].strip() if key == "url" else form[key]
        if not self.editing_id and kind != EMAIL and "url" not in body:
            errors["url"] = "Enter the URL to send to."
        return body, errors

    @rx.event
    async def save(self):
        if self.saving:
            return
        body, errors = self._body()
        async for update in self._save_dialog(body, errors, (ToolCreate, ToolUpdate), _create, _update, "tool-result"):
            yield update

    def _validation_errors(self, exc: ValidationError) -> dict[str, str]:
        return validation_field_errors(exc, bounds=BOUNDED, fields=FIELDS)

    def _service_errors(self, exc: CroniumError) -> dict[str, str]:
        return service_field_errors(exc, fields=FIELDS)

    def _gone(self, exc: NotFound) -> None:
        self.errors = {FORM: "This tool no longer exists. Close the dialog to see the list again."}

    # -- test --------------------------------------------------------------------------

    @rx.event
    def open_test(self, tool_id: int):
        row = self._row(tool_id)
        if row is not None:
            self.test_id, self.test_name, self.test_kind = row["id"], row["name"], row["kind"]
            self.test_lines = []

    @rx.event
    def set_test_to(self, value: str):
        self.test_to = (value or "")[:320]

    @rx.event
    def set_test_open(self, value: bool):
        if not value and self.test_id not in self.testing:
            self.test_id = 0

    @rx.event(background=True)
    async def send_test(self):
        async with self:
            tool_id = self.test_id
            if not tool_id or tool_id in self.testing:
                return
            self.testing = [*self.testing, tool_id]
            self.test_lines = []
            access, to = self._access, self.test_to.strip() or None
        item: dict[str, Any] | None = None
        lines: list[str] = []
        try:
            result = await checks.test_tool(get_settings(), access, tool_id, ToolTestIn(to=to))
        except NotFound:
            toast = rx.toast.error("This tool no longer exists.", id="tool-test-result")
        except (ValidationError, CroniumError) as exc:
            toast = rx.toast.error(sentence(str(exc)), id="tool-test-result")
        except Exception:
            logger.exception("tool test failed", extra={"tool_id": tool_id})
            toast = rx.toast.error("The test could not run. Try again.", id="tool-test-result")
        else:
            item, lines = result["tool"], result["lines"]
            text = "Test message sent." if result["ok"] else sentence(result["message"])
            toast = (rx.toast.success if result["ok"] else rx.toast.error)(f"{item['name']}: {text}",
                                                                          id="tool-test-result")
        async with self:
            self.testing = [i for i in self.testing if i != tool_id]
            self.test_lines = lines
            if item is not None:
                self._replace_row(item)
        yield toast

    # -- delete ---------------------------------------------------------------------------

    @rx.event
    def ask_delete(self, tool_id: int):
        row = self._row(tool_id)
        if row is not None:
            self.confirm_id, self.confirm_name = row["id"], row["name"]

    @rx.event
    def set_confirm_open(self, value: bool):
        if not value and not self.confirming:
            self.confirm_id = 0

    @rx.event
    async def confirm_delete(self):
        tool_id, name = self.confirm_id, self.confirm_name
        if self.confirming or not tool_id:
            return
        self.confirming = True
        yield
        try:
            await asyncio.to_thread(_delete, self._access, tool_id)
        except NotFound:
            pass
        except CroniumError as exc:  # still used by events: the message names them
            self.confirming, self.confirm_id = False, 0
            yield rx.toast.error(sentence(str(exc)), id="tool-result")
            return
        except Exception:
            logger.exception("tool delete failed", extra={"tool_id": tool_id})
            self.confirming, self.confirm_id = False, 0
            yield rx.toast.error("The tool could not be deleted. Try again.", id="tool-result")
            return
        self.confirming, self.confirm_id = False, 0
        yield rx.toast.success(f"Deleted {name}.", id="tool-result")
        async for update in self._fetch():
            yield update

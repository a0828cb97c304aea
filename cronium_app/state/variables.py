"""/variables: the user's variables (JSON values under a key).

The value editor takes JSON. Text that is not JSON is kept as a plain
string, unless it starts like JSON ({, [ or "): then it was meant as JSON,
and the page says where it is broken instead of saving it as text.

A secret variable's value is write-only: the service never returns it, its
row has none, and the value typed for it leaves the state once saved
(state is sent to the browser). Editing one replaces its value.
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import partial
from typing import Any, ClassVar, TypedDict

import reflex as rx

from cronium_app.auth.access import Access
from cronium_app.db import read_session, write_session
from cronium_app.display.formatting import fmt_datetime, fmt_json, fmt_short
from cronium_app.display.messages import service_field_errors
from cronium_app.errors import Conflict, CroniumError, NotFound
from cronium_app.pagination import Page
from cronium_app.settings import get_settings
from cronium_app.state.base import AppState
from cronium_app.state.paged_list import PagedListMixin
from cronium_app.state.saving import SavingMixin
from cronium_app.variables import service as variables

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
_JSON_STARTS = ("{", "[", '"')


class VariableRow(TypedDict):
    key: str
    value: str  # "" for a secret
    kind: str  # "" for a secret
    secret: bool
    updated: str
    updated_full: str


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def variable_row(item: dict[str, Any], tz: str) -> VariableRow:
    secret = bool(item.get("secret"))
    return {
        "key": item["key"],
        "value": "" if secret else fmt_json(item["value"], empty="null"),
        "kind": "" if secret else kind_of(item["value"]),
        "secret": secret,
        "updated": fmt_short(item.get("updatedAt"), tz),
        "updated_full": fmt_datetime(item.get("updatedAt"), tz),
    }


def parse_value(text: str) -> tuple[Any, str]:
    """(value, error): JSON when it parses; otherwise the text as a string,
    unless it was plainly meant as JSON."""
    stripped = text.strip()
    if not stripped:
        return None, 'Enter a value. For an empty string, enter "".'
    try:
        return json.loads(stripped), ""
    except json.JSONDecodeError as exc:
        if stripped.startswith(_JSON_STARTS):
            return None, f"This is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        return text, ""


def _page(access: Access, offset: int) -> Page:
    with read_session() as session:
        # One more than a page: tells whether there is a next page.
        items = variables.list_variables(session, access, limit=PAGE_SIZE + 1, offset=offset)
    return Page(items=items, total=None, limit=PAGE_SIZE, offset=offset)


def _save(access: Access, key: str, value: Any, secret: bool) -> dict[str, Any]:
    with write_session() as session:
        variable, _created = variables.set_variable(session, get_settings(), access, key, value, secret=secret)
        return variables.variable_to_dict(variable)


def _exists(access: Access, key: str) -> bool:
    with read_session() as session:
        try:
            variables.get_variable(session, access, key)
        except NotFound:
            return False
        return True


def _create(access: Access, key: str, value: Any, secret: bool) -> dict[str, Any]:
    """A new variable; an existing key is refused (the dialog would
    otherwise overwrite a value the user did not see)."""
    if _exists(access, key):
        raise Conflict(f"the key {key} already exists: edit it in the list instead", field="key")
    return _save(access, key, value, secret)


def _delete(access: Access, key: str) -> None:
    with write_session() as session:
        variables.delete_variable(session, access, key)


class VariablesState(SavingMixin, PagedListMixin, AppState):
    rows: list[VariableRow] = []

    # The create / edit dialog.
    editor_open: bool = False
    editing_key: str = ""  # "" while creating
    editing_secret: bool = False  # the variable being edited is a secret: its value is replaced
    key: str = ""
    value_text: str = ""
    secret: bool = False

    # The delete confirmation.
    delete_key: str = ""
    deleting: bool = False

    page_size: ClassVar[int] = PAGE_SIZE
    noun: ClassVar[str] = "variable"
    counted: ClassVar[bool] = False

    def _reader(self):
        return partial(_page, self._access)

    def _show_rows(self, page: Page) -> None:
        self.rows = [variable_row(item, self.tz) for item in page.items]

    def _reset(self) -> None:
        self.editor_open = False
        self.delete_key = ""

    # -- create and edit ------------------------------------------------------------

    def _open_editor(self, key: str, value_text: str, secret: bool) -> None:
        self.editing_key = key
        self.editing_secret = secret and bool(key)
        self.key = key
        self.value_text = value_text
        self.secret = secret
        self.errors = {}
        self.editor_open = True

    @rx.event
    def open_create(self):
        self._open_editor("", "", False)

    @rx.event
    def open_edit(self, key: str):
        """Edit a variable: a plain one shows its value, a secret one an
        empty field for the new value."""
        row = next((r for r in self.rows if r["key"] == key), None)
        if row is not None:
            self._open_editor(key, row["value"], row["secret"])

    @rx.event
    def set_editor_open(self, value: bool):
        if not self.saving:
            self.editor_open = bool(value)
            if not value:
                self.value_text = ""  # a secret typed and not saved goes too

    @rx.event
    def set_secret(self, value: bool):
        self.secret = bool(value)

    @rx.event
    def set_key(self, value: str):
        self.key = (value or "")[:200]
        if "key" in self.errors:
            self.errors = {k: v for k, v in self.errors.items() if k != "key"}

    @rx.event
    def set_value_text(self, value: str):
        self.value_text = value or ""
        if "value" in self.errors or "form" in self.errors:
            self.errors = {k: v for k, v in self.errors.items() if k not in ("value", "form")}

    @rx.event
    async def save(self):
        if self.saving:
            return
        key = self.editing_key or self.key.strip()
        value, problem = parse_value(self.value_text)
        errors: dict[str, str] = {}
        if problem:
            errors["value"] = problem
        if not key:
            errors["key"] = "Give the variable a key."
        elif not variables.KEY_RE.match(key):
            errors["key"] = "Use 1-128 letters, digits, '_', '.' or '-'."
        if errors:
            self.errors = errors
            return
        self.saving = True
        yield
        save = _save if self.editing_key else _create
        if await self._store(save, self._access, key, value, self.secret) is None:
            return
        self.editor_open = False
        self.value_text = ""
        yield rx.toast.success(f"Saved {key}.", id="variable-result")
        async for update in self._fetch():
            yield update

    def _service_errors(self, exc: CroniumError) -> dict[str, str]:
        # The dialog has two fields: what is not about the key is about the value.
        return service_field_errors(exc, fields=("key",), elsewhere="value")

    # -- delete ------------------------------------------------------------------

    @rx.event
    def ask_delete(self, key: str):
        self.delete_key = key

    @rx.event
    def set_delete_open(self, value: bool):
        if not value and not self.deleting:
            self.delete_key = ""

    @rx.event
    async def delete(self):
        if self.deleting or not self.delete_key:
            return
        key = self.delete_key
        self.deleting = True
        yield
        try:
            await asyncio.to_thread(_delete, self._access, key)
        except NotFound:
            pass
        except Exception:
            logger.exception("variable delete failed")
            self.deleting = False
            self.delete_key = ""
            yield rx.toast.error("The variable could not be deleted. Try again.", id="variable-result")
            return
        self.deleting = False
        self.delete_key = ""
        yield rx.toast.success(f"Deleted {key}.", id="variable-result")
        async for update in self._fetch():
            yield update

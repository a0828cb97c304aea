"""/servers: the user's SSH servers (list, search, tag filter, create, edit,
test connection, forget the pinned host key, delete).

Stored credentials never come into this state: the service does not return
them. What the user types into the credential fields is held only while the
dialog is open and is dropped when it closes; on edit, an empty credential
field means "keep the stored one".
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from functools import partial
from typing import Any, ClassVar, TypedDict

import reflex as rx
from pydantic import ValidationError

from cronium_app import routes
from cronium_app.auth.access import Access
from cronium_app.db import read_session, write_session
from cronium_app.display.formatting import fmt_datetime, fmt_short
from cronium_app.display.messages import FORM, sentence, service_field_errors, validation_field_errors
from cronium_app.errors import CroniumError, NotFound
from cronium_app.pagination import Page
from cronium_app.servers import check
from cronium_app.servers import service as servers
from cronium_app.servers.schemas import ServerCreate, ServerUpdate
from cronium_app.settings import get_settings
from cronium_app.state.base import AppState
from cronium_app.state.paged_list import SearchableListMixin
from cronium_app.state.saving import DialogFormMixin
from cronium_app.terminal.access import terminal_server_ids

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
ALL_TAGS = "__all__"  # the tag filter's "no filter" (select items cannot be empty)
DEFAULT_PORT = "22"
SECRET_FIELDS = ("private_key", "passphrase", "password")
# pydantic's bounds in words ("Port must be at most 65535.").
BOUNDED = {"port": ("Port", "")}
# The form's fields under the API's names, so that service and schema
# messages land next to the right control.
FIELDS = ("name", "host", "port", "username", "authType", "privateKey", "passphrase", "password", "hostKey", "tags")


class ServerRow(TypedDict):
    id: int
    name: str
    address: str
    host: str
    port: str
    username: str
    auth_type: str
    auth_label: str
    tags: list[str]
    host_key: str
    fingerprint: str
    check: str  # ok | failed | never
    check_message: str
    checked: str
    checked_full: str
    terminal_url: str  # "" when the user may not open a terminal on it


def server_row(item: dict[str, Any], tz: str, *, terminal: bool) -> ServerRow:
    ok = item.get("lastCheckOk")
    return {
        "id": item["id"],
        "name": item["name"],
        "address": f"{item['username']}@{item['host']}:{item['port']}",
        "host": item["host"],
        "port": str(item["port"]),
        "username": item["username"],
        "auth_type": item["authType"],
        "auth_label": "Private key" if item["authType"] == "key" else "Password",
        "tags": list(item.get("tags") or []),
        "host_key": item.get("hostKey") or "",
        "fingerprint": item.get("hostKeyFingerprint") or "",
        "check": "never" if ok is None else ("ok" if ok else "failed"),
        "check_message": sentence(item["lastCheckMessage"]) if item.get("lastCheckMessage") else "",
        "checked": fmt_short(item.get("lastCheckedAt"), tz, empty=""),
        "checked_full": fmt_datetime(item.get("lastCheckedAt"), tz, empty=""),
        "terminal_url": routes.terminal_url(item["id"]) if terminal else "",
    }


def parse_tags(text: str) -> list[str]:
    seen: list[str] = []
    for part in text.split(","):
        tag = part.strip()
        if tag and tag not in seen:
            seen.append(tag)
    return seen


# -- database work, in threads ---------------------------------------------------


def _query(access: Access, q: str, tag: str, offset: int) -> Page:
    """One page of servers, every tag the workspace has (`extra["tags"]`),
    and the servers of the page the caller may open a terminal on
    (`extra["terminal_ids"]`)."""
    with read_session() as session:
        page = servers.list_servers(
            session, access, q=q or None, tag=None if tag == ALL_TAGS else tag, limit=PAGE_SIZE, offset=offset
        )
        terminal_ids = terminal_server_ids(session, access.user_id, [item["id"] for item in page.items])
        # Every tag the user has, for the filter (server lists are short).
        everything = servers.list_servers(session, access, q=None, tag=None, limit=10_000, offset=0)
    tags = sorted({t for item in everything.items for t in item["tags"]}, key=str.lower)
    return replace(page, extra={**page.extra, "tags": tags, "terminal_ids": terminal_ids})


def _create(access: Access, data: ServerCreate) -> dict[str, Any]:
    with write_session() as session:
        return servers.server_to_dict(servers.create_server(session, get_settings(), access, data))


def _update(access: Access, server_id: int, data: ServerUpdate) -> dict[str, Any]:
    with write_session() as session:
        return servers.server_to_dict(servers.update_server(session, get_settings(), access, server_id, data))


def _delete(access: Access, server_id: int) -> None:
    with write_session() as session:
        servers.delete_server(session, access, server_id)


def _forget(access: Access, server_id: int) -> dict[str, Any]:
    with write_session() as session:
        return servers.server_to_dict(servers.forget_host_key(session, access, server_id))


# Actions that ask first: what they do, and what to say when that fails.
CONFIRMED_ACTIONS = {
    "forget": (_forget, "The host key could not be forgotten. Try again."),
    "delete": (_delete, "The server could not be deleted. Try again."),
}


class ServersState(DialogFormMixin, SearchableListMixin, AppState):
    rows: list[ServerRow] = []
    tag_filter: str = ALL_TAGS
    all_tags: list[str] = []

    # Servers whose connection test is running.
    testing: list[int] = []

    # The create / edit dialog.
    stored_auth_type: str = ""  # the edited server's auth type: its credentials are kept when left empty
    original: dict[str, str] = {}
    name: str = ""
    host: str = ""
    port: str = DEFAULT_PORT
    username: str = ""
    auth_type: str = "key"
    private_key: str = ""
    passphrase: str = ""
    password: str = ""
    host_key: str = ""
    tags_text: str = ""

    # The confirmation open: "forget" (the host key) or "delete", for one server.
    confirm_action: str = ""
    confirm_id: int = 0
    confirm_name: str = ""
    confirming: bool = False

    page_size: ClassVar[int] = PAGE_SIZE
    noun: ClassVar[str] = "server"

    @rx.var
    def filtered(self) -> bool:
        return bool(self.q) or self.tag_filter != ALL_TAGS

    @rx.var
    def keeps_credentials(self) -> bool:
        """Editing, with the auth type the stored credentials are for."""
        return self.editing_id != 0 and self.auth_type == self.stored_auth_type

    # -- the list ------------------------------------------------------------------

    def _reader(self):
        return partial(_query, self._access, self.q.strip(), self.tag_filter)

    def _show_rows(self, page: Page) -> None:
        allowed = page.extra["terminal_ids"]
        self.rows = [server_row(item, self.tz, terminal=item["id"] in allowed) for item in page.items]
        tags = page.extra["tags"]
        self.all_tags = tags
        if self.tag_filter != ALL_TAGS and self.tag_filter not in tags:
            self.tag_filter = ALL_TAGS

    def _reset(self) -> None:
        self.editor_open = False
        self.confirm_action, self.confirm_id = "", 0
        self._drop_secrets()

    @rx.event
    async def set_tag_filter(self, value: str):
        self.tag_filter = value if value in self.all_tags else ALL_TAGS
        async for update in self._show(0):
            yield update

    @rx.event
    async def clear_filters(self):
        self.q, self.tag_filter = "", ALL_TAGS
        async for update in self._show(0):
            yield update

    def _replace_row(self, item: dict[str, Any]) -> None:
        self.rows = [
            server_row(item, self.tz, terminal=row["terminal_url"] != "") if row["id"] == item["id"] else row
            for row in self.rows
        ]

    def _row(self, server_id: int) -> ServerRow | None:
        return next((row for row in self.rows if row["id"] == server_id), None)

    # -- create and edit -------------------------------------------------------------

    def _drop_secrets(self) -> None:
        for name in SECRET_FIELDS:
            if getattr(self, name):
                setattr(self, name, "")

    @rx.event
    def open_create(self):
        self.editing_id = 0
        self.stored_auth_type = ""
        self.original = {}
        self.name, self.host, self.port, self.username = "", "", DEFAULT_PORT, ""
        self.auth_type = "key"
        self.host_key, self.tags_text = "", ""
        self._drop_secrets()
        self.errors = {}
        self.editor_open = True

    @rx.event
    def open_edit(self, server_id: int):
        row = self._row(server_id)
        if row is None:
            return
        self.editing_id = row["id"]
        self.stored_auth_type = row["auth_type"]
        self.name, self.host, self.port, self.username = row["name"], row["host"], row["port"], row["username"]
        self.auth_type = row["auth_type"]
        # The host key is the server's public key: no secret.
        self.host_key = row["host_key"]
        self.tags_text = ", ".join(row["tags"])
        self.original = {
            "name": self.name, "host": self.host, "port": self.port, "username": self.username,
            "hostKey": self.host_key, "tags": self.tags_text,
        }
        self._drop_secrets()
        self.errors = {}
        self.editor_open = True

    def _edited(self, *fields: str) -> None:
        """Typing in a field clears its message (and the form's)."""
        if any(f in self.errors for f in (*fields, "form")):
            self.errors = {k: v for k, v in self.errors.items() if k not in (*fields, "form")}

    @rx.event
    def set_name(self, value: str):
        self.name = (value or "")[:200]
        self._edited("name")

    @rx.event
    def set_host(self, value: str):
        self.host = (value or "")[:300]
        self._edited("host")

    @rx.event
    def set_port(self, value: str):
        self.port = (value or "")[:10]
        self._edited("port")

    @rx.event
    def set_username(self, value: str):
        self.username = (value or "")[:100]
        self._edited("username")

    @rx.event
    def set_auth_type(self, value: str | list[str]):
        self.auth_type = "password" if value == "password" else "key"
        self._edited("authType", "privateKey", "passphrase", "password")

    @rx.event
    def set_private_key(self, value: str):
        self.private_key = (value or "")[:20_000]
        self._edited("privateKey", "passphrase")

    @rx.event
    def set_passphrase(self, value: str):
        self.passphrase = (value or "")[:2000]
        self._edited("passphrase", "privateKey")

    @rx.event
    def set_password(self, value: str):
        self.password = (value or "")[:2000]
        self._edited("password")

    @rx.event
    def set_host_key(self, value: str):
        self.host_key = (value or "")[:20_000]
        self._edited("hostKey")

    @rx.event
    def set_tags_text(self, value: str):
        self.tags_text = (value or "")[:2000]
        self._edited("tags")

    def _body(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The create/update body under the API's names, and the form's own
        errors. On edit only what changed is sent: a host or port that is
        sent counts as a new address, which drops the pinned host key."""
        errors: dict[str, str] = {}
        for field, value, message in (
            ("name", self.name, "Give the server a name."),
            ("host", self.host, "Enter the server's host name or IP address."),
            ("username", self.username, "Enter the user to log in as."),
        ):
            if not value.strip():
                errors[field] = message
        port_text = self.port.strip() or DEFAULT_PORT
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            errors["port"] = "Enter a port number from 1 to 65535."
        values: dict[str, Any] = {
            "name": self.name.strip(),
            "host": self.host.strip(),
            "port": port_text,
            "username": self.username.strip(),
            "hostKey": self.host_key.strip(),
            "tags": self.tags_text,
        }
        if self.editing_id:
            body = {k: v for k, v in values.items() if v != self.original.get(k)}
            if self.auth_type != self.stored_auth_type:
                body["authType"] = self.auth_type
        else:
            body = {k: v for k, v in values.items() if k != "hostKey" or v}
            body["authType"] = self.auth_type
        if "port" in body and "port" not in errors:
            body["port"] = int(port_text)
        if "tags" in body:
            body["tags"] = parse_tags(self.tags_text)
        if self.auth_type == "key":
            if self.private_key.strip():
                body["privateKey"] = self.private_key
                # A passphrase belongs to the key it comes with.
                body["passphrase"] = self.passphrase or None
            elif self.passphrase:
                body["passphrase"] = self.passphrase
        elif self.password:
            body["password"] = self.password
        return body, errors

    @rx.event
    async def save(self):
        if self.saving:
            return
        body, errors = self._body()
        schemas = (ServerCreate, ServerUpdate)
        async for update in self._save_dialog(body, errors, schemas, _create, _update, "server-result"):
            yield update

    def _validation_errors(self, exc: ValidationError) -> dict[str, str]:
        return validation_field_errors(exc, bounds=BOUNDED, fields=FIELDS)

    def _service_errors(self, exc: CroniumError) -> dict[str, str]:
        return service_field_errors(exc, fields=FIELDS)

    def _gone(self, exc: NotFound) -> None:
        self.errors = {FORM: "This server no longer exists. Close the dialog to see the list again."}

    # -- test connection ---------------------------------------------------------------

    @rx.event(background=True)
    async def test_connection(self, server_id: int):
        async with self:
            if server_id in self.testing or self._row(server_id) is None:
                return
            self.testing = [*self.testing, server_id]
            access = self._access
        item: dict[str, Any] | None = None
        try:
            result = await check.test_connection(get_settings(), access, server_id)
        except NotFound:
            toast = rx.toast.error("This server no longer exists.", id="server-test-result")
        except Exception:
            logger.exception("server connection test failed", extra={"server_id": server_id})
            toast = rx.toast.error("The connection test could not run. Try again.", id="server-test-result")
        else:
            item = result["server"]
            text = sentence(result["message"])
            if not result["message"].startswith("server "):  # failures name the server already
                text = f"{item['name']}: {text}"
            toast = (rx.toast.success if result["ok"] else rx.toast.error)(text, id="server-test-result")
        async with self:
            self.testing = [i for i in self.testing if i != server_id]
            if item is not None:
                self._replace_row(item)
        yield toast

    async def _attempt(self, work, server_id: int, what: str) -> tuple[bool, Any]:
        """(done, result) of `work(access, server_id)` in a thread; a server
        that is gone already counts as done, with no result."""
        try:
            return True, await asyncio.to_thread(work, self._access, server_id)
        except NotFound:
            return True, None
        except Exception:
            logger.exception("server %s failed", what, extra={"server_id": server_id})
            return False, None

    # -- the confirmations: forget the host key, delete --------------------------------------

    @rx.event
    def ask(self, action: str, server_id: int):
        row = self._row(server_id)
        if row is not None and action in CONFIRMED_ACTIONS:
            self.confirm_action, self.confirm_id, self.confirm_name = action, row["id"], row["name"]

    @rx.event
    def set_confirm_open(self, value: bool):
        if not value and not self.confirming:
            self.confirm_action, self.confirm_id = "", 0

    @rx.event
    async def confirm(self):
        action, server_id, name = self.confirm_action, self.confirm_id, self.confirm_name
        if self.confirming or action not in CONFIRMED_ACTIONS or not server_id:
            return
        self.confirming = True
        yield
        work, failure = CONFIRMED_ACTIONS[action]
        done, item = await self._attempt(work, server_id, action)
        self.confirming, self.confirm_action, self.confirm_id = False, "", 0
        if not done:
            yield rx.toast.error(failure, id="server-result")
            return
        if action == "forget" and item is not None:
            self._replace_row(item)
            yield rx.toast.success(
                f"Forgot {name}'s host key: the next connection pins the key it finds.", id="server-result"
            )
            return
        if action == "delete":
            yield rx.toast.success(f"Deleted {name}.", id="server-result")
        async for update in self._fetch():
            yield update

"""/settings: the signed-in account, its password, its sessions and its API
tokens.

A new token's secret is in the page only until the user dismisses it (or
leaves): the server keeps nothing but its digest, so it cannot be shown
again.

The password form posts to the session API from the page itself (as the
sign-in form does): the API replaces this browser's session cookie, which
only a plain HTTP reply can do, and the page then loads anew so that its
websocket carries the new cookie. Signing out everywhere ends this
browser's session too, so it ends on /login.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, TypedDict

import reflex as rx

from cronium_app import routes
from cronium_app.auth import sessions, tokens
from cronium_app.auth.users import MIN_PASSWORD
from cronium_app.db import read_session, write_session
from cronium_app.display.formatting import fmt_datetime, fmt_short, parse_iso
from cronium_app.display.messages import sentence
from cronium_app.errors import CroniumError, NotFound
from cronium_app.jobs import retention
from cronium_app.settings import get_settings
from cronium_app.state.auth import refusal_message, submit_script
from cronium_app.state.base import SESSION_API, AppState, sign_out_script
from cronium_app.timeutil import utcnow

logger = logging.getLogger(__name__)

# (value, label) of the expiry choices; the value is a number of days.
EXPIRY_CHOICES = (("never", "Never"), ("7", "In 7 days"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year"))
_EXPIRY_VALUES = {value for value, _ in EXPIRY_CHOICES}
# A new token's role in the current workspace ("mine": the user's own role there).
TOKEN_ROLES = ("owner", "editor", "runner", "viewer")
TOKEN_ROLE_CHOICES = (("mine", "My role"), *((role, role.capitalize()) for role in TOKEN_ROLES))

PASSWORD_FORM = "password-form"
# The page the password form loads on success: it says that it worked.
PASSWORD_CHANGED_PAGE = f"{routes.SETTINGS}?password=changed"
# {the API's field: the form's field}
PASSWORD_FIELDS = {"currentPassword": "current_password", "newPassword": "new_password"}
PASSWORD_CHANGE_FAILED = "The password could not be changed on the server. Try again in a moment."


class TokenRow(TypedDict):
    id: int
    name: str
    prefix: str
    created: str
    created_full: str
    last_used: str
    expires: str
    expired: bool
    mcp_only: bool
    workspace: str
    role: str


def token_row(item: dict[str, Any], tz: str) -> TokenRow:
    expires_at = parse_iso(item.get("expiresAt"))
    return {
        "id": item["id"],
        "name": item["name"],
        "prefix": item["prefix"] + "…",
        "created": fmt_short(item.get("createdAt"), tz),
        "created_full": fmt_datetime(item.get("createdAt"), tz),
        "last_used": fmt_short(item.get("lastUsedAt"), tz, empty="never"),
        "expires": fmt_short(item.get("expiresAt"), tz, empty="never"),
        "expired": expires_at is not None and expires_at <= utcnow(),
        "mcp_only": item.get("scopes") == [tokens.MCP_SCOPE],
        "workspace": item["workspaceName"],
        "role": item["role"],
    }


class RetentionRow(TypedDict):
    finished: str
    duration: str
    deleted: str
    error: str


def _retention_rows(tz: str, with_counts: bool) -> list[RetentionRow]:
    """The cleaner's latest passes. How much it deleted counts every user's
    jobs: only an admin sees that."""
    with read_session() as session:
        passes = retention.latest_passes(session)
    return [
        {
            "finished": fmt_datetime(item.finished_at, tz),
            "duration": f"{(item.finished_at - item.started_at).total_seconds():.1f} s",
            "deleted": (f"{item.jobs_deleted} jobs, {item.runs_deleted} workflow runs, {item.lines_deleted} log lines"
                        if with_counts else "—"),
            "error": "failed, see the app's log" if item.error else "",
        }
        for item in passes
    ]


def _list(user_id: int) -> list[dict[str, Any]]:
    with read_session() as session:
        return tokens.list_tokens(session, user_id)


def _create(user_id: int, name: str, days: int | None, workspace_id: int, role: str | None, mcp_only: bool) -> str:
    """A token acting in the tab's workspace, with `role` (None: the user's
    role there); tokens.token_scope refuses a role above the user's."""
    expires = utcnow() + timedelta(days=days) if days else None
    scopes = (tokens.MCP_SCOPE,) if mcp_only else None
    with write_session() as session:
        _token, raw = tokens.create_user_token(session, get_settings(), user_id, name, expires,
                                               workspace_id=workspace_id, role=role, scopes=scopes)
    return raw


def _revoke(user_id: int, token_id: int) -> None:
    with write_session() as session:
        tokens.revoke_token(session, user_id, token_id)


class SettingsState(AppState):
    token_rows: list[TokenRow] = []
    loaded: bool = False
    error: str = ""

    token_name: str = ""
    expiry: str = "90"
    token_role: str = "mine"
    # The token may call the MCP endpoint (/api/mcp) and nothing else.
    mcp_only: bool = False
    name_error: str = ""
    creating: bool = False
    # The new token, shown once; "" once dismissed.
    new_token: str = ""
    new_token_name: str = ""

    revoke_id: int = 0
    revoke_name: str = ""
    revoking: bool = False

    password_errors: dict[str, str] = {}
    password_error: str = ""
    changing_password: bool = False
    password_changed: bool = False

    sign_out_all_open: bool = False
    revoke_tokens_too: bool = False
    signing_out_all: bool = False

    retention_policy: str = ""
    retention_rows: list[RetentionRow] = []

    async def _fetch(self) -> None:
        try:
            items = await asyncio.to_thread(_list, self._user_id)
        except Exception:
            logger.exception("tokens list failed")
            self.error = "Your API tokens could not be loaded."
            return
        self.token_rows = [token_row(item, self.tz) for item in items]
        self.error = ""
        self.loaded = True

    @rx.event
    async def load(self):
        if (go := await self._require_user()) is not None:
            return go
        # A token shown earlier is not shown again after leaving the page.
        self.new_token = ""
        self.new_token_name = ""
        self.revoke_id = 0
        self._clear_password_form()
        self.password_changed = self.router.url.query_parameters.get("password") == "changed"
        self.sign_out_all_open = False
        await self._fetch()
        await self._fetch_retention()
        return None

    async def _fetch_retention(self) -> None:
        self.retention_policy = retention.policy_text(get_settings())
        try:
            self.retention_rows = await asyncio.to_thread(_retention_rows, self.tz, self.user_role == "admin")
        except Exception:  # the rest of the page still works
            logger.exception("retention status failed")
            self.retention_rows = []

    @rx.event
    def set_token_name(self, value: str):
        self.token_name = (value or "")[:100]
        self.name_error = ""

    @rx.event
    def set_token_role(self, value: str):
        if value == "mine" or value in TOKEN_ROLES:
            self.token_role = value

    @rx.event
    def set_mcp_only(self, value: bool):
        self.mcp_only = bool(value)

    @rx.event
    def set_expiry(self, value: str):
        if value in _EXPIRY_VALUES:
            self.expiry = value

    @rx.event
    async def create(self):
        if self.creating:
            return
        name = self.token_name.strip()
        if not name:
            self.name_error = "Name the token after where it will be used, such as \u201cCI deploys\u201d."
            return
        self.creating = True
        yield
        try:
            days = None if self.expiry == "never" else int(self.expiry)
            raw = await asyncio.to_thread(_create, self._user_id, name, days, self._workspace_id,
                                          self.token_role if self.token_role in TOKEN_ROLES else None, self.mcp_only)
        except CroniumError as exc:  # too many tokens an hour, a role above the user's
            self.creating = False
            yield rx.toast.error(sentence(exc.message), id="token-result")
            return
        except Exception:
            logger.exception("token create failed")
            self.creating = False
            yield rx.toast.error("The token could not be created. Try again.", id="token-result")
            return
        self.new_token = raw
        self.new_token_name = name
        self.token_name = ""
        self.mcp_only = False
        self.creating = False
        await self._fetch()

    @rx.event
    def copy_token(self):
        if self.new_token:
            return [rx.set_clipboard(self.new_token), rx.toast.success("Token copied.", id="token-copied")]
        return None

    @rx.event
    def dismiss_token(self):
        self.new_token = ""
        self.new_token_name = ""

    @rx.event
    def ask_revoke(self, token_id: int, name: str):
        self.revoke_id = int(token_id)
        self.revoke_name = name

    @rx.event
    def set_revoke_open(self, value: bool):
        if not value and not self.revoking:
            self.revoke_id = 0

    @rx.event
    async def revoke(self):
        if self.revoking or not self.revoke_id:
            return
        self.revoking = True
        yield
        try:
            await asyncio.to_thread(_revoke, self._user_id, self.revoke_id)
        except NotFound:
            pass
        except Exception:
            logger.exception("token revoke failed")
            self.revoking = False
            self.revoke_id = 0
            yield rx.toast.error("The token could not be revoked. Try again.", id="token-result")
            return
        name = self.revoke_name
        self.revoking = False
        self.revoke_id = 0
        await self._fetch()
        yield rx.toast.success(f"Revoked {name}. Requests using it are refused from now on.", id="token-result")

    # -- password ---------------------------------------------------------------

    def _clear_password_form(self) -> None:
        self.password_errors = {}
        self.password_error = ""
        self.changing_password = False

    @rx.event
    def change_password(self, form: dict):
        """Check the form here, then let the page post it (see the module's docstring)."""
        if self.changing_password:
            return None
        self._clear_password_form()
        self.password_changed = False
        values = {name: str(form.get(name) or "") for name in ("current_password", "new_password", "confirm_password")}
        problems = {name: "Required." for name, value in values.items() if not value}
        if not problems and len(values["new_password"]) < MIN_PASSWORD:
            problems["new_password"] = f"At least {MIN_PASSWORD} characters."
        if not problems and values["new_password"] != values["confirm_password"]:
            problems["confirm_password"] = "The two new passwords differ."
        if problems:
            self.password_errors = problems
            return None
        self.changing_password = True
        script = submit_script(PASSWORD_FORM, f"{SESSION_API}/password", PASSWORD_CHANGED_PAGE, PASSWORD_FIELDS)
        return rx.call_script(script, callback=SettingsState.password_refused)

    @rx.event
    def password_refused(self, result: dict):
        """Called only when the change failed (on success the page loads anew)."""
        self.changing_password = False
        _status, error, message = refusal_message(result, PASSWORD_CHANGE_FAILED)
        field = PASSWORD_FIELDS.get(error.get("field")) if error else None
        if field:
            self.password_errors = {field: message}
        else:
            self.password_error = message

    @rx.event
    def dismiss_password_changed(self):
        self.password_changed = False

    # -- sign out everywhere --------------------------------------------------------

    @rx.event
    def set_sign_out_all_open(self, value: bool):
        if not self.signing_out_all:
            self.sign_out_all_open = bool(value)
            self.revoke_tokens_too = False

    @rx.event
    def set_revoke_tokens_too(self, value: bool):
        self.revoke_tokens_too = bool(value)

    @rx.event
    async def sign_out_everywhere(self):
        if self.signing_out_all or not self._user_id:
            return
        self.signing_out_all = True
        yield
        try:
            await asyncio.to_thread(sessions.end_all_sessions, self._user_id, revoke_api_tokens=self.revoke_tokens_too)
        except Exception:
            logger.exception("sign out everywhere failed")
            self.signing_out_all = False
            yield rx.toast.error("Signing out everywhere failed. Try again.", id="sign-out-all-result")
            return
        # This browser's session has ended too: clear its cookie and go to /login.
        self._drop_everything()
        yield rx.call_script(sign_out_script())

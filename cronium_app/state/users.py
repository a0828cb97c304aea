"""/users: the server's accounts, for its administrators. Every action goes
through one service function of auth/admin.py, auth/invitations.py or
auth/resets.py, which checks in the database that the acting user is an
enabled administrator now (the role this tab loaded with is not enough).

A link (invitation or reset) is shown once, in a dialog, and leaves the
state when the dialog closes."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any, ClassVar, TypedDict

import reflex as rx

from cronium_app.auth import admin, invitations, resets
from cronium_app.db import read_session, write_session
from cronium_app.display.formatting import fmt_datetime, fmt_short
from cronium_app.display.messages import sentence
from cronium_app.errors import CroniumError
from cronium_app.models import Role
from cronium_app.pagination import Page
from cronium_app.settings import get_settings
from cronium_app.state.base import AppState
from cronium_app.state.paged_list import SearchableListMixin
from cronium_app.tools import invitation_email

logger = logging.getLogger(__name__)

NO_EMAIL = "none"


class UserRow(TypedDict):
    id: int
    email: str
    role: str
    status: str
    created: str
    created_full: str
    last_sign_in: str
    last_sign_in_full: str
    # "Password", "SSO" or "Password, SSO": how the account signs in.
    sign_in: str
    is_me: bool


class InvitationRow(TypedDict):
    id: int
    email: str
    role: str
    status: str
    expires: str
    expires_full: str


SIGN_IN_LABELS = {"password": "Password", "sso": "SSO"}


def user_row(item: dict[str, Any], tz: str, me: int) -> UserRow:
    return {
        "id": item["id"], "email": item["email"], "role": item["role"], "status": item["status"],
        "created": fmt_short(item["createdAt"], tz), "created_full": fmt_datetime(item["createdAt"], tz),
        "last_sign_in": fmt_short(item["lastSignInAt"], tz, empty="Never"),
        "last_sign_in_full": fmt_datetime(item["lastSignInAt"], tz, empty="Never"),
        "sign_in": ", ".join(SIGN_IN_LABELS[method] for method in item["signIn"]) or "No way in",
        "is_me": item["id"] == me,
    }


def invitation_row(item: dict[str, Any], tz: str) -> InvitationRow:
    return {
        "id": item["id"], "email": item["email"], "role": item["role"], "status": item["status"],
        "expires": fmt_short(item["expiresAt"], tz), "expires_full": fmt_datetime(item["expiresAt"], tz),
    }


def _page(actor_id: int, q: str, limit: int, offset: int) -> Page:
    with read_session() as session:
        page = admin.list_users(session, actor_id, q=q, offset=offset, limit=limit)
        extra = {"invitations": invitations.list_invitations(session, actor_id),
                 "tools": invitation_email.email_tools(session, actor_id)}
        return Page(items=page.items, total=page.total, limit=limit, offset=offset, extra=extra)


def _write(action, *args: Any) -> Any:
    with write_session() as session:
        return action(session, *args)


class UsersState(SearchableListMixin, AppState):
    rows: list[UserRow] = []
    invitations: list[InvitationRow] = []
    forbidden: bool = False
    busy: bool = False
    # The invite dialog.
    invite_open: bool = False
    invite_email: str = ""
    invite_role: str = Role.user.value
    invite_tool: str = NO_EMAIL
    email_tools: list[dict[str, str]] = []
    invite_error: str = ""
    # A link made just now (invitation or reset), shown once.
    link_title: str = ""
    link_url: str = ""
    link_note: str = ""
    # The account a confirm dialog asks about: disable or enable.
    confirm_id: int = 0
    confirm_email: str = ""
    confirm_action: str = ""

    page_size: ClassVar[int] = 50
    noun: ClassVar[str] = "account"

    def _reader(self):
        return partial(_page, self._user_id, self.q.strip(), self.page_size)

    def _show_rows(self, page: Page) -> None:
        self.rows = [user_row(item, self.tz, self._user_id) for item in page.items]
        self.invitations = [invitation_row(item, self.tz) for item in page.extra["invitations"]]
        self.email_tools = [{"id": str(tool["id"]), "name": tool["name"]} for tool in page.extra["tools"]]

    def _reset(self) -> None:
        self.busy = False
        self.invite_open = False
        self._close_link()
        self.confirm_id = 0

    @rx.event
    async def load(self):
        if (go := await self._require_user()) is not None:
            yield go
            return
        self.forbidden = self.user_role != Role.admin.value
        if self.forbidden:
            return
        self._reset()
        async for update in self._fetch():
            yield update

    async def _act(self, what: str, work, *args: Any) -> tuple[Any, Any]:
        """(result, None) of one service action run in a thread, or (None,
        the toast that says in words why it was refused or failed)."""
        self.busy = True
        try:
            return await asyncio.to_thread(work, *args), None
        except CroniumError as exc:
            message = sentence(exc.message)
        except Exception:
            logger.exception("%s failed", what)
            message = f"Could not {what}. Try again."
        self.busy = False
        return None, rx.toast.error(message, id="users-result")

    async def _refreshed(self):
        self.busy = False
        async for update in self._fetch():
            yield update

    # -- role, disable, enable ------------------------------------------------------------

    @rx.event
    async def set_role(self, user_id: int, role: str):
        if self.busy:
            return
        done, refused = await self._act("change the role", _write, admin.set_role, self._user_id, int(user_id), str(role))
        if refused is not None:
            yield refused
            return
        yield rx.toast.success(f"{done['email']} is now {'an administrator' if role == 'admin' else 'a user'}.",
                               id="users-result")
        async for update in self._refreshed():
            yield update

    @rx.event
    def ask(self, user_id: int, email: str, action: str):
        if action in ("disable", "enable"):
            self.confirm_id, self.confirm_email, self.confirm_action = int(user_id), str(email)[:320], action

    @rx.event
    def set_confirm_open(self, value: bool):
        if not value and not self.busy:
            self.confirm_id = 0

    @rx.event
    async def confirm(self):
        if self.busy or not self.confirm_id:
            return
        work = admin.disable_user if self.confirm_action == "disable" else admin.enable_user
        done, refused = await self._act(f"{self.confirm_action} the account", _write, work, self._user_id,
                                        self.confirm_id)
        self.confirm_id = 0
        if refused is not None:
            yield refused
            return
        yield rx.toast.success(f"{done['email']} is {done['status']}.", id="users-result")
        async for update in self._refreshed():
            yield update

    # -- links ---------------------------------------------------------------------------

    def _close_link(self) -> None:
        self.link_title = self.link_url = self.link_note = ""

    @rx.event
    def close_link(self, value: bool = False):
        if not value:
            self._close_link()

    @rx.event
    async def reset_link(self, user_id: int):
        if self.busy:
            return
        made, refused = await self._act("make a reset link", _write, _reset_for, self._user_id, int(user_id))
        if refused is not None:
            yield refused
            return
        reset, url = made
        self.busy = False
        self.link_title, self.link_url = f"Password reset link for {reset['email']}", url
        self.link_note = (f"It works once, until {fmt_datetime(reset['expiresAt'], self.tz)}; using it ends every "
                          "session of the account. Send it to them yourself: it is not shown again.")

    @rx.event
    def open_invite(self):
        self.invite_open, self.invite_email, self.invite_role, self.invite_error = True, "", Role.user.value, ""
        self.invite_tool = NO_EMAIL

    @rx.event
    def set_invite_open(self, value: bool):
        if not self.busy:
            self.invite_open = bool(value)

    @rx.event
    def set_invite_email(self, value: str):
        self.invite_email = (value or "")[:320]

    @rx.event
    def set_invite_role(self, value: str):
        self.invite_role = value if value in admin.ROLES else Role.user.value

    @rx.event
    def set_invite_tool(self, value: str):
        self.invite_tool = value if value == NO_EMAIL or str(value).isdigit() else NO_EMAIL

    @rx.event
    async def invite(self):
        if self.busy:
            return
        self.busy, self.invite_error = True, ""
        yield
        tool_id = int(self.invite_tool) if self.invite_tool != NO_EMAIL else None
        try:
            made = await invitation_email.invite(get_settings(), self._user_id, self.invite_email.strip(),
                                            self.invite_role, email_tool_id=tool_id)
        except CroniumError as exc:
            self.busy, self.invite_error = False, sentence(exc.message)
            return
        except Exception:
            logger.exception("invitation failed")
            self.busy, self.invite_error = False, "The invitation could not be made. Try again."
            return
        self.invite_open = False
        address = made["invitation"]["email"]
        self.link_title, self.link_url = f"Invitation for {address}", made["url"]
        if made["emailed"]:
            self.link_note = f"Sent to {address} by email. It works once, until it expires; it is not shown again."
        elif tool_id is not None:
            self.link_note = (f"The email could not be sent: {sentence(made['emailError'] or 'unknown error')} "
                              "Send the link yourself; it is not shown again.")
        else:
            self.link_note = "Send it to them yourself. It works once, until it expires; it is not shown again."
        async for update in self._refreshed():
            yield update

    @rx.event
    async def withdraw(self, invitation_id: int):
        if self.busy:
            return
        done, refused = await self._act("withdraw the invitation", _write, invitations.revoke_invitation,
                                        self._user_id, int(invitation_id))
        if refused is not None:
            yield refused
            return
        yield rx.toast.success(f"The invitation for {done['email']} is withdrawn.", id="users-result")
        async for update in self._refreshed():
            yield update


def _reset_for(session, actor_id: int, user_id: int):
    return resets.create_reset(session, get_settings(), actor_id, user_id)

"""The base state every page's state extends: who is signed in, the browser's
time zone, and the guard that sends strangers to /login.

The session cookie is HttpOnly: the page cannot read it, and only the sign-in
API (cronium_app/api/session.py) sets or clears it. The state reads it from
the headers of the websocket's handshake, which stay the same for as long as
the socket lives: that is why signing in and out (and changing the password)
end with a full page load."""

from __future__ import annotations

import asyncio
import json
from typing import TypedDict
from urllib.parse import quote

import reflex as rx

from cronium_app import audit, routes
from cronium_app.auth import sessions, users
from cronium_app.auth.access import Access, Ability, role_allows
from cronium_app.db import read_session, write_session
from cronium_app.errors import Invalid
from cronium_app.display.formatting import is_known_zone
from cronium_app.settings import get_settings
from cronium_app.workspaces import service as workspaces

_YEAR_S = 365 * 24 * 3600
SESSION_API = "/api/session"


def reload_page():
    """What a tab whose session ended is sent: a full load, whose new
    websocket carries the browser's current cookie (or none: /login)."""
    return rx.call_script("window.location.reload()")


def password_form_action(page: str) -> str:
    """The `action` of a form with a password field on `page`, used only
    when the browser submits the form itself (a click before the page's
    scripts run; Reflex's forms otherwise submit by script). The form posts
    there, never in the URL, and is sent back to `page`."""
    return f"{SESSION_API}/early-submit?back={page}"


def sign_out_script() -> str:
    """Clear the session cookie, then load /login. Also when the request
    failed: /login then finds the session still there and goes on to the
    dashboard, so nothing pretends the user signed out."""
    api, login = json.dumps(SESSION_API), json.dumps(routes.LOGIN)
    return (
        f"fetch({api}, {{method: 'DELETE', credentials: 'same-origin'}})"
        f".catch(() => null).finally(() => window.location.replace({login}))"
    )


class WorkspaceOption(TypedDict):
    id: str
    label: str


def _choose_workspace(user_id: int, wanted: int) -> tuple[Access, list[dict]]:
    with read_session() as session:
        return workspaces.choose(session, user_id, wanted)


def _save_theme(user_id: int, theme: str) -> str:
    with write_session() as session:
        return users.set_theme(session, user_id, theme)


class AppState(rx.State):
    """Shared by every page. Feature states subclass it, so `self._access`
    (who acts in which workspace, with which role) and the guard are
    available in all of them."""

    browser_tz: str = rx.Cookie("", name="cronium_tz", max_age=_YEAR_S, same_site="strict")
    user_email: str = ""
    user_role: str = ""
    # The theme the user picked, kept on the account ("" while nobody is
    # signed in: the browser's own setting then holds).
    user_theme: str = ""
    nav_open: bool = False
    shortcuts_open: bool = False
    # Backend only: the signed-in user (0 = nobody).
    _user_id: int = 0
    # Backend only: the workspace this tab acts in (kept for the browser
    # tab's session) and the role there, read again before every event
    # (session_check.py), so a demotion counts at the next click.
    _workspace_id: int = 0
    _workspace_role: str = ""
    # What the page shows: the switcher and which buttons to offer (the
    # services check the role again whatever the page shows).
    workspace_id: str = ""
    workspace_name: str = ""
    workspace_role: str = ""
    workspace_personal: bool = True
    workspace_options: list[WorkspaceOption] = []

    @rx.var
    def signed_in(self) -> bool:
        return self.user_email != ""

    @rx.var
    def can_run(self) -> bool:
        return role_allows(self.workspace_role, Ability.run)

    @rx.var
    def can_edit(self) -> bool:
        return role_allows(self.workspace_role, Ability.edit)

    @rx.var
    def can_manage(self) -> bool:
        return role_allows(self.workspace_role, Ability.manage)

    @property
    def _access(self) -> Access:
        """What every service call of this tab acts as."""
        return Access(user_id=self._user_id, workspace_id=self._workspace_id, role=self._workspace_role)

    @property
    def tz(self) -> str:
        return self.browser_tz or "UTC"

    def _put(self, name: str, value) -> None:
        """Assign only a changed value: every assignment marks the var dirty
        and sends it to the browser, which poll loops must not do each round."""
        if getattr(self, name) != value:
            setattr(self, name, value)

    # -- the guard -------------------------------------------------------------

    def _session_token(self) -> str:
        """The session cookie this page's websocket was opened with (read on
        the server: the cookie never reaches the page)."""
        return sessions.token_from_cookie_header(self.router.headers.cookie)

    async def _resolve_user(self) -> bool:
        """Check the session cookie against the database (expired, forged or
        password-changed sessions are refused) and remember the user."""
        user = None
        token = self._session_token()
        if token:
            user = await asyncio.to_thread(sessions.user_for_session, token, get_settings())
        if user is None:
            self._forget_user()
            return False
        self._user_id = user["id"]
        if self.user_email != user["email"]:
            self.user_email = user["email"]
        if self.user_role != user["role"]:
            self.user_role = user["role"]
        audit.context.identify(audit.ActorKind.user, user["id"], user["email"])
        self._put("user_theme", user["theme"])
        await self._refresh_workspace()
        return True

    async def _refresh_workspace(self, wanted: int | None = None) -> None:
        """Read the tab's workspace and role again (and the list for the
        switcher): a removed member goes back to their personal workspace."""
        if not self._user_id:
            return
        access, listed = await asyncio.to_thread(
            _choose_workspace, self._user_id, self._workspace_id if wanted is None else wanted
        )
        self._workspace_id, self._workspace_role = access.workspace_id, access.role
        current = next(w for w in listed if w["id"] == access.workspace_id)
        self._put("workspace_id", str(access.workspace_id))
        self._put("workspace_name", current["name"])
        self._put("workspace_role", access.role)
        self._put("workspace_personal", current["personal"])
        self._put("workspace_options", [
            {"id": str(w["id"]), "label": f"{w['name']} ({w['role']})"} for w in listed
        ])

    @rx.event
    async def switch_workspace(self, workspace_id: str):
        """The switcher: act in another workspace (one the user is a member
        of), then load the page again so that everything on it is read from
        that workspace."""
        if not self._user_id or not str(workspace_id).isdigit() or len(str(workspace_id)) > 12:
            return None
        await self._refresh_workspace(int(workspace_id))
        return rx.call_script("window.location.reload()")

    async def _require_user(self):
        """None when someone is signed in; otherwise the redirect to /login
        (coming back here afterwards). Page loaders return it as it is."""
        if await self._resolve_user():
            return None
        here = self.router.url.path or routes.DASHBOARD
        if self.router.url.query:
            here += "?" + self.router.url.query
        target = routes.LOGIN if here == routes.DASHBOARD else f"{routes.LOGIN}?next={quote(here, safe='')}"
        return rx.redirect(target, replace=True)

    def _begin_audit_caller(self) -> None:
        """Who acts in this event, for the audit log: the tab's user, from
        the address its websocket came from (behind
        CRONIUM_TRUSTED_PROXY_HOPS proxies, the one the farthest saw)."""
        audit.context.begin(audit.Source.ui, self.router.session.client_ip)
        if self._user_id:
            audit.context.identify(audit.ActorKind.user, self._user_id, self.user_email)

    def _forget_user(self) -> None:
        self._user_id = 0
        self._workspace_id, self._workspace_role = 0, ""
        if self.user_email:
            self.user_email = ""
            self.user_role = ""
            self.user_theme = ""

    async def _session_ended(self) -> bool:
        """Someone signed in on this tab, and that session no longer works:
        signed out everywhere, password changed, expired. Checked before
        every event (cronium_app/session_check.py)."""
        if not self._user_id:
            return False
        user = await asyncio.to_thread(sessions.user_for_session, self._session_token(), get_settings())
        return user is None or user["id"] != self._user_id

    def _drop_everything(self) -> None:
        """Drop every loaded page's data, so that the next user of this tab
        never sees the previous one's rows, not even for a moment."""
        tz = self.browser_tz
        self.reset()
        self.browser_tz = tz

    @rx.event
    async def require_user(self):
        """on_load guard for pages that load nothing of their own."""
        return await self._require_user()

    @rx.event
    def logout(self):
        # The page then asks the API to clear the HttpOnly cookie and loads
        # /login anew: a new websocket, whose handshake no longer carries
        # the session.
        self._drop_everything()
        return rx.call_script(sign_out_script())

    # -- small UI bits ------------------------------------------------------------

    @rx.event
    def toggle_nav(self):
        self.nav_open = not self.nav_open

    @rx.event
    def close_nav(self):
        self.nav_open = False

    @rx.event
    def set_shortcuts_open(self, value: bool):
        self.shortcuts_open = bool(value)
        self.nav_open = False

    @rx.event
    async def choose_theme(self, theme: str | list[str]):
        """Keep the picked theme on the account; the page follows
        `user_theme` (components/theme.py)."""
        if not self._user_id or not isinstance(theme, str) or theme == self.user_theme:
            return
        try:
            self.user_theme = await asyncio.to_thread(_save_theme, self._user_id, theme)
        except Invalid:
            return rx.toast.error("That theme does not exist.", id="theme-result")

    @rx.event
    def detect_timezone(self):
        return rx.call_script(
            "Intl.DateTimeFormat().resolvedOptions().timeZone", callback=AppState.set_timezone
        )

    @rx.event
    def set_timezone(self, name: str):
        if isinstance(name, str) and name != self.browser_tz and is_known_zone(name):
            self.browser_tz = name

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
from urllib.parse import quote

import reflex as rx

from cronium_app import routes
from cronium_app.auth import sessions
from cronium_app.display.formatting import is_known_zone
from cronium_app.settings import get_settings

_YEAR_S = 365 * 24 * 3600
SESSION_API = "/api/session"


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


class AppState(rx.State):
    """Shared by every page. Feature states subclass it, so `self._user_id`
    and the guard are available in all of them."""

    browser_tz: str = rx.Cookie("", name="cronium_tz", max_age=_YEAR_S, same_site="strict")
    user_email: str = ""
    user_role: str = ""
    nav_open: bool = False
    # Backend only: the id every query is scoped to (0 = nobody).
    _user_id: int = 0

    @rx.var
    def signed_in(self) -> bool:
        return self.user_email != ""

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
        return True

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

    def _forget_user(self) -> None:
        self._user_id = 0
        if self.user_email:
            self.user_email = ""
            self.user_role = ""

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
    def detect_timezone(self):
        return rx.call_script(
            "Intl.DateTimeFormat().resolvedOptions().timeZone", callback=AppState.set_timezone
        )

    @rx.event
    def set_timezone(self, name: str):
        if isinstance(name, str) and name != self.browser_tz and is_known_zone(name):
            self.browser_tz = name

"""Sign in and create an account.

The form's values go to the sign-in API (cronium_app/api/session.py) from the
page itself, by fetch: the API sets the HttpOnly session cookie, and the page
then loads the next one anew, so that its websocket's handshake carries the
cookie (see state/base.py). The token never passes through the page.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import reflex as rx

from cronium_app import routes
from cronium_app.auth import invitations, links, oidc, resets, sessions
from cronium_app.display.messages import sentence
from cronium_app.errors import CroniumError
from cronium_app.settings import get_settings
from cronium_app.state.base import SESSION_API, AppState

WRONG_PASSWORD = "Wrong email or password."
SIGN_IN_FAILED = "Signing in failed on the server. Try again in a moment."
REGISTER_FAILED = "Creating the account failed on the server. Try again in a moment."


def next_page(asked: str | None) -> str:
    """Where to go after signing in: only ever a page of this site."""
    return routes.safe_next(asked)


SIGN_IN_FIELDS = {"email": "email", "password": "password"}


def submit_script(form_id: str, api_path: str, target_page: str, fields: dict[str, str] = SIGN_IN_FIELDS) -> str:
    """Post the form's fields to the session API as JSON ({json key: form
    field name}). On success the browser loads `target_page` (only ever on
    this site) and the script never settles, so its callback is not called
    from a page that is going away; otherwise the script's value is
    {"status", "error"} for the callback (status 0: no answer)."""
    form, api, target = json.dumps(form_id), json.dumps(api_path), json.dumps(target_page)
    body = ", ".join(f"{json.dumps(key)}: String(data.get({json.dumps(name)}) || \"\")" for key, name in fields.items())
    return f"""(async () => {{
  const form = document.getElementById({form});
  const data = form ? new FormData(form) : new FormData();
  const body = {{{body}}};
  let response;
  try {{
    response = await fetch({api}, {{
      method: "POST",
      credentials: "same-origin",
      headers: {{"Content-Type": "application/json"}},
      body: JSON.stringify(body),
    }});
  }} catch (e) {{
    return {{status: 0, error: null}};
  }}
  if (response.ok) {{
    const next = new URL({target}, window.location.origin);
    window.location.replace(next.origin === window.location.origin ? next.href : "/");
    return new Promise(() => {{}});
  }}
  let error = null;
  try {{ error = (await response.json()).error || null; }} catch (e) {{}}
  return {{status: response.status, error: error}};
}})()"""


def refusal_message(result: Any, server_message: str) -> tuple[int, dict[str, Any] | None, str]:
    """(status, error, message in words) of a `submit_script` result that is
    not a success: the API's own message, or `server_message` when the
    server failed or did not answer (a busy server says so itself)."""
    status = result.get("status") if isinstance(result, dict) else 0
    error = result.get("error") if isinstance(result, dict) else None
    if not isinstance(status, int) or not isinstance(error, dict) or status == 0 or (status >= 500 and status != 503):
        return (status if isinstance(status, int) else 0), None, server_message
    return status, error, sentence(str(error.get("message") or "the server refused the request"))


class AuthFormState(AppState):
    error: str = ""
    field_errors: dict[str, str] = {}
    submitting: bool = False
    registration_open: bool = True
    # open, invite or closed (settings.registration_mode).
    registration_mode: str = "open"
    first_account: bool = False
    # "Sign in with <label>" when single sign-on is configured ("": off).
    sso_label: str = ""
    sso_href: str = ""

    def _next_page(self) -> str:
        return next_page(self.router.url.query_parameters.get("next"))

    def _clear(self) -> None:
        self.error = ""
        self.field_errors = {}
        self.submitting = False

    @rx.event
    async def open(self):
        """Signed-in visitors go straight on; others see a clean form."""
        self._clear()
        settings = get_settings()
        self.first_account = not await asyncio.to_thread(sessions.has_users)
        self.registration_mode = settings.registration_mode
        # The first account (the admin) may always be made.
        self.registration_open = sessions.registration_open(settings) or self.first_account
        self._offer_single_sign_on(settings)
        if self._session_token() and await self._resolve_user():
            return rx.redirect(self._next_page(), replace=True)
        return None

    def _offer_single_sign_on(self, settings) -> None:
        """The button, and why the last single sign-on was refused (the
        callback sends the browser here with ?sso_error=<reason>)."""
        self.sso_label = settings.oidc_label if settings.oidc_enabled else ""
        self.sso_href = oidc.start_url(self.router.url.query_parameters.get("next")) if self.sso_label else ""
        self.error = oidc.refusal_words(self.router.url.query_parameters.get("sso_error"))

    def _failed(self, result: Any, *, server_message: str, wrong_message: str | None = None) -> None:
        """Show why the API refused (the callback of `submit_script`)."""
        self.submitting = False
        status, error, message = refusal_message(result, server_message)
        if error is None:
            self.error = message
        elif status == 401 and wrong_message:
            self.error = wrong_message
        elif error.get("field") in ("email", "password"):
            self.field_errors = {error["field"]: message}
        else:
            self.error = message

    def _post(self, form_id: str, api_path: str, callback):
        return rx.call_script(submit_script(form_id, api_path, self._next_page()), callback=callback)

    @rx.event
    def login(self, form: dict):
        if self.submitting:
            return None
        email = str(form.get("email") or "").strip()
        password = str(form.get("password") or "")
        self._clear()
        if not email or not password:
            self.field_errors = {
                key: "Required." for key, value in (("email", email), ("password", password)) if not value
            }
            return None
        self.submitting = True
        return self._post("login-form", SESSION_API, AuthFormState.login_refused)

    @rx.event
    def login_refused(self, result: dict):
        """Called only when signing in failed (on success the page is gone)."""
        if isinstance(result, dict) and result.get("status") in (200, 201):
            return
        self._failed(result, server_message=SIGN_IN_FAILED, wrong_message=WRONG_PASSWORD)

    def _passwords_match(self, form: dict) -> bool:
        """Clear the form's messages; False (saying so at the field) when the
        password and its repetition differ."""
        self._clear()
        if str(form.get("password") or "") != str(form.get("confirm") or ""):
            self.field_errors = {"confirm": "The two passwords differ."}
            return False
        return True

    @rx.event
    def register(self, form: dict):
        if self.submitting:
            return None
        if not self._passwords_match(form):
            return None
        self.submitting = True
        return self._post("register-form", SESSION_API + "/register", AuthFormState.register_refused)

    @rx.event
    def register_refused(self, result: dict):
        """Called only when creating the account failed."""
        if isinstance(result, dict) and result.get("status") in (200, 201):
            return
        self._failed(result, server_message=REGISTER_FAILED)


LINK_FIELDS = {"token": "token", "password": "password"}


class LinkFormState(AuthFormState):
    """/invite/<token> and /reset/<token>: the link's token (from the URL)
    and a new password, posted to the session API, which signs the browser
    in. A used, withdrawn or expired link says so in words, before any typing."""

    link_kind: str = ""  # invite or reset
    link_email: str = ""
    link_role: str = ""
    link_refused: str = ""
    token: str = ""

    def _read_link(self) -> None:
        raw = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        self.token = raw if len(raw) <= links.MAX_TOKEN_CHARS else ""
        self.link_email = self.link_role = self.link_refused = ""

    @rx.event
    async def open_invite(self):
        self._clear()
        self._read_link()
        self.link_kind = "invite"
        try:
            found = await asyncio.to_thread(invitations.invitation_for_link, get_settings(), self.token)
        except CroniumError as exc:
            self.link_refused = sentence(exc.message)
            return
        self.link_email, self.link_role = found["email"], found["role"]

    @rx.event
    async def open_reset(self):
        self._clear()
        self._read_link()
        self.link_kind = "reset"
        try:
            found = await asyncio.to_thread(resets.reset_for_link, self.token)
        except CroniumError as exc:
            self.link_refused = sentence(exc.message)
            return
        self.link_email = found["email"]

    @rx.event
    def submit_link(self, form: dict):
        if self.submitting or self.link_refused or self.link_kind not in ("invite", "reset"):
            return None
        if not self._passwords_match(form):
            return None
        self.submitting = True
        script = submit_script("link-form", f"{SESSION_API}/{self.link_kind}", routes.DASHBOARD, LINK_FIELDS)
        return rx.call_script(script, callback=LinkFormState.link_refused_by_api)

    @rx.event
    def link_refused_by_api(self, result: dict):
        """Called only when the API refused (on success the page is gone)."""
        if isinstance(result, dict) and result.get("status") in (200, 201):
            return
        status, _error, message = refusal_message(result, REGISTER_FAILED)
        self.submitting = False
        if status in (404, 410):
            self.link_refused = message
        else:
            self._failed(result, server_message=REGISTER_FAILED)

"""Sign in and create an account."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from cronium_app.errors import CroniumError, Unauthorized
from cronium_app.pages import routes
from cronium_app.settings import get_settings
from cronium_app.state import sessions
from cronium_app.state.base import AppState

logger = logging.getLogger(__name__)

WRONG_PASSWORD = "Wrong email or password."


class AuthFormState(AppState):
    error: str = ""
    field_errors: dict[str, str] = {}
    submitting: bool = False
    registration_open: bool = True
    first_account: bool = False

    def _next_page(self) -> str:
        return routes.safe_next(self.router.url.query_parameters.get("next"))

    def _clear(self) -> None:
        self.error = ""
        self.field_errors = {}
        self.submitting = False

    @rx.event
    async def open(self):
        """Signed-in visitors go straight on; others see a clean form."""
        self._clear()
        settings = get_settings()
        self.registration_open = sessions.registration_open(settings)
        self.first_account = not await asyncio.to_thread(sessions.has_users)
        if self.session_token and await self._resolve_user():
            return rx.redirect(self._next_page(), replace=True)
        return None

    def _signed_in(self, token: str, user: dict):
        self.session_token = token
        self._user_id = user["id"]
        self.user_email = user["email"]
        self.user_role = user["role"]
        self.submitting = False
        return rx.redirect(self._next_page(), replace=True)

    @rx.event
    async def login(self, form: dict):
        if self.submitting:
            return
        email = str(form.get("email") or "").strip()
        password = str(form.get("password") or "")
        self._clear()
        if not email or not password:
            self.field_errors = {
                key: "Required." for key, value in (("email", email), ("password", password)) if not value
            }
            return
        self.submitting = True
        yield
        try:
            token, user = await asyncio.to_thread(sessions.sign_in, email, password, get_settings())
        except Unauthorized:
            self.submitting = False
            self.error = WRONG_PASSWORD
            return
        except Exception:
            logger.exception("sign-in failed")
            self.submitting = False
            self.error = "Signing in failed on the server. Try again in a moment."
            return
        yield self._signed_in(token, user)

    @rx.event
    async def register(self, form: dict):
        if self.submitting:
            return
        email = str(form.get("email") or "").strip()
        password = str(form.get("password") or "")
        confirm = str(form.get("confirm") or "")
        self._clear()
        if password != confirm:
            self.field_errors = {"confirm": "The two passwords differ."}
            return
        self.submitting = True
        yield
        try:
            token, user = await asyncio.to_thread(sessions.sign_up, email, password, get_settings())
        except CroniumError as exc:
            self.submitting = False
            field = exc.details.get("field")
            if field:
                self.field_errors = {field: exc.message[:1].upper() + exc.message[1:] + "."}
            else:
                self.error = exc.message[:1].upper() + exc.message[1:] + "."
            return
        except Exception:
            logger.exception("registration failed")
            self.submitting = False
            self.error = "Creating the account failed on the server. Try again in a moment."
            return
        yield self._signed_in(token, user)

"""Every websocket event checks that its tab's session still works.

A tab keeps the user it signed in as in its state for as long as it lives,
and its websocket's handshake keeps the session cookie it was opened with.
Signing out everywhere or changing the password ends sessions at once
(auth/sessions.py): a tab whose session has ended has its event refused, its
data dropped, and the page reloaded; the reload opens a new websocket (with
the browser's current cookie, which a password change in this browser has
replaced), so the tab goes on signed in with a working session or lands on
/login.
"""

from __future__ import annotations

import reflex as rx
from reflex.middleware import Middleware
from reflex.state import BaseState, StateUpdate
from reflex_base.event import Event

from cronium_app.state.base import AppState


class SessionCheck(Middleware):
    async def preprocess(self, app, state: BaseState, event: Event) -> StateUpdate | None:
        app_state = await state.get_state(AppState)
        if not await app_state._session_ended():
            return None
        app_state._drop_everything()
        return StateUpdate(events=Event.from_event_type(rx.call_script("window.location.reload()")))

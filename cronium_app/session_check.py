"""Every websocket event checks that its tab's session still works (and
the live pages' poll loops check every half second: state/polling.py's
SessionWatch), so a tab of an ended session stops within a second; each
event also names its caller for the audit log (cronium_app/audit/context.py).

A tab keeps the user it signed in as in its state for as long as it lives,
and its websocket's handshake keeps the session cookie it was opened with.
Signing out everywhere, changing the password or an administrator
disabling the account ends sessions at once
(auth/sessions.py): a tab whose session has ended has its event refused, its
data dropped, and the page reloaded; the reload opens a new websocket (with
the browser's current cookie, which a password change in this browser has
replaced), so the tab goes on signed in with a working session or lands on
/login.

A tab's workspace role is read again before each event too, so that what
the event's handler does is checked against the member's current role.
"""

from __future__ import annotations

from reflex.middleware import Middleware
from reflex.state import BaseState, StateUpdate
from reflex_base.event import Event

from cronium_app.state.base import AppState, reload_page


class SessionCheck(Middleware):
    async def preprocess(self, app, state: BaseState, event: Event) -> StateUpdate | None:
        app_state = await state.get_state(AppState)
        app_state._begin_audit_caller()
        if not await app_state._session_ended():
            # The role may have changed since the last event (a member
            # demoted or removed): each event acts with the current one.
            await app_state._refresh_workspace()
            return None
        app_state._drop_everything()
        return StateUpdate(events=Event.from_event_type(reload_page()))

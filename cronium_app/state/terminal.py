"""/servers/{id}/terminal: an interactive shell on one of the user's servers.

The page shows the server (never its credentials) and the terminal; the
shell itself runs over the terminal's own websocket (cronium_app/api/
terminal.py), which checks the sign-in and the access again on its own."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import reflex as rx

from cronium_app import routes
from cronium_app.db import read_session
from cronium_app.errors import NotFound
from cronium_app.servers.service import server_to_dict
from cronium_app.settings import get_settings
from cronium_app.state.base import AppState
from cronium_app.terminal.access import server_for_terminal
from cronium_app.terminal.relay import idle_words

logger = logging.getLogger(__name__)

STATUSES = ("connecting", "open", "closed")
MAX_REASON = 500


def _server(user_id: int, server_id: int) -> dict[str, Any]:
    with read_session() as session:
        return server_to_dict(server_for_terminal(session, user_id, server_id))


class TerminalState(AppState):
    server_id: int = 0
    server_name: str = ""
    address: str = ""
    loaded: bool = False
    not_found: bool = False
    error: str = ""
    # What the terminal says: connecting | open | closed, and why it closed.
    status: str = "connecting"
    closed_reason: str = ""
    # A new value remounts the terminal: a new connection.
    connection: int = 0
    idle_text: str = ""
    # False once the person closed the terminal (its text stays on screen).
    active: bool = True

    @rx.var
    def socket_path(self) -> str:
        return routes.terminal_socket_path(self.server_id) if self.server_id else ""

    @rx.var
    def terminal_key(self) -> str:
        return f"terminal-{self.server_id}-{self.connection}"

    @rx.event
    async def load(self):
        if (go := await self._require_user()) is not None:
            return go
        self.loaded, self.not_found, self.error = False, False, ""
        self.status, self.closed_reason, self.active = "connecting", "", True
        server_id = routes.server_id_of_terminal(self.router.url.path)
        if server_id is None:
            self.not_found, self.loaded = True, True
            return None
        try:
            server = await asyncio.to_thread(_server, self._user_id, server_id)
        except NotFound:
            self.not_found, self.loaded = True, True
            return None
        except Exception:
            logger.exception("terminal page load failed", extra={"server_id": server_id})
            self.error = "This server could not be loaded."
            return None
        self.server_id = server["id"]
        self.server_name = server["name"]
        self.address = f"{server['username']}@{server['host']}:{server['port']}"
        self.idle_text = idle_words(get_settings().terminal_idle_s)
        self.connection += 1
        self.loaded = True
        return None

    @rx.event
    def set_status(self, kind: str, reason: str):
        if kind not in STATUSES:
            return
        self.status = kind
        self.closed_reason = (reason or "")[:MAX_REASON] if kind == "closed" else ""

    @rx.event
    def reconnect(self):
        if self.loaded and not self.not_found and self.status == "closed":
            self.status, self.closed_reason, self.active = "connecting", "", True
            self.connection += 1

    @rx.event
    def disconnect(self):
        """Close the terminal from the page: the component goes, and its
        websocket with it."""
        self.active = False

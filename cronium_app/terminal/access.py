"""Who may open a terminal on a server, and whether an open one may go on.

One place for each question, so that the rules change in one spot:
- `terminal_allowed`: may this caller open a terminal on this server;
- `still_valid`: does the sign-in behind an open terminal still hold (and
  the access with it). An open terminal asks it every
  CRONIUM_TERMINAL_RECHECK_SECONDS and closes when the answer is no.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from cronium_app.auth import sessions
from cronium_app.auth.access import Ability, Access, access_for, member_role, role_allows
from cronium_app.db import read_session
from cronium_app.errors import NotFound
from cronium_app.models import Server
from cronium_app.servers import service as servers
from cronium_app.settings import Settings


def terminal_allowed(session: Session, user_id: int, server: Server) -> bool:
    """May the user `user_id` open an interactive shell on `server`?

    Only when the user's role in the server's workspace is `owner` or
    `editor` (the role that may change the server). A `runner` or a
    `viewer` gets no terminal: a shell can read and change whatever the
    server's login can, which is more than running the workspace's events.
    The role is read from the membership itself, never from a tab's or a
    token's choice, so a lowered role or a removed member is seen at once."""
    role = member_role(session, user_id, server.workspace_id)
    return role is not None and role_allows(role, Ability.edit)


def server_for_terminal(session: Session, user_id: int, server_id: int) -> Server:
    """The server, when the user may open a terminal on it; else NotFound
    (the same answer as for a server that does not exist)."""
    server = session.get(Server, server_id)
    if server is None or not terminal_allowed(session, user_id, server):
        raise NotFound(f"server {server_id} not found")
    return server


def terminal_server_ids(session: Session, user_id: int, server_ids: list[int]) -> set[int]:
    """Which of these servers the user may open a terminal on (for showing
    the action; the websocket route checks again)."""
    if not server_ids:
        return set()
    rows = session.exec(select(Server).where(Server.id.in_(server_ids))).all()
    return {server.id for server in rows if terminal_allowed(session, user_id, server)}


def login_for_terminal(settings: Settings, user_id: int, server_id: int) -> tuple[Access, dict[str, Any]]:
    """The user's access in the server's workspace (what pinning a first
    host key acts with), and what the app logs in with (address, user,
    pinned host key and the unsealed credentials). The login stays in the
    app: nothing of it goes to the browser."""
    with read_session() as session:
        server = server_for_terminal(session, user_id, server_id)
        in_workspace = access_for(session, user_id, server.workspace_id)
        found = servers.resolve_targets(session, settings, in_workspace, {"serverIds": [server_id]})
    if not found:
        raise NotFound(f"server {server_id} not found")
    return in_workspace, found[0]


def signed_in_user(token: str, settings: Settings) -> dict[str, Any] | None:
    """The user of a UI session cookie, checked as every page event checks it
    (auth/sessions.py: signature, expiry and the account's session version)."""
    return sessions.user_for_session(token, settings) if token else None


def still_valid(token: str, user_id: int, server_id: int, settings: Settings) -> str | None:
    """None while the terminal may go on; otherwise why it must close.

    The sign-in is checked the way the UI checks it before every event
    (`sessions.user_for_session`): signing out everywhere, a password change
    and disabling the account all bump the account's session version, which
    ends this terminal as it ends the user's open pages. Access is checked
    again too (the server deleted, the user's role in its workspace lowered
    below editor, or the user removed from it)."""
    user = signed_in_user(token, settings)
    if user is None or user["id"] != user_id:
        return "your session has ended: sign in again"
    with read_session() as session:
        try:
            server_for_terminal(session, user_id, server_id)
        except NotFound:
            return "you may no longer open a terminal on this server"
    return None

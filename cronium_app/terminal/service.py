"""A terminal session from start to end: the caller's sign-in, the bound on
open terminals, the server's login, the shell, the relay, the record, and
the close with its reason.

The route (cronium_app/api/terminal.py) checks the Origin and accepts the
websocket; everything after that happens here."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from starlette.concurrency import run_in_threadpool

from cronium_app.errors import NotFound
from cronium_app.settings import Settings
from cronium_app.terminal import access
from cronium_app.terminal.open_terminals import OPEN_TERMINALS, TooManyTerminals
from cronium_app.terminal.record import TerminalSession, record_terminal_session
from cronium_app.terminal.relay import Close, Ending, Relay
from cronium_app.terminal.shell import ShellFailed, TerminalSize, open_shell
from cronium_app.timeutil import utcnow

logger = logging.getLogger(__name__)

MAX_CLOSE_REASON = 123  # bytes a websocket close frame's reason may hold


def _short(reason: str) -> str:
    encoded = reason.encode("utf-8")
    if len(encoded) <= MAX_CLOSE_REASON:
        return reason
    return encoded[: MAX_CLOSE_REASON - 3].decode("utf-8", "ignore") + "..."


async def close_with(websocket: Any, ending: Ending) -> None:
    """Tell the page why (the whole reason, as JSON), then close with the
    code and the reason cut to what a close frame holds."""
    try:
        await websocket.send_text(json.dumps({"type": "closed", "code": ending.code, "reason": ending.reason}))
        await websocket.close(code=ending.code, reason=_short(ending.reason))
    except (RuntimeError, OSError):
        pass  # the browser has gone already


async def serve_terminal(
    websocket: Any, settings: Settings, *, token: str, server_id: int, size: TerminalSize, address: str
) -> None:
    """Run one terminal session on an accepted websocket, to its end."""
    user = await run_in_threadpool(access.signed_in_user, token, settings)
    if user is None:
        await close_with(websocket, Ending(Close.SIGNED_OUT, "sign in to open a terminal"))
        return
    try:
        with OPEN_TERMINALS.hold(user["id"], settings.terminal_max_per_user):
            ending = await _session(websocket, settings, token, user, server_id, size, address)
    except TooManyTerminals as exc:
        ending = Ending(Close.TOO_MANY, str(exc))
    await close_with(websocket, ending)


async def _session(
    websocket: Any, settings: Settings, token: str, user: dict[str, Any], server_id: int, size: TerminalSize,
    address: str,
) -> Ending:
    user_id = user["id"]
    try:
        in_workspace, login = await run_in_threadpool(access.login_for_terminal, settings, user_id, server_id)
    except NotFound as exc:
        return Ending(Close.NOT_FOUND, exc.message)
    if login.get("error"):
        return Ending(Close.NO_SHELL, login["error"])
    try:
        shell = await open_shell(login, in_workspace, size)
    except ShellFailed as exc:
        return Ending(Close.NO_SHELL, exc.message)
    record = TerminalSession(
        session_id=secrets.token_hex(8), user_id=user_id, user_email=user["email"], server_id=server_id,
        server_name=login["name"], workspace_id=in_workspace.workspace_id, address=address, opened_at=utcnow(),
    )
    record_terminal_session(record, "opened")

    async def still_valid() -> str | None:
        return await run_in_threadpool(access.still_valid, token, user_id, server_id, settings)

    relay = Relay(websocket, shell, idle_s=settings.terminal_idle_s, recheck_s=settings.terminal_recheck_s,
                  still_valid=still_valid)
    ending = Ending(Close.SHELL_ENDED, "the app is stopping")
    try:
        await websocket.send_text(json.dumps({"type": "ready", "idleSeconds": settings.terminal_idle_s}))
        ending = await relay.run()
    except (RuntimeError, OSError):
        ending = Ending(Close.BROWSER_LEFT, "the browser closed the terminal")
    finally:
        await shell.close()
        await run_in_threadpool(record_terminal_session, record, "closed", reason=ending.reason,
                                bytes_in=relay.bytes_in, bytes_out=relay.bytes_out)
    return ending

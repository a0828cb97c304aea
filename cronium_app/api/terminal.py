"""/api/terminal/{server_id}: the browser terminal's websocket.

Only the app's own pages may open it: the Origin must be the public origin
(CRONIUM_PUBLIC_URL), or the handshake is refused (403) before anything
else, so another site cannot open a shell with a visitor's cookie
(cross-site websocket hijacking). The caller is the UI session of the
HttpOnly cookie, checked as every page event checks it. The rest is the
terminal service's (cronium_app/terminal/service.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, WebSocket

from cronium_app.api.deps import client_address
from cronium_app.api.v1.common import ServerId
from cronium_app.auth.sessions import token_from_cookie_header
from cronium_app.settings import get_settings
from cronium_app.terminal.service import serve_terminal
from cronium_app.terminal.shell import TerminalSize

router = APIRouter(tags=["terminal"])

# A close before the handshake is accepted: the server answers 403 (as it
# does for a server id that is not a row id, 1 to 2**31-1).
REFUSED = 4403


def from_own_pages(websocket: WebSocket) -> bool:
    origin = websocket.headers.get("origin", "")
    return origin.rstrip("/").lower() == get_settings().origin.lower()


@router.websocket("/api/terminal/{server_id}")
async def terminal(websocket: WebSocket, server_id: ServerId, address: str = Depends(client_address)) -> None:
    if not from_own_pages(websocket):
        await websocket.close(code=REFUSED)
        return
    await websocket.accept()
    size = TerminalSize.from_query(websocket.query_params.get("cols"), websocket.query_params.get("rows"))
    token = token_from_cookie_header(websocket.headers.get("cookie", ""))
    await serve_terminal(websocket, get_settings(), token=token, server_id=server_id, size=size, address=address)

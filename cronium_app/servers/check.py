""""Test connection": log in to a server from the app, run `true`, pin the
host key on first success, and record the result on the server."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.concurrency import run_in_threadpool

from cronium_app.auth.access import Ability, Access
from cronium_app.db import read_session, write_session
from cronium_app.servers import service
from cronium_app.settings import Settings
from orchestrator_worker.ssh.connect import ConnectFailed, open_connection

CHECK_TIMEOUT_S = 10.0


def _target(settings: Settings, access: Access, server_id: int) -> dict[str, Any]:
    with read_session() as session:
        service.get_server(session, access, server_id)  # 404 for anyone else's
        found = service.resolve_targets(session, settings, access, {"serverIds": [server_id]})
    return found[0]


async def _probe(server: dict[str, Any]) -> tuple[bool, str, str | None]:
    if server.get("error"):
        return False, server["error"], None
    try:
        opened = await open_connection(server, timeout=CHECK_TIMEOUT_S)
    except ConnectFailed as exc:
        return False, str(exc), None
    try:
        result = await asyncio.wait_for(opened.conn.run("true", check=False), CHECK_TIMEOUT_S)
        if result.exit_status != 0:
            return False, f"logged in, but running a command failed (exit status {result.exit_status})", opened.new_host_key
        return True, "connected and ran a command", opened.new_host_key
    except (asyncio.TimeoutError, OSError) as exc:
        return False, f"logged in, but running a command failed: {exc or 'timed out'}", opened.new_host_key
    finally:
        opened.conn.close()


def _record(settings: Settings, access: Access, server_id: int, ok: bool, message: str, new_key: str | None) -> dict[str, Any]:
    with write_session() as session:
        if new_key:
            pinned = service.pin_host_key(session, server_id, access, new_key)
            if pinned != new_key:
                ok, message = False, "another connection pinned a different host key at the same moment; refused"
            elif ok:
                message += "; host key pinned"
        server = service.get_server(session, access, server_id)
        service.record_check(session, server, ok, message)
        return {"ok": ok, "message": message, "server": service.server_to_dict(server)}


async def test_connection(settings: Settings, access: Access, server_id: int) -> dict[str, Any]:
    access.require(Ability.edit, "test server connections")
    server = await run_in_threadpool(_target, settings, access, server_id)
    ok, message, new_key = await _probe(server)
    return await run_in_threadpool(_record, settings, access, server_id, ok, message, new_key)

"""Opening an interactive shell (a PTY) on a user's server, as the app.

The login is the servers feature's own (`orchestrator_worker/ssh/connect.py`):
the pinned host key is the only one accepted, and a server with none pinned
yet gets the key it shows pinned, as "Test connection" does."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import asyncssh
from starlette.concurrency import run_in_threadpool

from cronium_app.auth.access import Access
from cronium_app.db import write_session
from cronium_app.servers import service as servers
from orchestrator_worker.ssh.connect import ConnectFailed, open_connection

TERM_TYPE = "xterm-256color"
CONNECT_TIMEOUT_S = 10.0
MAX_COLS, MAX_ROWS = 500, 200
DEFAULT_COLS, DEFAULT_ROWS = 80, 24


class ShellFailed(Exception):
    """No shell could be opened; the message says why, for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TerminalSize:
    cols: int
    rows: int

    @classmethod
    def parse(cls, cols: Any, rows: Any) -> "TerminalSize | None":
        """A size within bounds, or None for anything else."""
        if type(cols) is not int or type(rows) is not int:
            return None
        if not (1 <= cols <= MAX_COLS and 1 <= rows <= MAX_ROWS):
            return None
        return cls(cols, rows)

    @classmethod
    def from_query(cls, cols: str | None, rows: str | None) -> "TerminalSize":
        """The first size the page asks for (query parameters); 80x24 when
        it names none or one out of bounds."""
        try:
            size = cls.parse(int(cols or ""), int(rows or ""))
        except ValueError:
            size = None
        return size or cls(DEFAULT_COLS, DEFAULT_ROWS)


@dataclass
class Shell:
    conn: asyncssh.SSHClientConnection
    process: asyncssh.SSHClientProcess

    def resize(self, size: TerminalSize) -> None:
        self.process.change_terminal_size(size.cols, size.rows)

    async def close(self) -> None:
        self.process.close()
        self.conn.close()
        try:
            await asyncio.wait_for(self.conn.wait_closed(), 5)
        except (asyncio.TimeoutError, OSError, asyncssh.Error):
            pass


def _pin_first_key(access: Access, server_id: int, key: str) -> bool:
    """Pin the key a server showed on its first connection; False when
    another connection pinned a different one at the same moment."""
    with write_session() as session:
        return servers.pin_host_key(session, server_id, access, key) == servers.normalize_host_key(key)


async def open_shell(login: dict[str, Any], access: Access, size: TerminalSize) -> Shell:
    """Log in and start the login shell on a PTY (TERM=xterm-256color), or
    ShellFailed."""
    try:
        opened = await open_connection(login, timeout=CONNECT_TIMEOUT_S)
    except ConnectFailed as exc:
        raise ShellFailed(str(exc)) from None
    try:
        if opened.new_host_key and not await run_in_threadpool(_pin_first_key, access, login["id"], opened.new_host_key):
            raise ShellFailed("another connection pinned a different host key at the same moment; refused")
        process = await asyncio.wait_for(
            opened.conn.create_process(term_type=TERM_TYPE, term_size=(size.cols, size.rows), encoding=None),
            CONNECT_TIMEOUT_S,
        )
    except (asyncssh.Error, OSError, asyncio.TimeoutError) as exc:
        opened.conn.close()
        detail = getattr(exc, "reason", "") or str(exc) or "no answer"
        raise ShellFailed(f"logged in to {login['name']}, but it gave no shell: {detail}") from None
    except BaseException:
        opened.conn.close()
        raise
    return Shell(opened.conn, process)

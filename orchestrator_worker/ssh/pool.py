"""SSH connections per server, reused across jobs.

One connection carries many runs at once (SSH channels), up to
`ssh_sessions_per_connection`; more runs open another connection. A
connection is checked before reuse (closed ones and ones whose host key no
longer matches the pin are dropped) and closed after `ssh_idle_close_s`
without use. Connects to one server are serialised, so a burst of jobs
opens one connection, not one each.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import AsyncIterator

import asyncssh

from orchestrator_worker.protocol import ServerLogin
from orchestrator_worker.settings import WorkerSettings
from orchestrator_worker.ssh.breaker import CircuitBreaker
from orchestrator_worker.ssh.connect import ConnectFailed, HostKeyChanged, open_connection

logger = logging.getLogger(__name__)

class StaleConnection(Exception):
    """A pooled connection turned out dead before a run could start on it
    (the server restarted, a network path dropped): worth one retry on a
    fresh connection, since nothing ran."""


# (server, first-seen host key) → the key the app pinned.
PinHostKey = Callable[[ServerLogin, str], Awaitable[str]]


def server_identity(server: ServerLogin) -> str:
    """Same server, same login: the connection may be shared."""
    parts = [str(server.get(k) or "") for k in ("id", "host", "port", "username", "privateKey", "passphrase", "password")]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


@dataclass
class _Pooled:
    conn: asyncssh.SSHClientConnection
    host_key: str | None
    in_use: int = 0
    last_used: float = field(default_factory=time.monotonic)


@dataclass
class _ServerSlot:
    connections: list[_Pooled] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    breaker: CircuitBreaker | None = None


class SshPool:
    def __init__(self, settings: WorkerSettings):
        self.settings = settings
        self._slots: dict[str, _ServerSlot] = {}
        self._janitor: asyncio.Task | None = None

    def _slot(self, server: ServerLogin) -> _ServerSlot:
        key = server_identity(server)
        slot = self._slots.get(key)
        if slot is None:
            breaker = CircuitBreaker(self.settings.ssh_breaker_threshold, self.settings.ssh_breaker_cooldown_s)
            slot = self._slots[key] = _ServerSlot(breaker=breaker)
        return slot

    @asynccontextmanager
    async def connection(self, server: ServerLogin, pin: PinHostKey) -> AsyncIterator[asyncssh.SSHClientConnection]:
        """A logged-in connection to `server` for one run; raises ConnectFailed."""
        self._start_janitor()
        pooled = await self._acquire(server, pin)
        try:
            yield pooled.conn
        except StaleConnection:
            pooled.conn.close()
            slot = self._slot(server)
            slot.connections = [p for p in slot.connections if p is not pooled]
            raise
        finally:
            pooled.in_use -= 1
            pooled.last_used = time.monotonic()

    async def _acquire(self, server: ServerLogin, pin: PinHostKey) -> _Pooled:
        slot = self._slot(server)
        async with slot.lock:
            slot.connections = [p for p in slot.connections if self._usable(p, server)]
            for pooled in slot.connections:
                if pooled.in_use < self.settings.ssh_sessions_per_connection:
                    pooled.in_use += 1
                    return pooled
            refusal = slot.breaker.refusal()
            if refusal:
                raise ConnectFailed(f"server {server['name']} ({server['host']}:{server['port']}) is unreachable: {refusal}")
            try:
                pooled = await self._open(server, pin)
            except ConnectFailed as exc:
                slot.breaker.failed(str(exc).split(": ", 1)[-1])
                raise
            slot.breaker.succeeded()
            pooled.in_use = 1
            slot.connections.append(pooled)
            return pooled

    async def _open(self, server: ServerLogin, pin: PinHostKey) -> _Pooled:
        opened = await open_connection(server, timeout=self.settings.ssh_connect_timeout_s)
        host_key = server.get("hostKey")
        if opened.new_host_key:
            pinned = await pin(server, opened.new_host_key)
            if pinned != opened.new_host_key:
                opened.conn.close()
                raise HostKeyChanged(
                    f"server {server['name']}: host key verification failed: it showed a key other than the one "
                    f"just pinned for it"
                )
            host_key = pinned
        logger.info("ssh: connected to %s (%s:%s)", server["name"], server["host"], server["port"])
        return _Pooled(opened.conn, host_key)

    def _usable(self, pooled: _Pooled, server: ServerLogin) -> bool:
        pinned = server.get("hostKey")
        if pooled.conn.is_closed() or (pinned and pooled.host_key and pinned != pooled.host_key):
            if pooled.in_use == 0:
                pooled.conn.close()
            return False
        return True

    def _start_janitor(self) -> None:
        if self._janitor is None or self._janitor.done():
            self._janitor = asyncio.create_task(self._close_idle_forever(), name="ssh-pool-janitor")

    async def _close_idle_forever(self) -> None:
        while True:
            await asyncio.sleep(min(self.settings.ssh_idle_close_s / 2, 10.0))
            self.close_idle(time.monotonic() - self.settings.ssh_idle_close_s)

    def close_idle(self, unused_since: float) -> int:
        closed = 0
        for slot in self._slots.values():
            keep = []
            for pooled in slot.connections:
                if pooled.in_use == 0 and (pooled.last_used <= unused_since or pooled.conn.is_closed()):
                    pooled.conn.close()
                    closed += 1
                else:
                    keep.append(pooled)
            slot.connections = keep
        return closed

    async def aclose(self) -> None:
        if self._janitor is not None:
            self._janitor.cancel()
        for slot in self._slots.values():
            for pooled in slot.connections:
                pooled.conn.close()
        self._slots.clear()

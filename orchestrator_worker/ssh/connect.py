"""Opening an SSH connection to a user's server, with host key pinning.

Shared by the app ("test connection") and the worker (running jobs), so
both apply the same rules:
- the pinned host key is the only key accepted; another key is refused with
  a clear error (a changed key may be an attacker in the middle);
- with no pinned key yet, the key the server shows is accepted and returned,
  for the caller to pin;
- nothing from the local account is used: no ~/.ssh/config, no default
  keys, no ssh-agent, no known_hosts file.

It lives in the worker package because the worker imports nothing from the
app; the app imports it from here.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from dataclasses import dataclass
from typing import Any

import asyncssh

from orchestrator_worker.protocol import ServerLogin

DEFAULT_CONNECT_TIMEOUT_S = 10.0
KEEPALIVE_S = 15.0


class ConnectFailed(Exception):
    """The server could not be reached or logged into; the message says why."""


class HostKeyChanged(ConnectFailed):
    pass


@dataclass
class Opened:
    conn: asyncssh.SSHClientConnection
    # The server's host key (OpenSSH form) when none was pinned: pin it.
    new_host_key: str | None


def openssh_line(key: asyncssh.SSHKey) -> str:
    """"type base64", without a comment: the form keys are pinned and compared in."""
    return " ".join(key.export_public_key("openssh").decode("ascii").split()[:2])


def _network_reason(exc: OSError, port: int) -> str:
    if isinstance(exc, socket.gaierror):
        return f"the host name does not resolve ({exc.strerror or exc})"
    if exc.errno == errno.ECONNREFUSED:
        return f"connection refused (is sshd listening on port {port}?)"
    if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "the host is unreachable"
    return os.strerror(exc.errno) if exc.errno else str(exc)


def _login_options(server: ServerLogin) -> dict[str, Any]:
    if server.get("privateKey"):
        key = asyncssh.import_private_key(server["privateKey"], server.get("passphrase") or None)
        return {"client_keys": [key], "password": None, "preferred_auth": ["publickey"]}
    return {"client_keys": None, "password": server.get("password") or "", "preferred_auth": ["password", "keyboard-interactive"]}


async def open_connection(server: ServerLogin, *, timeout: float = DEFAULT_CONNECT_TIMEOUT_S) -> Opened:
    """Connect and log in, or raise ConnectFailed with a message for the user."""
    label = f"{server['name']} ({server['username']}@{server['host']}:{server['port']})"
    pinned = server.get("hostKey")
    known_hosts: Any = ([asyncssh.import_public_key(pinned)], [], []) if pinned else None
    try:
        conn = await asyncio.wait_for(
            asyncssh.connect(
                server["host"], server["port"], username=server["username"], known_hosts=known_hosts,
                agent_path=None, config=None, connect_timeout=timeout, login_timeout=timeout,
                keepalive_interval=KEEPALIVE_S, **_login_options(server),
            ),
            timeout + 1,
        )
    except asyncssh.HostKeyNotVerifiable as exc:
        raise HostKeyChanged(
            f"server {label}: host key verification failed: the server's host key is not the pinned one "
            f"({exc.reason}); if the server was reinstalled on purpose, forget the pinned key and connect again"
        ) from None
    except asyncssh.PermissionDenied:
        raise ConnectFailed(f"server {label}: authentication failed (wrong username, key or password)") from None
    except (asyncio.TimeoutError, TimeoutError):
        raise ConnectFailed(f"server {label}: no answer within {timeout:g} s") from None
    except asyncssh.KeyImportError as exc:
        raise ConnectFailed(f"server {label}: the stored private key could not be read: {exc}") from None
    except OSError as exc:
        raise ConnectFailed(f"server {label}: cannot connect: {_network_reason(exc, server['port'])}") from None
    except asyncssh.Error as exc:
        raise ConnectFailed(f"server {label}: SSH error: {exc.reason}") from None
    new_key = None
    if not pinned:
        seen = conn.get_server_host_key()
        new_key = openssh_line(seen) if seen else None
    return Opened(conn, new_key)

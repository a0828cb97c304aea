"""Ports for the servers the tests start. Test sessions run at once on one
machine (CI runs two; people run theirs beside it), so no port is fixed: a
server gets a port that is free when it is picked. Another process may take
that port before the server binds it; servers that can tell (they exit, or
are found not to hold the port they answer on) pick another one."""

from __future__ import annotations

import os
import socket
from pathlib import Path

TCP_LISTEN = "0A"


class PortTaken(RuntimeError):
    """Another process took a server's port before the server could bind it."""


def free_port(address: str = "127.0.0.1") -> int:
    """A port nothing listens on at `address` right now (the kernel's pick)."""
    return free_port_on([address])


def free_port_on(addresses: list[str]) -> int:
    """A port that nothing listens on at any of `addresses` right now (the
    kernel's pick on the first one, checked on the others)."""
    for _ in range(50):
        held: list[socket.socket] = []
        try:
            first = socket.socket()
            held.append(first)
            first.bind((addresses[0], 0))
            port = first.getsockname()[1]
            for address in addresses[1:]:
                other = socket.socket()
                held.append(other)
                other.bind((address, port))
            return port
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    raise RuntimeError(f"no port is free on all of {addresses}")


def _listening_inodes(port: int) -> set[str]:
    """The socket inodes listening on TCP `port` (any address, IPv4 or IPv6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == TCP_LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    return inodes


def _session_of(pid: str) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command's name (which may hold spaces): state, ppid, pgrp, session.
    return int(stat.rsplit(")", 1)[1].split()[3])


def session_listens_on(session_id: int, port: int) -> bool | None:
    """Whether a process of session `session_id` holds a listening socket on
    `port`; None when that cannot be told (no /proc, or the listener's
    process is not ours to look into)."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or _session_of(pid) != session_id:
            continue
        try:
            descriptors = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            return None
        for fd in descriptors:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    return True
            except OSError:
                continue
    return False

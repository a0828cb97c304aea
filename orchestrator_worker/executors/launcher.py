"""How a warm container is handed its one job.

A warm container is created and started before any job exists (see
warm_pool.py). Its first process is a POSIX shell that sources a named pipe
in the container's own mounted directory (`. /run/cronium/start`): opening
the pipe blocks until the worker opens its other end, so the idle container
uses no CPU, polls nothing, and needs no `docker exec`. The worker then
writes a short shell text through the pipe: `export NAME='value'` for each
environment variable, then `exec` of the script's interpreter. The shell
becomes the interpreter (the init process forwards signals to it as to a
cold container's script).

The environment never appears in an argv or in the container's config, and
never touches a disk: it lives only in the pipe's kernel buffer until the
shell has read it. The pipe belongs to the job's user (0600) inside a
directory only that user (and root) may enter.
"""

from __future__ import annotations

import errno
import os
import re
import shlex
import time
from collections.abc import Mapping
from pathlib import Path

START_PIPE = "start"
# A name the shell can export: the app's rule for environment variable names.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# The shell's open() returns once the pipe has a writer; a container started
# a moment ago may not have reached it yet.
READY_WAIT_S = 2.0
_READY_POLL_S = 0.005


def entrypoint(mount_point: str) -> list[str]:
    """The warm container's first process (after the init process)."""
    return ["/bin/sh", "-c", f". {mount_point}/{START_PIPE}"]


def can_launch(env: Mapping[str, str]) -> bool:
    """Whether the launcher can pass this environment exactly (else the job
    runs in a cold container, with the environment in its config)."""
    for name, value in env.items():
        if not _NAME.match(name) or "\x00" in value:
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return True


def launch_text(argv: list[str], env: Mapping[str, str]) -> bytes:
    """What the shell reads: the environment, then the exec of `argv`."""
    lines = [f"export {name}={shlex.quote(value)}" for name, value in env.items()]
    lines.append("exec " + " ".join(shlex.quote(arg) for arg in argv))
    return ("\n".join(lines) + "\n").encode("utf-8")


def make_start_pipe(directory: Path, uid: int) -> None:
    path = directory / START_PIPE
    os.mkfifo(path, 0o600)
    os.chown(path, uid, uid)


def open_start_pipe(directory: Path, wait_s: float = READY_WAIT_S) -> int | None:
    """The pipe's writing end once the container's shell is waiting on it;
    None when no shell opens it in time (the container died or never got
    there). Blocking: call it from a thread."""
    path = directory / START_PIPE
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            # ENXIO: no reader yet. ENOENT: the directory is gone.
            if exc.errno != errno.ENXIO or time.monotonic() >= deadline:
                return None
            time.sleep(_READY_POLL_S)
            continue
        os.set_blocking(fd, True)  # a large environment fills the pipe: wait for the shell to read
        return fd


def hand_over(fd: int, text: bytes) -> None:
    """Write the launch text and close the pipe (the shell reads to its
    end). Blocking: call it from a thread."""
    try:
        view = memoryview(text)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)

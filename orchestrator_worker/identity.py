"""Which worker this process is: its id names it to the app and labels its
containers, and on start a worker removes the containers labelled with its
own id as leftovers of its previous life. So two live workers must never
share an id, and a restarted worker should get back the id of the one it
replaces.

An explicit CRONIUM_WORKER_ID is taken as given. Without one, the id is
`{host name}-{n}`, where n is the lowest slot whose lock file (in the run
directory's `worker-slots/`) this process can hold with an exclusive
`flock`. The lock is held for the life of the process; the kernel drops it
when the process dies however it dies, so a worker restarted after a crash
finds its old slot free again (it is the lowest free one unless another
worker started in between, which then inherits, and cleans up, what the dead
one left). Workers that share a Docker host share the run directory (the
default, /run/cronium-worker), which is what makes their slots distinct.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from typing import IO

SLOTS_DIR = "worker-slots"
# More workers than this on one host is a misconfiguration, not a scale.
MAX_SLOTS = 1000


class NoIdentity(RuntimeError):
    """No slot could be taken; the message says why and what to set."""


class WorkerIdentity:
    """The id, and the slot lock that keeps it ours while we run."""

    def __init__(self, worker_id: str, lock: IO[str] | None = None):
        self.worker_id = worker_id
        self._lock = lock

    @property
    def slot_file(self) -> str | None:
        return self._lock.name if self._lock is not None else None

    def release(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the descriptor drops the flock
            self._lock = None

    def __enter__(self) -> "WorkerIdentity":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def take(explicit_id: str, run_dir: str | Path, host_name: str | None = None) -> WorkerIdentity:
    """The explicit id if there is one, else the first free slot's id."""
    if explicit_id:
        return WorkerIdentity(explicit_id)
    host_name = host_name or socket.gethostname()
    slots = Path(run_dir) / SLOTS_DIR
    try:
        slots.mkdir(parents=True, exist_ok=True)
        for slot in range(MAX_SLOTS):
            lock = _try_lock(slots / f"{slot}.lock")
            if lock is not None:
                return WorkerIdentity(f"{host_name}-{slot}", lock)
    except OSError as exc:
        raise NoIdentity(
            f"cannot take a worker id in {slots}: {exc}; set CRONIUM_WORKER_RUN_DIR to a directory this worker "
            "may write, or give it a unique CRONIUM_WORKER_ID"
        ) from None
    raise NoIdentity(f"all {MAX_SLOTS} worker slots in {slots} are taken; give this worker a unique CRONIUM_WORKER_ID")


def _try_lock(path: Path) -> IO[str] | None:
    """The open, exclusively locked file, or None if another process holds it."""
    handle = open(path, "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    except OSError:
        handle.close()
        raise
    # For a person looking at the directory: which process holds the slot.
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle

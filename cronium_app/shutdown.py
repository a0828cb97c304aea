"""Whether this app process has been told to stop (SIGTERM/SIGINT).

From the first signal on, the server accepts no new connections, so no
heartbeat can renew a lease: the lease sweeper stops and long polls end at
once, while the open requests finish.

The handler only sets a module flag and hands the signal on: no lock, no
I/O, no logging. A handler that took a lock (`threading.Event.set()` does)
could be re-entered by a second signal while holding it and deadlock the
main thread.
"""

from __future__ import annotations

import os
import signal
import threading

_stopping = False


def stopping() -> bool:
    return _stopping


def note_shutdown_signals() -> None:
    """Notice SIGTERM/SIGINT the moment they arrive, then hand them on to the
    server's own handler (asyncio's loop handlers still run: they are woken
    through the wakeup fd, whatever Python-level handler is installed)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if previous is signal.SIG_IGN:
            continue

        def handler(signum, frame, previous=previous):
            global _stopping
            _stopping = True
            if callable(previous):
                previous(signum, frame)
            elif previous in (signal.SIG_DFL, None):
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)

        signal.signal(sig, handler)

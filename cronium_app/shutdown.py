"""Whether this app process has been told to stop (SIGTERM/SIGINT).

From the first signal on, the server accepts no new connections, so no
heartbeat can renew a lease: the lease sweeper stops and long polls end at
once, while the open requests finish.

The server (Granian) handles the signals in its event loop, where its
handler tells the server to stop. That handler may block its process for
good when it runs a second time (a second SIGTERM; or SIGINT then SIGTERM;
or the SIGTERM Granian's own supervisor sends its worker after the one the
whole process group got), so the app wraps it: the first signal is passed
on, every later one only noted. Where a server handles signals outside an
event loop, a plain handler notes them: it sets a module flag and returns
(no lock, no I/O; a lock taken in a signal handler deadlocks when a second
signal arrives while it is held).
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading

SIGNALS = (signal.SIGTERM, signal.SIGINT)

_stopping = False


def stopping() -> bool:
    return _stopping


def note_shutdown_signals() -> None:
    """Called once the server runs (a lifespan task, in its event loop)."""
    if threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    for sig in SIGNALS:
        # asyncio keeps the handlers it runs for signals here (no public accessor).
        handle = getattr(loop, "_signal_handlers", {}).get(sig)
        if handle is not None:
            loop.add_signal_handler(sig, _passed_on_once(handle._callback, handle._args))
        else:
            _note_in_signal_context(sig)


def _passed_on_once(callback, args: tuple):
    """The loop's handler, called for the first of any number of signals."""
    passed = False

    def handler() -> None:
        global _stopping
        nonlocal passed
        _stopping = True
        if not passed:
            passed = True
            callback(*args)

    return handler


def _note_in_signal_context(sig: signal.Signals) -> None:
    previous = signal.getsignal(sig)
    if previous is signal.SIG_IGN:
        return

    def handler(signum, frame, previous=previous):
        global _stopping
        _stopping = True
        if callable(previous):
            previous(signum, frame)
        elif previous in (signal.SIG_DFL, None):
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    signal.signal(sig, handler)

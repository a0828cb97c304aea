"""Wakes long-polling claimers when a job is created in this process.

Jobs created by another process (a second app instance, a script writing to
the database) are still found: claimers also re-check the table on a short
timer. This only removes the wait on the common path.
"""

from __future__ import annotations

import asyncio
import threading


class JobNotifier:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def notify(self) -> None:
        """Safe to call from any thread (services run in a threadpool)."""
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # loop closed
                pass

    async def wait(self, timeout: float) -> bool:
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiters.add(entry)
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            with self._lock:
                self._waiters.discard(entry)


notifier = JobNotifier()

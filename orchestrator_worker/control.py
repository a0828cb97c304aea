"""How the rest of the worker asks a running job to stop, and why."""

from __future__ import annotations

import asyncio


class StopReason:
    CANCELLED = "cancelled"  # the user asked (heartbeat reply)
    LOST = "lost"  # the app gave the job to another attempt
    SHUTDOWN = "shutdown"  # this worker is stopping (SIGTERM)
    LOG_CAP = "log_cap"  # the job printed more than its log cap
    TIMEOUT = "timeout"


class JobControl:
    def __init__(self) -> None:
        self.reason: str | None = None
        self.stop_requested = asyncio.Event()

    def request_stop(self, reason: str) -> None:
        """The first reason wins: a job cancelled and then timed out was cancelled."""
        if self.reason is None:
            self.reason = reason
        self.stop_requested.set()

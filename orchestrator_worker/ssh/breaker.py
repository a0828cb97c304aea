"""A circuit breaker per server: a dead server fails fast with the reason
instead of making every job wait out a connect timeout."""

from __future__ import annotations

import time


class CircuitBreaker:
    """Closed → (threshold failures in a row) → open for `cooldown_s` →
    half-open: one attempt goes through; success closes, failure reopens."""

    def __init__(self, threshold: int, cooldown_s: float, clock=time.monotonic):
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self.clock = clock
        self.failures = 0
        self.last_error = ""
        self.opened_at: float | None = None
        self._trial_running = False

    def refusal(self) -> str | None:
        """Why a connection attempt must not be made now, or None (go ahead)."""
        if self.opened_at is None:
            return None
        remaining = self.opened_at + self.cooldown_s - self.clock()
        if remaining > 0 or self._trial_running:
            wait = max(remaining, 0)
            return (
                f"{self.failures} connection attempts failed in a row; not trying again for {wait:.0f} s "
                f"(last error: {self.last_error})"
            )
        self._trial_running = True
        return None

    def succeeded(self) -> None:
        self.failures = 0
        self.opened_at = None
        self._trial_running = False

    def failed(self, error: str) -> None:
        self.failures += 1
        self.last_error = error
        self._trial_running = False
        if self.failures >= self.threshold:
            self.opened_at = self.clock()

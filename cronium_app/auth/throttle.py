"""Throttles for what costs the server (a password hash) or a user (a
guessed password): signing in, registering, creating API tokens.

A `Throttle` allows LIMIT tries per key (an address, an account, a user) in
a sliding WINDOW. The try past that is refused, and so is every try for the
wait that starts then: the window the first time, twice as long the next
time, and so on up to a maximum (exponential backoff). A key nobody tried
for the maximum wait and a window is forgotten, backoff and all; resetting a
key (a successful sign-in) forgets it at once.

The counts live in this process's memory, in caches bounded in size (the
least recently used keys go first when one is full): several app processes
each keep their own counts.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from cachetools import TTLCache

from cronium_app.errors import TooManyRequests
from cronium_app.settings import Settings


@dataclass
class _Tries:
    times: deque[float] = field(default_factory=deque)
    # How many waits this key has earned so far: the next one is window * 2**waits.
    waits: int = 0
    blocked_until: float = 0.0


class Throttle:
    def __init__(
        self,
        what: str,
        limit: int,
        window_s: float,
        *,
        max_wait_s: float,
        max_keys: int,
        clock: Callable[[], float] = time.monotonic,
    ):
        # `what` completes "Too many ...": the message says what was refused.
        self.what = what
        self.limit = limit
        self.window_s = window_s
        self.max_wait_s = max(max_wait_s, window_s)
        self._clock = clock
        # A key must outlive the longest wait it can be given.
        self._tries: TTLCache[str, _Tries] = TTLCache(
            maxsize=max_keys, ttl=self.max_wait_s + window_s, timer=clock
        )
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Count one try for `key`, or raise TooManyRequests (and count nothing)."""
        with self._lock:
            now = self._clock()
            tries = self._tries.get(key) or _Tries()
            if now < tries.blocked_until:
                raise self._refusal(tries.blocked_until - now)
            while tries.times and tries.times[0] <= now - self.window_s:
                tries.times.popleft()
            if len(tries.times) >= self.limit:
                wait = min(self.window_s * 2**tries.waits, self.max_wait_s)
                tries.waits += 1
                tries.blocked_until = now + wait
                tries.times.clear()
                self._tries[key] = tries
                raise self._refusal(wait)
            tries.times.append(now)
            # Stored again on every try: that restarts the key's time to live.
            self._tries[key] = tries

    def give_back(self, key: str) -> None:
        """Uncount the latest try of `key` (it turned out to be fine)."""
        with self._lock:
            tries = self._tries.get(key)
            if tries is not None and tries.times:
                tries.times.pop()

    def reset(self, key: str) -> None:
        """Forget `key`: its count and its backoff."""
        with self._lock:
            self._tries.pop(key, None)

    def _refusal(self, wait_s: float) -> TooManyRequests:
        seconds = max(1, math.ceil(wait_s))
        return TooManyRequests(f"too many {self.what}: try again in {_in_words(seconds)}", retry_after=seconds)


def _in_words(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"


@dataclass(frozen=True)
class AccountThrottles:
    """The throttles of the account routes, the API's and the web UI's alike."""

    sign_in_by_address: Throttle
    sign_in_by_account: Throttle
    register_by_address: Throttle
    token_create_by_user: Throttle


def account_throttles(settings: Settings) -> AccountThrottles:
    """This process's throttles for these settings (the same ones on every call)."""
    return _throttles(
        (settings.sign_in_ip_limit, settings.sign_in_account_limit, settings.sign_in_window_s),
        (settings.register_ip_limit, settings.register_window_s),
        (settings.token_create_limit, settings.token_create_window_s),
        settings.throttle_max_wait_s,
        settings.throttle_max_keys,
    )


@functools.lru_cache(maxsize=4)
def _throttles(
    sign_in: tuple[int, int, float],
    register: tuple[int, float],
    token_create: tuple[int, float],
    max_wait_s: float,
    max_keys: int,
) -> AccountThrottles:
    by_address, by_account, sign_in_window = sign_in
    bounds = {"max_wait_s": max_wait_s, "max_keys": max_keys}
    return AccountThrottles(
        sign_in_by_address=Throttle("failed sign-ins from this address", by_address, sign_in_window, **bounds),
        sign_in_by_account=Throttle("failed sign-ins for this account", by_account, sign_in_window, **bounds),
        register_by_address=Throttle("accounts created from this address", *register, **bounds),
        token_create_by_user=Throttle("API tokens created", *token_create, **bounds),
    )


class PasswordRefused(Exception):
    """Mixed into the errors that mean "wrong password": only those count
    against the sign-in throttles."""


@contextmanager
def sign_in_attempt(settings: Settings, address: str, account: str) -> Iterator[None]:
    """One password check for `account` from `address`: refused (429) when
    either has had too many failures; a PasswordRefused raised inside counts
    as one, success resets the account's count and backoff, and any other
    error counts as nothing.

    The try is counted before the password is checked, so that tries running
    at once cannot all slip under the limit."""
    throttles = account_throttles(settings)
    throttles.sign_in_by_address.take(address)
    try:
        throttles.sign_in_by_account.take(account)
    except TooManyRequests:
        throttles.sign_in_by_address.give_back(address)
        raise
    try:
        yield
    except PasswordRefused:
        raise
    except BaseException:
        throttles.sign_in_by_address.give_back(address)
        throttles.sign_in_by_account.give_back(account)
        raise
    throttles.sign_in_by_address.give_back(address)
    throttles.sign_in_by_account.reset(account)

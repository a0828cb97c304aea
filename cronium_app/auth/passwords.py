"""Password hashing with Argon2id (argon2-cffi's defaults: 64 MiB of memory
and 4 lanes per hash).

Hashes and checks pass through a gate that lets a few run at once
(CRONIUM_HASH_CONCURRENCY): fifty sign-ins at once would otherwise take
fifty times 64 MiB. A caller waits its turn for a bounded time
(CRONIUM_HASH_WAIT) and is then told that the server is busy (503).
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cronium_app.errors import Busy
from cronium_app.settings import get_settings

_hasher = PasswordHasher()

# Verified against when the email is unknown, so that a login for a missing
# account takes as long as one with a wrong password.
_DUMMY_HASH = _hasher.hash("cronium-dummy-password")


class HashGate:
    """At most `concurrency` hashes at once; a caller waits `wait_s` at most."""

    def __init__(self, concurrency: int, wait_s: float):
        self._slots = threading.BoundedSemaphore(concurrency)
        self.wait_s = wait_s

    @contextmanager
    def turn(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self.wait_s):
            seconds = max(1, math.ceil(self.wait_s))
            raise Busy(
                f"the server is checking too many passwords at once: try again in {seconds} seconds",
                retry_after=seconds,
            )
        try:
            yield
        finally:
            self._slots.release()


@functools.lru_cache(maxsize=1)
def hash_gate() -> HashGate:
    """This process's gate, sized by the settings."""
    settings = get_settings()
    return HashGate(settings.hash_concurrency, settings.hash_wait_s)


# The password hash of an account made through single sign-on: no password
# opens it (it is no Argon2 hash, so nothing verifies against it) until a
# reset link sets one.
NO_PASSWORD = "!no-password"


def has_password(password_hash: str | None) -> bool:
    return bool(password_hash) and password_hash != NO_PASSWORD


def hash_password(password: str) -> str:
    with hash_gate().turn():
        return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    # An account without a password is checked against the dummy hash, like
    # a missing one: the time taken does not tell how an account signs in.
    password_hash = password_hash if has_password(password_hash) else None
    with hash_gate().turn():
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

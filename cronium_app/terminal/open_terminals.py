"""How many terminals each user has open in this app process, bounded by
CRONIUM_TERMINAL_MAX_PER_USER. The count lives in the process (as the
sign-in throttles do): with several app processes, each one bounds its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class TooManyTerminals(Exception):
    pass


class OpenTerminals:
    def __init__(self) -> None:
        self._by_user: dict[int, int] = {}

    def count(self, user_id: int) -> int:
        return self._by_user.get(user_id, 0)

    @contextmanager
    def hold(self, user_id: int, limit: int) -> Iterator[None]:
        """A slot for one terminal of the user while the block runs, or
        TooManyTerminals. Used from the event loop only: nothing awaits
        between the check and the count."""
        if self.count(user_id) >= limit:
            raise TooManyTerminals(f"you have {limit} terminals open already: close one first")
        self._by_user[user_id] = self.count(user_id) + 1
        try:
            yield
        finally:
            left = self.count(user_id) - 1
            if left > 0:
                self._by_user[user_id] = left
            else:
                self._by_user.pop(user_id, None)


OPEN_TERMINALS = OpenTerminals()

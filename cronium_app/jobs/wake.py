"""Waking the workers: long-polling claimers in this process wait on the
notifier, and a transaction that queued work wakes them once it commits.

The job services call `wake_workers_after_commit(session)` wherever they
insert a pending job or put one back in the queue; a session hook fires the
notifier when (and only when) that transaction commits. A rolled-back
transaction wakes no one, and no caller has to remember a call after
commit.

Jobs created by another process (a second app instance, a script writing to
the database) are still found: claimers also re-check the table on a short
timer. Waking only removes the wait on the common path.
"""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import event
from sqlalchemy.orm import Session

_WAKE_KEY = "cronium.wake_workers"


class JobNotifier:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def notify(self) -> None:
        """Safe to call from any thread (services run in a threadpool)."""
        with self._lock:
            waiters = list(self._waiters)
        for loop, waiter in waiters:
            try:
                loop.call_soon_threadsafe(waiter.set)
            except RuntimeError:  # loop closed
                pass

    async def wait(self, timeout: float) -> bool:
        waiter = asyncio.Event()
        entry = (asyncio.get_running_loop(), waiter)
        with self._lock:
            self._waiters.add(entry)
        try:
            await asyncio.wait_for(waiter.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            with self._lock:
                self._waiters.discard(entry)


notifier = JobNotifier()


def wake_workers_after_commit(session: Session) -> None:
    """This transaction queues work: wake the claimers when it commits."""
    session.info[_WAKE_KEY] = True


# after_commit also fires for savepoints (SQLAlchemy 2), while the session
# is still inside its nested transaction: only the outermost commit counts.
# A savepoint rolled back inside a transaction that commits may leave a
# spurious wake-up, which costs a claimer one empty look.
@event.listens_for(Session, "after_commit")
def _wake_on_commit(session: Session) -> None:
    if not session.in_nested_transaction() and session.info.pop(_WAKE_KEY, False):
        notifier.notify()


@event.listens_for(Session, "after_transaction_end")
def _forget_when_the_transaction_ends(session: Session, transaction) -> None:
    """A rolled-back transaction wakes no one (after a commit the flag is
    already gone)."""
    if transaction.parent is None:
        session.info.pop(_WAKE_KEY, None)

"""Who is acting, from where: set once where a request or a UI event comes
in, read by the recorder, so that no service signature has to carry it.

A `Caller` lives in a context variable. The entry points replace it at the
start of each request or event (`begin`); what learns more later, such as
the API's token check, fills it in (`identify`). The holder object is
shared with the copies of the context that FastAPI's thread pool and
`asyncio.to_thread` run sync code in, so a name filled in by a dependency
running in a worker thread is seen by the route after it.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass

from cronium_app.audit.actions import ActorKind, Source

MAX_IP = 64


@dataclass
class Caller:
    source: str = Source.system.value
    kind: str = ActorKind.system.value
    user_id: int | None = None
    email: str | None = None
    token_id: int | None = None
    client_ip: str | None = None


_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("cronium_audit_caller", default=None)


def begin(source: Source, client_ip: str | None = None) -> Caller:
    """A request or event starts: nobody is known yet."""
    caller = Caller(source=source.value, client_ip=(client_ip or None) and client_ip[:MAX_IP])
    _caller.set(caller)
    return caller


def identify(kind: ActorKind, user_id: int | None, email: str | None = None, token_id: int | None = None) -> None:
    """The caller turned out to be this user (by this API token)."""
    caller = _caller.get()
    if caller is None:
        caller = begin(Source.system)
    caller.kind, caller.user_id, caller.email, caller.token_id = kind.value, user_id, email, token_id


def current() -> Caller:
    """The caller of this request or event; the app itself when none began."""
    return _caller.get() or Caller()


@contextlib.contextmanager
def acting(source: Source, kind: ActorKind = ActorKind.system, user_id: int | None = None) -> Iterator[Caller]:
    """For code that is its own entry point (the scheduler's round, a test):
    the caller for the block, and the previous one back afterwards."""
    caller = Caller(source=source.value, kind=kind.value, user_id=user_id)
    token = _caller.set(caller)
    try:
        yield caller
    finally:
        _caller.reset(token)

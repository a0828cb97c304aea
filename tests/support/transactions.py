"""Calling services as the app does: each call in a transaction of its own."""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy.engine import Engine

from cronium_app.db import write_session


def in_transaction(engine: Engine, service: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run `service(session, *args, **kwargs)` in a write transaction that
    commits when it returns (as a route's `with write_session()` does)."""
    with write_session(engine) as session:
        return service(session, *args, **kwargs)

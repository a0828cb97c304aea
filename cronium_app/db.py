"""Database engine and sessions.

SQLite runs in WAL mode with a busy timeout. pysqlite's own transaction
handling is switched off so that we emit BEGIN ourselves: writers use
`BEGIN IMMEDIATE`, which takes the write lock up front. A deferred
transaction that reads and then writes can fail with SQLITE_BUSY at once
(no busy wait) when another writer got in between; IMMEDIATE avoids that.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import StatementError
from sqlmodel import Session, create_engine

from cronium_app.errors import CroniumError
from cronium_app.nul_text import refuse_nul
from cronium_app.settings import get_settings

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - trivial
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Takes effect only in a database that has no table yet: lets the
        # history cleaner give freed pages back (jobs/retention.py).
        cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _refuse_nul_parameters(engine: Engine) -> None:
    # See nul_text: a 422 for every statement, on both databases alike.
    @event.listens_for(engine, "before_cursor_execute")
    def _check(_conn, _cursor, _statement, parameters, _context, _executemany):
        refuse_nul(parameters)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=20,
            max_overflow=20,
        )
        _install_sqlite_hooks(engine)
    else:
        engine = create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)
    _refuse_nul_parameters(engine)
    return engine


@functools.lru_cache(maxsize=4)
def _engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    return _engine_for(get_settings().database_url)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextlib.contextmanager
def _refusals_unwrapped() -> Iterator[None]:
    """A refusal raised while SQLAlchemy binds a parameter (e.g. a JSON
    document with a NUL) reaches callers as itself, not as a StatementError,
    so that the API and the UI answer it like any other refusal."""
    try:
        yield
    except StatementError as exc:
        if isinstance(exc.orig, CroniumError):
            raise exc.orig from None
        raise


@contextlib.contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    engine = engine or get_engine()
    with _refusals_unwrapped(), Session(engine, expire_on_commit=False) as session:
        yield session


@contextlib.contextmanager
def write_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    engine = engine or get_engine()
    bind = engine.execution_options(sqlite_begin="IMMEDIATE") if is_sqlite(engine) else engine
    with _refusals_unwrapped(), Session(bind, expire_on_commit=False) as session, session.begin():
        yield session

"""Alembic environment: the URL comes from Cronium's settings (DATABASE_URL),
or from `-x url=...` for tools and tests that point at another database."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from cronium_app import models
from cronium_app.db import make_engine
from cronium_app.migrations import migration_lock
from cronium_app.settings import get_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = models.metadata


def _url() -> str:
    return context.get_x_argument(as_dictionary=True).get("url") or config.attributes.get("url") or get_settings().database_url


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///") and ":memory:" not in url:
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = _url()
    _ensure_sqlite_dir(url)
    engine = make_engine(url)
    # Processes starting at once on one database (app replicas) migrate one
    # after the other; the later ones then find nothing left to do.
    with migration_lock(engine), engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(connection, False)
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                _check_sqlite_foreign_keys(connection)
        if sqlite:
            _sqlite_foreign_keys(connection, True)
    engine.dispose()


def _sqlite_foreign_keys(connection, enforced: bool) -> None:
    """Batch migrations rebuild a SQLite table by copying it and dropping the
    old one; with foreign keys enforced, that DROP would delete (ON DELETE
    CASCADE) every row referring to the table. SQLite only lets the pragma
    change outside a transaction, so it is set on the raw connection before
    the migration's transaction begins."""
    connection.connection.dbapi_connection.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")


def _check_sqlite_foreign_keys(connection) -> None:
    """What enforcement would have refused while it was off fails the migration."""
    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {problems[:10]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

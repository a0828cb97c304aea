"""Test databases: a fresh, migrated database per test session, on whatever
DATABASE_URL names (SQLite by default, PostgreSQL in the second CI pass)."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Iterator

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import make_url

from cronium_app.db import make_engine
from cronium_app.migrations import alembic_config


def base_url() -> str:
    """The database the suite was asked to run on."""
    return os.environ.get("DATABASE_URL") or "sqlite://"


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


@contextlib.contextmanager
def empty_database(prefix: str = "cronium_test") -> Iterator[str]:
    """A new, empty database on the configured server; removed afterwards."""
    url = base_url()
    if is_postgres(url):
        name = f"{prefix}_{secrets.token_hex(4)}"
        admin = sa.create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    else:
        with tempfile.TemporaryDirectory(prefix=f"{prefix}_") as tmp:
            yield f"sqlite:///{tmp}/cronium.db"


@contextlib.contextmanager
def migrated_database(prefix: str = "cronium_test") -> Iterator[str]:
    with empty_database(prefix) as url:
        migrate(url)
        yield url


def make_instance_admin(url: str, user_id: int) -> None:
    """Make the account an administrator of the instance, as
    CRONIUM_ADMIN_EMAIL does at start (the first account of a shared test
    database may be anyone's)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE users SET role = 'admin' WHERE id = :id"), {"id": user_id})
    finally:
        engine.dispose()

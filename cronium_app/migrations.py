"""The schema's version: upgrading a database to the newest migration, one
process at a time, and reading where a database stands (for /readyz).

Several app processes may start at once on one database (replicas of a
container, each migrating as it starts). Alembic itself does not stop two
of them from running the same migration together; `migration_lock` makes
the second wait until the first is done, and then it finds nothing to do.
alembic/env.py takes the lock, so `alembic upgrade head` (`make migrate`)
is covered as well as `upgrade_to_head`.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from cronium_app.settings import REPO_ROOT

# The PostgreSQL advisory lock migrations hold ("CRON" in ASCII).
ADVISORY_LOCK_KEY = 0x43524F4E
# Where Alembic keeps the migration a database is at.
VERSION_TABLE = "alembic_version"


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration for this repository; `url` overrides
    DATABASE_URL (alembic/env.py reads it from the attributes)."""
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "alembic"))
    config.attributes["configure_logger"] = False
    if url is not None:
        config.attributes["url"] = url
    return config


def upgrade_to_head(url: str | None = None) -> None:
    command.upgrade(alembic_config(url), "head")


@functools.lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration this code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The migration the database is at (None: never migrated). Read with
    plain SQL: the readiness probe asks often, and Alembic's own reader
    logs each time."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


@contextlib.contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Held while this process migrates; another process waits for it.

    PostgreSQL: a session advisory lock on a connection of its own, held
    until the migration is over (the migration's transaction may fail and
    roll back without releasing it). SQLite: an exclusive `flock` on a file
    beside the database, which works for every process on the machine,
    in containers too when they share the database's volume."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({ADVISORY_LOCK_KEY})")
            connection.commit()
            try:
                yield
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({ADVISORY_LOCK_KEY})")
                connection.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(f"{database}.migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

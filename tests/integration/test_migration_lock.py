"""App replicas starting together on one database migrate one at a time:
`alembic upgrade head` waits while another process holds the migration
lock (cronium_app/migrations.py, taken in alembic/env.py), then finds the
schema at head; several upgrades started at once all succeed."""

from __future__ import annotations

import subprocess
import sys
import time

import sqlalchemy as sa

from cronium_app import migrations
from cronium_app.db import make_engine
from tests.support.app_server import REPO_ROOT
from tests.support.databases import empty_database

UPGRADE = "import sys; from cronium_app.migrations import upgrade_to_head; upgrade_to_head(sys.argv[1])"


def upgrade_process(url: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", UPGRADE, url], cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True)


def revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return migrations.current_revision(connection)
    finally:
        engine.dispose()


def test_an_upgrade_waits_for_the_process_holding_the_lock():
    with empty_database("cronium_lock") as url:
        engine = make_engine(url)
        try:
            with migrations.migration_lock(engine):
                waiting = upgrade_process(url)
                time.sleep(3)  # long enough for an unhindered upgrade to get going
                tables_while_locked = set(sa.inspect(engine).get_table_names())
                still_waiting = waiting.poll() is None
            _, errors = waiting.communicate(timeout=60)
        finally:
            engine.dispose()
        assert (still_waiting, tables_while_locked) == (True, set())
        assert waiting.returncode == 0, errors
        assert revision(url) == migrations.head_revision()


def test_upgrades_started_together_all_succeed():
    with empty_database("cronium_race") as url:
        processes = [upgrade_process(url) for _ in range(3)]
        outcomes = [(process.communicate(timeout=120)[1], process.returncode) for process in processes]
        failures = [errors for errors, returncode in outcomes if returncode != 0]
        assert failures == []
        assert revision(url) == migrations.head_revision()

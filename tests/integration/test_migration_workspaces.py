"""Migration 0019 (workspaces) on a populated database: every row of every
user lands in that user's personal workspace, and a downgrade gives every
personal workspace's rows back to their user."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cronium_app.db import make_engine
from tests.support.databases import downgrade, empty_database, migrate

# The revision before workspaces.
BEFORE = "0018"
USERS = (1, 2)
# Tables with one row per user in the populated database.
PER_USER = ("events", "workflows", "workflow_runs", "jobs", "variables", "servers", "tools", "webhook_triggers",
            "api_tokens")
NOW = "'2026-01-01'"


def _populate_before_workspaces(conn) -> None:
    """Two users, each with an event, a workflow and its run, a job, a
    secret and a plain variable, a server, a tool, a webhook trigger and an
    API token: written with SQL as the schema before workspaces has them."""
    run = conn.exec_driver_sql
    for uid in USERS:
        run(f"INSERT INTO users (id, email, password_hash, role, created_at, session_version) "
            f"VALUES ({uid}, 'u{uid}@example.com', 'x', 'user', {NOW}, 0)")
        run("INSERT INTO events (id, user_id, name, description, type, script, status, timeout_seconds, retries, cpus, "
            "memory_mb, pids_limit, network, env_vars, tags, schedule_type, timezone, max_executions, execution_count, "
            "misfire_policy, overlap_policy, created_at, updated_at) VALUES "
            f"({uid}, {uid}, 'ev', '', 'bash', 'true', 'active', 60, 0, 1, 256, 128, 'none', '{{}}', '[]', 'manual', "
            f"'UTC', 0, 0, 'run_once', 'skip', {NOW}, {NOW})")
        run("INSERT INTO workflows (id, user_id, name, description, status, schedule_type, timezone, max_executions, "
            "execution_count, misfire_policy, overlap_policy, tags, created_at, updated_at) "
            f"VALUES ({uid}, {uid}, 'wf', '', 'active', 'manual', 'UTC', 0, 0, 'run_once', 'skip', '[]', {NOW}, {NOW})")
        run("INSERT INTO workflow_runs (id, workflow_id, user_id, status, created_at, updated_at) "
            f"VALUES ('run_{uid}', {uid}, {uid}, 'running', {NOW}, {NOW})")
        run("INSERT INTO jobs (id, event_id, type, status, execution, user_id, created_at, updated_at, priority, attempt, "
            f"retry_number) VALUES ('job_{uid}', {uid}, 'bash', 'completed', '{{}}', {uid}, {NOW}, {NOW}, 0, 1, 0)")
        run("INSERT INTO execution_logs (job_id, seq, stream, line, timestamp) "
            f"VALUES ('job_{uid}', 1, 'stdout', 'kept', {NOW})")
        run("INSERT INTO variables (user_id, key, value, secret, created_at, updated_at) "
            f"VALUES ({uid}, 'shared_name', '1', false, {NOW}, {NOW})")
        run("INSERT INTO servers (user_id, name, host, port, username, auth_type, credentials, tags, created_at, "
            f"updated_at) VALUES ({uid}, 'box', 'box.example.com', 22, 'me', 'password', 'sealed', '[]', {NOW}, {NOW})")
        run("INSERT INTO tools (user_id, name, kind, config, credentials, created_at, updated_at) "
            f"VALUES ({uid}, 'hook', 'webhook', '{{}}', 'sealed', {NOW}, {NOW})")
        run("INSERT INTO webhook_triggers (id, user_id, event_id, name, secret_hash, created_at) "
            f"VALUES ('hook_{uid}', {uid}, {uid}, 't', 'h{uid}', {NOW})")
        run("INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) "
            f"VALUES ({uid}, 'ci', 'hash{uid}', 'crn_x', {NOW})")


def _rows(url: str, sql: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(sql).all()]
    finally:
        engine.dispose()


def _counts(url: str) -> dict[str, int]:
    return {table: _rows(url, f"SELECT count(*) FROM {table}")[0][0] for table in (*PER_USER, "execution_logs")}


@pytest.fixture
def populated():
    with empty_database() as url:
        migrate(url, BEFORE)
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                _populate_before_workspaces(conn)
        finally:
            engine.dispose()
        yield url


def test_upgrade_gives_each_user_a_personal_workspace_they_own(populated):
    migrate(populated)
    assert _rows(populated, "SELECT m.user_id, w.slug, w.personal, m.role FROM workspace_members m "
                                 "JOIN workspaces w ON w.id = m.workspace_id ORDER BY m.user_id") == [
        (1, "personal-1", True, "owner"), (2, "personal-2", True, "owner")]


def test_upgrade_moves_every_row_into_its_owners_personal_workspace(populated):
    before = _counts(populated)
    migrate(populated)
    assert _counts(populated) == before
    for table in PER_USER:
        misplaced = _rows(populated, f"SELECT t.user_id, t.workspace_id FROM {table} t JOIN workspaces w "
                                          f"ON w.id = t.workspace_id WHERE w.slug <> 'personal-' || CAST(t.user_id AS VARCHAR(20))")
        assert (table, misplaced) == (table, [])


def test_upgrade_makes_existing_tokens_owner_tokens(populated):
    migrate(populated)
    assert _rows(populated, "SELECT DISTINCT role FROM api_tokens") == [("owner",)]


def test_upgrade_then_downgrade_keeps_every_row(populated):
    before = _counts(populated)
    migrate(populated)
    downgrade(populated, BEFORE)
    assert _counts(populated) == before
    assert "workspace_id" not in {c["name"] for c in _inspect_columns(populated, "events")}


def _inspect_columns(url: str, table: str) -> list[dict]:
    engine = make_engine(url)
    try:
        return sa.inspect(engine).get_columns(table)
    finally:
        engine.dispose()


def test_downgrade_keeps_team_rows_that_fit_and_drops_clashing_names(populated):
    """User 1 made, in a team workspace, a variable named like their own
    (cannot go back) and one with a new name (goes back to them)."""
    migrate(populated)
    engine = make_engine(populated)
    try:
        with engine.begin() as conn:
            run = conn.exec_driver_sql
            run(f"INSERT INTO workspaces (id, name, slug, personal, created_at) VALUES (99, 'Team', 'team', false, {NOW})")
            run(f"INSERT INTO workspace_members (workspace_id, user_id, role, created_at) VALUES (99, 1, 'owner', {NOW})")
            for key in ("shared_name", "team_only"):
                run("INSERT INTO variables (user_id, workspace_id, key, value, secret, created_at, updated_at) "
                    f"VALUES (1, 99, '{key}', '2', false, {NOW}, {NOW})")
    finally:
        engine.dispose()
    downgrade(populated, BEFORE)
    rows = _rows(populated, "SELECT key, value FROM variables WHERE user_id = 1 ORDER BY key")
    assert [(key, str(value)) for key, value in rows] == [("shared_name", "1"), ("team_only", "2")]


def test_the_job_tally_triggers_survive_the_upgrade_and_the_downgrade(populated):
    """SQLite rebuilds the jobs table; 0013's triggers must come back."""
    migrate(populated)
    _end_a_job(populated, "job_1")
    after_upgrade = _rows(populated, "SELECT coalesce(sum(count), 0) FROM job_tallies WHERE status = 'cancelled'")
    downgrade(populated, BEFORE)
    _end_a_job(populated, "job_2")
    after_downgrade = _rows(populated, "SELECT coalesce(sum(count), 0) FROM job_tallies WHERE status = 'cancelled'")
    assert (after_upgrade[0][0], after_downgrade[0][0]) == (1, 2)


def _end_a_job(url: str, job_id: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE jobs SET status = 'pending' WHERE id = '{job_id}'")
            conn.exec_driver_sql(f"UPDATE jobs SET status = 'cancelled' WHERE id = '{job_id}'")
    finally:
        engine.dispose()

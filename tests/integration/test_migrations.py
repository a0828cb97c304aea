"""The schema is built only by Alembic, and matches the models."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cronium_app import models
from cronium_app.db import make_engine
from cronium_app.models.schedule import ScheduleColumns
from tests.support.databases import (
    downgrade,
    empty_database,
    migrate,
    migrated_database,
)

TABLES = {
    "users", "api_tokens", "events", "jobs", "execution_logs", "variables",
    "workflows", "workflow_steps", "workflow_edges", "workflow_runs", "servers", "workers", "retention_passes",
    "tools", "event_actions", "job_actions", "webhook_triggers", "job_tallies",
    "audit_entries", "invitations", "password_resets", "workspaces", "workspace_members", "oidc_identities",
}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _diff(url: str, metadata: sa.MetaData = models.metadata) -> list:
    """What autogenerate would change to make the database match `metadata`:
    tables, columns, types, nullability, server defaults, indexes."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def _columns(url: str, table: str) -> dict[str, tuple[str, bool, str | None]]:
    """The table's columns as built by the migrations: name -> (type, nullable, server default)."""
    engine = make_engine(url)
    try:
        return {
            column["name"]: (str(column["type"]), column["nullable"], column["default"])
            for column in sa.inspect(engine).get_columns(table)
        }
    finally:
        engine.dispose()


def test_upgrade_creates_every_table():
    with empty_database() as url:
        migrate(url)
        assert _tables(url) == TABLES


def test_downgrade_to_base_removes_every_table():
    with empty_database() as url:
        migrate(url)
        downgrade(url, "base")
        assert _tables(url) == set()


def test_upgrade_of_a_fresh_database_matches_models():
    with migrated_database() as url:
        assert _diff(url) == []


def test_events_and_workflows_have_the_same_schedule_columns():
    """The migrations built them alike, which is what lets one mixin declare them."""
    with migrated_database() as url:
        events, workflows = _columns(url, "events"), _columns(url, "workflows")
    schedule = set(ScheduleColumns.model_fields)
    assert schedule <= events.keys() & workflows.keys()
    assert {name: events[name] for name in schedule} == {name: workflows[name] for name in schedule}


def test_the_comparison_sees_a_changed_schedule_column():
    changed = sa.MetaData()
    for table in models.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["workflows"].c.timezone.type = sa.String(65)
    with migrated_database() as url:
        diff = _diff(url, changed)
    assert [(op[0][0], op[0][2], op[0][3]) for op in diff] == [("modify_type", "workflows", "timezone")]


def test_upgrade_after_downgrade_matches_models():
    with empty_database() as url:
        migrate(url)
        downgrade(url, "base")
        migrate(url)
        assert _diff(url) == []


def test_jobs_table_has_the_named_indexes():
    with empty_database() as url:
        migrate(url)
        engine = make_engine(url)
        try:
            names = {index["name"] for index in sa.inspect(engine).get_indexes("jobs")}
        finally:
            engine.dispose()
        assert {"idx_jobs_status", "idx_jobs_user_id", "idx_jobs_created_at", "idx_jobs_queue"} <= names


# User 1, as every schema since the first can hold it.
OLD_USER = ("INSERT INTO users (id, email, password_hash, role, created_at) "
            "VALUES (1, 'm@example.com', 'x', 'user', '2026-01-01')")


def _populate_at_0005(url: str) -> None:
    """A user, an event, a workflow with a run and the run's job, and the
    job's log line, written with SQL as the 0005 schema has them."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            run = conn.exec_driver_sql
            run(OLD_USER)
            run("INSERT INTO workflows (id, user_id, name, description, status, schedule_type, timezone, max_executions, "
                "execution_count, misfire_policy, overlap_policy, tags, created_at, updated_at) "
                "VALUES (7, 1, 'wf', '', 'active', 'manual', 'UTC', 0, 0, 'run_once', 'skip', '[]', '2026-01-01', '2026-01-01')")
            run("INSERT INTO workflow_runs (id, workflow_id, user_id, status, created_at, updated_at) "
                "VALUES ('run_1', 7, 1, 'running', '2026-01-01', '2026-01-01')")
            run("INSERT INTO jobs (id, workflow_id, workflow_run_id, type, status, execution, user_id, created_at, "
                "updated_at, priority, attempt, retry_number) VALUES ('job_1', 7, 'run_1', 'bash', 'running', '{}', 1, "
                "'2026-01-01', '2026-01-01', 0, 1, 0)")
            run("INSERT INTO execution_logs (job_id, seq, stream, line, timestamp) "
                "VALUES ('job_1', 1, 'stdout', 'kept', '2026-01-01')")
    finally:
        engine.dispose()


def _scalar(url: str, sql: str):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql(sql).scalar()
    finally:
        engine.dispose()


def test_upgrading_a_populated_database_keeps_every_run_job_and_log_line():
    with empty_database() as url:
        migrate(url, "0005")
        _populate_at_0005(url)
        migrate(url)
        counts = [_scalar(url, f"SELECT count(*) FROM {table}") for table in ("workflow_runs", "jobs", "execution_logs")]
        assert counts == [1, 1, 1]
        assert _diff(url) == []


def test_after_0006_deleting_a_workflow_keeps_its_runs_and_their_jobs():
    with empty_database() as url:
        migrate(url, "0005")
        _populate_at_0005(url)
        migrate(url)
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM workflows WHERE id = 7")
        finally:
            engine.dispose()
        assert _scalar(url, "SELECT workflow_id FROM workflow_runs WHERE id = 'run_1'") is None
        assert _scalar(url, "SELECT count(*) FROM jobs WHERE workflow_run_id = 'run_1'") == 1


def test_downgrading_0006_keeps_the_runs_of_existing_workflows():
    with empty_database() as url:
        migrate(url, "0005")
        _populate_at_0005(url)
        migrate(url)
        downgrade(url, "0005")
        assert [_scalar(url, f"SELECT count(*) FROM {t}") for t in ("workflow_runs", "jobs")] == [1, 1]


def test_upgrading_to_0008_gives_existing_users_session_version_0():
    with empty_database() as url:
        migrate(url, "0007")
        _populate_at_0005(url)
        migrate(url)
        assert _scalar(url, "SELECT session_version FROM users WHERE id = 1") == 0
        assert _diff(url) == []


def test_downgrading_0008_keeps_the_users():
    with empty_database() as url:
        migrate(url, "0013")
        _populate_at_0005(url)
        downgrade(url, "0007")
        assert _scalar(url, "SELECT email FROM users WHERE id = 1") == "m@example.com"
        assert "session_version" not in _columns(url, "users")


def test_0011_gives_existing_events_no_limit_priority_0_and_the_default_retention():
    with empty_database() as url:
        migrate(url, "0008")
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                run = conn.exec_driver_sql
                run(OLD_USER)
                run("INSERT INTO events (user_id, name, description, type, script, status, timeout_seconds, retries, "
                    "cpus, memory_mb, pids_limit, network, env_vars, tags, schedule_type, timezone, max_executions, "
                    "execution_count, misfire_policy, overlap_policy, created_at, updated_at) VALUES "
                    "(1, 'old', '', 'bash', 'true', 'active', 60, 0, 1, 256, 128, 'none', '{}', '[]', 'manual', 'UTC', "
                    "0, 0, 'run_once', 'skip', '2026-01-01', '2026-01-01')")
            migrate(url)
            with engine.connect() as conn:
                row = conn.exec_driver_sql(
                    "SELECT max_concurrent, priority, retention_days, retention_runs FROM events").one()
            assert tuple(row) == (0, 0, None, None)
            downgrade(url, "0008")
            assert "max_concurrent" not in _columns(url, "events") and "retention_passes" not in _tables(url)
            assert _scalar(url, "SELECT name FROM events") == "old"
        finally:
            engine.dispose()


def _rows(url: str, sql: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(sql)]
    finally:
        engine.dispose()


def test_0014_moves_workers_slots_onto_their_rows_and_back():
    with empty_database() as url:
        migrate(url, "0013")
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                run = conn.exec_driver_sql
                run("INSERT INTO workers (id, concurrency, first_seen_at, last_seen_at) VALUES "
                    "('both', 8, '2026-01-01 00:00:00', '2026-01-01 00:00:05')")
                run("INSERT INTO worker_presence (worker_id, slots_total, slots_used, last_seen_at) VALUES "
                    "('both', 8, 3, '2026-01-01 00:00:09'), ('claimed-only', 4, 0, '2026-01-01 00:00:07')")
        finally:
            engine.dispose()
        migrate(url)
        assert "worker_presence" not in _tables(url) and _diff(url) == []
        assert _rows(url, "SELECT id, concurrency, slots_used, slots_total FROM workers ORDER BY id") == [
            ("both", 8, 3, 8), ("claimed-only", None, 0, 4)]
        downgrade(url, "0013")
        assert _rows(url, "SELECT worker_id, slots_used, slots_total FROM worker_presence ORDER BY worker_id") == [
            ("both", 3, 8), ("claimed-only", 0, 4)]
        assert "slots_total" not in _columns(url, "workers")


def test_0015_leaves_existing_tokens_with_full_access_and_a_downgrade_drops_scoped_ones():
    with empty_database() as url:
        migrate(url, "0014")
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(OLD_USER)
                conn.exec_driver_sql("INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) "
                                     "VALUES (1, 'old', 'h-old', 'crn_old', '2026-01-01')")
            migrate(url, "0015")
            assert _scalar(url, "SELECT scopes FROM api_tokens WHERE name = 'old'") is None
            assert _columns(url, "events")["source"][1] and _columns(url, "workflows")["source"][1]
            with engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, scopes) "
                                     "VALUES (1, 'assistant', 'h-mcp', 'crn_mcp', '2026-01-01', 'mcp')")
            downgrade(url, "0014")
            # A token limited to MCP must not come out of a downgrade with full access.
            assert _scalar(url, "SELECT count(*) FROM api_tokens") == 1
            assert "scopes" not in _columns(url, "api_tokens") and "source" not in _columns(url, "events")
        finally:
            engine.dispose()


def test_0017_keeps_every_user_enabled_and_its_downgrade_keeps_the_users():
    with empty_database() as url:
        migrate(url, "0016")
        _populate_at_0005(url)
        migrate(url)
        assert _scalar(url, "SELECT count(*) FROM users WHERE disabled_at IS NULL AND last_sign_in_at IS NULL") == 1
        assert _diff(url) == []
        downgrade(url, "0016")
        assert _scalar(url, "SELECT email FROM users WHERE id = 1") == "m@example.com"
        assert "disabled_at" not in _columns(url, "users")
        assert not {"invitations", "password_resets"} & _tables(url)


def test_upgrading_to_0018_gives_existing_users_the_system_theme():
    with empty_database() as url:
        migrate(url, "0017")
        _populate_at_0005(url)
        migrate(url, "0018")
        assert _scalar(url, "SELECT theme FROM users WHERE id = 1") == "system"


def test_downgrading_0018_keeps_the_users():
    with empty_database() as url:
        migrate(url, "0018")
        _populate_at_0005(url)
        downgrade(url, "0017")
        assert _scalar(url, "SELECT email FROM users WHERE id = 1") == "m@example.com"
        assert "theme" not in _columns(url, "users")


def _execute(url: str, sql: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(sql))
    finally:
        engine.dispose()


def test_0020_adds_single_sign_on_identities_unique_per_issuer_and_subject_and_its_downgrade_keeps_the_users():
    with empty_database() as url:
        migrate(url, "0018")
        _populate_at_0005(url)
        migrate(url, "0020")
        assert _diff(url) == []
        insert = ("INSERT INTO oidc_identities (user_id, issuer, subject, created_at) "
                  "VALUES (1, 'https://id.example.com', 'person-1', CURRENT_TIMESTAMP)")
        _execute(url, insert)
        with pytest.raises(sa.exc.IntegrityError):
            _execute(url, insert)
        downgrade(url, "0019")
        assert "oidc_identities" not in _tables(url)
        assert _scalar(url, "SELECT email FROM users WHERE id = 1") == "m@example.com"
        migrate(url)
        assert _scalar(url, "SELECT count(*) FROM oidc_identities") == 0

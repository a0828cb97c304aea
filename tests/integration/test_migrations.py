"""The schema is built only by Alembic, and matches the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cronium_app import models
from cronium_app.db import make_engine
from tests.support.databases import downgrade, empty_database, migrate

TABLES = {
    "users", "api_tokens", "events", "jobs", "execution_logs", "variables",
    "workflows", "workflow_steps", "workflow_edges", "workflow_runs", "servers",
}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _diff(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, models.metadata)
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

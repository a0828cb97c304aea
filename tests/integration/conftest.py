"""Fixtures for tests that use the services directly on a real database."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from cronium_app.auth.personal_workspace import personal_access
from cronium_app.auth.users import register_user
from cronium_app.db import make_engine, write_session
from cronium_app.events.schemas import EventCreate
from cronium_app.events.service import create_event
from cronium_app.jobs.create import insert_job
from cronium_app.models import Event
from cronium_app.settings import Settings
from tests.support.databases import migrated_database

_emails = itertools.count()


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with migrated_database("cronium_svc_test") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def settings() -> Settings:
    return Settings(DATABASE_URL="sqlite://", CRONIUM_LEASE_SECONDS=30, CRONIUM_MAX_ATTEMPTS=3)


@pytest.fixture
def make_user_id(engine: Engine, settings: Settings):
    def factory() -> int:
        with write_session(engine) as session:
            user = register_user(session, settings, f"svc-{next(_emails)}-{id(engine)}@example.com", "password123")
            session.flush()
            return user.id

    return factory


@pytest.fixture
def make_event(engine: Engine, settings: Settings, make_user_id):
    def factory(user_id: int | None = None, **fields) -> Event:
        user_id = user_id or make_user_id()
        data = EventCreate(**{"name": "svc event", "type": "bash", "script": "echo hi", **fields})
        with write_session(engine) as session:
            return create_event(session, settings, personal_access(session, user_id), data)

    return factory


@pytest.fixture
def make_jobs(engine: Engine, make_event):
    def factory(count: int, event: Event | None = None) -> list[str]:
        event = event or make_event()
        ids = []
        with write_session(engine) as session:
            for _ in range(count):
                job, _created = insert_job(session, user_id=event.user_id, workspace_id=event.workspace_id, event=event)
                ids.append(job.id)
        return ids

    return factory

"""Shared fixtures. DB-dependent tests run on the database DATABASE_URL
names (SQLite when unset); CI runs the suite once on each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.app_server import AppServer
from tests.support.clients import UserClient, WorkerClient, register_user
from tests.support.databases import migrated_database


@pytest.fixture(scope="session")
def app_db_url() -> Iterator[str]:
    with migrated_database("cronium_app_test") as url:
        yield url


@pytest.fixture(scope="session")
def app_server(app_db_url: str) -> Iterator[AppServer]:
    """The real app over HTTP, shared by the API tests of a session."""
    with AppServer(database_url=app_db_url) as server:
        yield server


@pytest.fixture
def make_user(app_server: AppServer):
    clients: list[UserClient] = []

    def factory(**kwargs) -> UserClient:
        client = register_user(app_server.url, **kwargs)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.http.close()


@pytest.fixture
def user(make_user) -> UserClient:
    return make_user()


@pytest.fixture
def worker(app_server: AppServer) -> Iterator[WorkerClient]:
    client = WorkerClient(app_server.url)
    yield client
    client.http.close()

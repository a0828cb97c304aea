"""Shared fixtures. DB-dependent tests run on the database DATABASE_URL
names (SQLite when unset); CI runs the suite once on each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import worker_process
from tests.support.app_server import AppServer
from tests.support.clients import UserClient, WorkerClient, register_user
from tests.support.databases import migrated_database
from tests.support.egress import can_manage_firewall, egress_env, free_subnet, leftovers, network_name, remove_policy


@pytest.fixture(scope="session", autouse=True)
def session_job_network() -> Iterator[None]:
    """The workers of this session run egress jobs on a job network and
    firewall chains of the session's own (so that sessions running at once
    do not share them), removed at the end."""
    env = egress_env(network_name("crs"), free_subnet())
    worker_process.SESSION_ENV.update(env)
    yield
    worker_process.SESSION_ENV.clear()
    if can_manage_firewall() and leftovers(env["CRONIUM_EGRESS_NETWORK"]):
        result = remove_policy(env)
        assert result.returncode == 0, result.stdout + result.stderr


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

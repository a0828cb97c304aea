"""Worker tests: each module gets its own app (and database), so that its
workers never compete with other modules' claimers for the queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.app_server import AppServer
from tests.support.clients import UserClient, register_user
from tests.support.databases import migrated_database
from tests.support.worker_process import WorkerProcess


@pytest.fixture(scope="module")
def worker_app() -> Iterator[AppServer]:
    with migrated_database("cronium_worker_test") as url:
        with AppServer(database_url=url) as server:
            yield server


@pytest.fixture(scope="module")
def worker_user(worker_app) -> UserClient:
    return register_user(worker_app.url)


@pytest.fixture(scope="module")
def running_worker(worker_app) -> Iterator[WorkerProcess]:
    """One worker with default settings, for modules that need just that."""
    with WorkerProcess(worker_app.url, concurrency=8) as worker:
        yield worker

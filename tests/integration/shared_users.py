"""Fixtures shared by the API test modules that run on the session's one app.

Registering costs an Argon2 hash, so a module shares one account (`user`)
and tells its rows apart by unique names; tests that need an empty account
call `make_user()`. Whatever jobs a test leaves open are cancelled, so the
shared queue holds no stray pending jobs for the next module's claimers.

Import the fixtures into a test module: `from tests.integration.shared_users
import make_user, user  # noqa: F401`. `no_open_jobs_left` (autouse once
imported) cancels what each test left open; `owner` is a second account of
the module's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cronium_app.jobs.status import HELD, PENDING
from tests.support.clients import UserClient, register_user

OPEN_STATUSES = (PENDING, *HELD)


def cancel_open_jobs(client: UserClient) -> None:
    response = client.http.get("/api/v1/jobs", params={"status": list(OPEN_STATUSES), "limit": 200})
    if response.status_code != 200:
        return
    for job in response.json()["items"]:
        client.http.post(f"/api/v1/jobs/{job['id']}/cancel")


@pytest.fixture
def make_user(make_user):
    made: list[UserClient] = []

    def factory(**kwargs: Any) -> UserClient:
        client = make_user(**kwargs)
        made.append(client)
        return client

    yield factory
    for client in made:
        cancel_open_jobs(client)


@pytest.fixture(scope="module")
def user(app_server) -> Iterator[UserClient]:
    client = register_user(app_server.url)
    yield client
    cancel_open_jobs(client)
    client.http.close()


@pytest.fixture(autouse=True)
def no_open_jobs_left(request):
    yield
    if "user" in request.fixturenames:
        cancel_open_jobs(request.getfixturevalue("user"))


@pytest.fixture(scope="module")
def owner(app_server) -> Iterator[UserClient]:
    client = register_user(app_server.url)
    yield client
    client.http.close()

"""Per-user quotas, against an app whose limits are tiny: the row over the
limit is refused in words (422), a full queue with a 429, and one user's
quota never limits another."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.app_server import AppServer
from tests.support.clients import UserClient, register_user
from tests.support.databases import migrated_database

LIMITS = {
    "CRONIUM_MAX_EVENTS_PER_USER": "2",
    "CRONIUM_MAX_VARIABLES_PER_USER": "2",
    "CRONIUM_MAX_SERVERS_PER_USER": "1",
    "CRONIUM_MAX_WAITING_JOBS_PER_USER": "2",
}


@pytest.fixture(scope="module")
def small_app() -> Iterator[AppServer]:
    with migrated_database("cronium_quota_test") as url:
        with AppServer(database_url=url, env_overrides=LIMITS) as server:
            yield server


@pytest.fixture
def user(small_app) -> UserClient:
    return register_user(small_app.url)


def _event(user: UserClient, name: str):
    return user.http.post("/api/v1/events", json={"name": name, "type": "bash", "script": "true"})


def test_the_event_over_the_limit_is_refused_in_words(user):
    assert [_event(user, f"e{i}").status_code for i in range(2)] == [201, 201]
    refused = _event(user, "one too many")
    assert refused.status_code == 422
    assert "CRONIUM_MAX_EVENTS_PER_USER=2" in refused.json()["error"]["message"]


def test_a_deleted_event_makes_room(user):
    first, _ = (_event(user, f"e{i}").json() for i in range(2))
    assert user.http.delete(f"/api/v1/events/{first['id']}").status_code == 204
    assert _event(user, "fits again").status_code == 201


def test_one_users_quota_does_not_limit_another(small_app, user):
    for i in range(2):
        _event(user, f"e{i}")
    assert _event(register_user(small_app.url), "someone else's").status_code == 201


def test_the_variable_over_the_limit_is_refused_but_replacing_one_is_not(user):
    assert [user.http.put(f"/api/v1/variables/v{i}", json={"value": i}).status_code for i in range(2)] == [201, 201]
    assert user.http.put("/api/v1/variables/v2", json={"value": 2}).status_code == 422
    assert user.http.put("/api/v1/variables/v1", json={"value": "replaced"}).status_code == 200


def test_the_server_over_the_limit_is_refused(user):
    body = {"host": "127.0.0.1", "username": "u", "authType": "password", "password": "p"}
    assert user.http.post("/api/v1/servers", json={"name": "one", **body}).status_code == 201
    refused = user.http.post("/api/v1/servers", json={"name": "two", **body})
    assert refused.status_code == 422 and "CRONIUM_MAX_SERVERS_PER_USER" in refused.json()["error"]["message"]


def test_a_full_queue_refuses_the_next_run_with_429_until_one_is_cancelled(user):
    event = _event(user, "queued").json()
    runs = [user.http.post(f"/api/v1/events/{event['id']}/execute") for _ in range(3)]
    assert [run.status_code for run in runs] == [202, 202, 429]
    assert "CRONIUM_MAX_WAITING_JOBS_PER_USER=2" in runs[2].json()["error"]["message"]
    assert user.http.post(f"/api/v1/jobs/{runs[0].json()['jobId']}/cancel").status_code == 200
    assert user.http.post(f"/api/v1/events/{event['id']}/execute").status_code == 202


def test_a_replayed_run_is_answered_even_with_a_full_queue(user):
    event = _event(user, "replayed").json()
    headers = {"Idempotency-Key": "same-request"}
    first = user.http.post(f"/api/v1/events/{event['id']}/execute", headers=headers)
    user.http.post(f"/api/v1/events/{event['id']}/execute")
    replay = user.http.post(f"/api/v1/events/{event['id']}/execute", headers=headers)
    assert (replay.status_code, replay.json()["jobId"]) == (200, first.json()["jobId"])

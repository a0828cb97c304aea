"""Every query is scoped to its owner: over real HTTP, user A (alice) gets 404
for user B's (bob's) event, job, logs, variable and token, changes nothing of
bob's, and never sees bob's rows in a list."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.shared_users import cancel_open_jobs
from tests.support.clients import UserClient, register_user


@pytest.fixture(scope="module")
def alice(app_server) -> Iterator[UserClient]:
    client = register_user(app_server.url)
    yield client
    cancel_open_jobs(client)
    client.http.close()


@pytest.fixture(scope="module")
def bob(app_server) -> Iterator[UserClient]:
    client = register_user(app_server.url)
    yield client
    cancel_open_jobs(client)
    client.http.close()


@pytest.fixture(scope="module")
def bob_event(bob) -> dict[str, Any]:
    return bob.create_event(name=f"bob private {secrets.token_hex(4)}", script="echo bob", description="bob's")


@pytest.fixture(scope="module")
def bob_job(bob, bob_event) -> str:
    return bob.execute(bob_event["id"], input={"owner": "bob"})


@pytest.fixture(scope="module")
def bob_variable(bob) -> str:
    key = f"bob-secret-{secrets.token_hex(3)}"
    response = bob.http.put(f"/api/v1/variables/{key}", json={"value": "bob's value"})
    assert response.status_code == 201, response.text
    return key


@pytest.fixture(scope="module")
def bob_token(bob) -> dict[str, Any]:
    response = bob.http.post("/api/v1/tokens", json={"name": "bob's cli"})
    assert response.status_code == 201, response.text
    return response.json()


def assert_not_found(response) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"


# -- events ----------------------------------------------------------------------


def test_other_users_event_is_404_on_get(alice, bob_event):
    assert_not_found(alice.http.get(f"/api/v1/events/{bob_event['id']}"))


def test_other_users_event_is_404_on_patch(alice, bob_event):
    assert_not_found(alice.http.patch(f"/api/v1/events/{bob_event['id']}", json={"name": "pwned"}))


def test_patch_of_other_users_event_changes_nothing(alice, bob, bob_event):
    alice.http.patch(f"/api/v1/events/{bob_event['id']}", json={"name": "pwned", "script": "rm -rf /"})
    assert bob.http.get(f"/api/v1/events/{bob_event['id']}").json() == bob_event


def test_other_users_event_is_404_on_delete(alice, bob_event):
    assert_not_found(alice.http.delete(f"/api/v1/events/{bob_event['id']}"))


def test_delete_of_other_users_event_keeps_it(alice, bob, bob_event):
    alice.http.delete(f"/api/v1/events/{bob_event['id']}")
    assert bob.http.get(f"/api/v1/events/{bob_event['id']}").status_code == 200


def test_other_users_event_is_404_on_execute(alice, bob_event):
    assert_not_found(alice.http.post(f"/api/v1/events/{bob_event['id']}/execute", json={"input": 1}))


def test_execute_of_other_users_event_queues_nothing(alice, bob, bob_event):
    before = bob.http.get("/api/v1/jobs", params={"eventId": bob_event["id"]}).json()["total"]
    alice.http.post(f"/api/v1/events/{bob_event['id']}/execute")
    after = bob.http.get("/api/v1/jobs", params={"eventId": bob_event["id"]}).json()["total"]
    assert after == before
    assert alice.http.get("/api/v1/jobs", params={"eventId": bob_event["id"]}).json()["total"] == 0


def test_execute_of_other_users_event_with_their_idempotency_key_is_404(alice, bob, bob_event):
    key = secrets.token_hex(6)
    response = bob.http.post(f"/api/v1/events/{bob_event['id']}/execute", headers={"Idempotency-Key": key})
    assert response.status_code == 202
    assert_not_found(alice.http.post(f"/api/v1/events/{bob_event['id']}/execute", headers={"Idempotency-Key": key}))


def test_event_list_never_shows_other_users_events(alice, bob_event):
    alice.create_event(name="alice's own")
    body = alice.http.get("/api/v1/events", params={"limit": 200}).json()
    assert bob_event["id"] not in {e["id"] for e in body["items"]}
    assert all(e["name"] != bob_event["name"] for e in body["items"])


def test_event_list_filtered_by_other_users_name_is_empty(alice, bob_event):
    body = alice.http.get("/api/v1/events", params={"q": bob_event["name"]}).json()
    assert (body["items"], body["total"]) == ([], 0)


# -- jobs ------------------------------------------------------------------------


def test_other_users_job_is_404_on_get(alice, bob_job):
    assert_not_found(alice.http.get(f"/api/v1/jobs/{bob_job}"))


def test_other_users_job_is_404_on_logs(alice, bob_job):
    assert_not_found(alice.http.get(f"/api/v1/jobs/{bob_job}/logs"))


def test_other_users_job_is_404_on_cancel(alice, bob_job):
    assert_not_found(alice.http.post(f"/api/v1/jobs/{bob_job}/cancel"))


def test_cancel_of_other_users_job_leaves_it_pending(alice, bob, bob_job):
    alice.http.post(f"/api/v1/jobs/{bob_job}/cancel")
    assert bob.job(bob_job)["status"] == "pending"


def test_job_list_never_shows_other_users_jobs(alice, bob_job):
    alice.execute(alice.create_event()["id"])
    body = alice.http.get("/api/v1/jobs", params={"limit": 200}).json()
    assert bob_job not in {j["id"] for j in body["items"]}
    assert body["items"], "alice should see her own job"


def test_job_list_filtered_by_other_users_event_is_empty(alice, bob_event, bob_job):
    body = alice.http.get("/api/v1/jobs", params={"eventId": bob_event["id"]}).json()
    assert (body["items"], body["total"]) == ([], 0)


def test_job_list_searched_by_other_users_job_id_is_empty(alice, bob_job):
    body = alice.http.get("/api/v1/jobs", params={"q": bob_job}).json()
    assert (body["items"], body["total"]) == ([], 0)


def test_job_list_searched_by_other_users_event_name_is_empty(alice, bob_event, bob_job):
    body = alice.http.get("/api/v1/jobs", params={"q": bob_event["name"]}).json()
    assert (body["items"], body["total"]) == ([], 0)


def test_job_stats_never_count_other_users_jobs(alice, bob, bob_event):
    before = alice.http.get("/api/v1/jobs/stats").json()
    bob.execute(bob_event["id"])
    after = alice.http.get("/api/v1/jobs/stats").json()
    assert after["pending"] == before["pending"]


# -- variables -------------------------------------------------------------------


def test_other_users_variable_is_404_on_get(alice, bob_variable):
    assert_not_found(alice.http.get(f"/api/v1/variables/{bob_variable}"))


def test_other_users_variable_is_404_on_delete(alice, bob_variable):
    assert_not_found(alice.http.delete(f"/api/v1/variables/{bob_variable}"))


def test_delete_of_other_users_variable_keeps_it(alice, bob, bob_variable):
    alice.http.delete(f"/api/v1/variables/{bob_variable}")
    assert bob.http.get(f"/api/v1/variables/{bob_variable}").json()["value"] == "bob's value"


def test_put_on_other_users_key_creates_an_own_variable(alice, bob_variable):
    response = alice.http.put(f"/api/v1/variables/{bob_variable}", json={"value": "alice's value"})
    assert response.status_code == 201, response.text
    assert alice.http.get(f"/api/v1/variables/{bob_variable}").json()["value"] == "alice's value"
    alice.http.delete(f"/api/v1/variables/{bob_variable}")


def test_put_on_other_users_key_does_not_overwrite_theirs(alice, bob, bob_variable):
    alice.http.put(f"/api/v1/variables/{bob_variable}", json={"value": "overwritten?"})
    assert bob.http.get(f"/api/v1/variables/{bob_variable}").json()["value"] == "bob's value"
    alice.http.delete(f"/api/v1/variables/{bob_variable}")


def test_deleting_own_variable_keeps_other_users_variable_with_the_same_key(alice, bob, bob_variable):
    alice.http.put(f"/api/v1/variables/{bob_variable}", json={"value": 1})
    assert alice.http.delete(f"/api/v1/variables/{bob_variable}").status_code == 204
    assert bob.http.get(f"/api/v1/variables/{bob_variable}").status_code == 200


def test_variable_list_never_shows_other_users_variables(alice, bob_variable):
    alice.http.put("/api/v1/variables/alice-own", json={"value": True})
    keys = {v["key"] for v in alice.http.get("/api/v1/variables", params={"limit": 200}).json()["items"]}
    assert "alice-own" in keys
    assert bob_variable not in keys


# -- tokens ----------------------------------------------------------------------


def test_other_users_token_is_404_on_delete(alice, bob_token):
    assert_not_found(alice.http.delete(f"/api/v1/tokens/{bob_token['id']}"))


def test_delete_of_other_users_token_keeps_it_working(alice, app_server, bob_token):
    alice.http.delete(f"/api/v1/tokens/{bob_token['id']}")
    response = httpx.get(f"{app_server.url}/api/v1/events", headers={"Authorization": f"Bearer {bob_token['token']}"})
    assert response.status_code == 200


def test_token_list_never_shows_other_users_tokens(alice, bob_token):
    body = alice.http.get("/api/v1/tokens").json()
    assert bob_token["id"] not in {t["id"] for t in body["items"]}
    assert bob_token["prefix"] not in {t["prefix"] for t in body["items"]}

"""Webhook triggers over HTTP: a call with the secret URL queues a job (or
starts a workflow run) with the body as its input; a wrong secret, a wrong
or missing signature, an oversized body and a flood are refused with their
status code and queue nothing; an Idempotency-Key sent twice gives one job;
rotating and revoking end the old URL."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.worker.jobkit import app_with
from tests.support.clients import UserClient, register_user

BODY_MAX = 2000
RATE_LIMIT = 5
SIGNING_SECRET = "hook-signing-secret-321"


@pytest.fixture(scope="module")
def hooks_app():
    env = {"CRONIUM_HOOK_BODY_MAX_BYTES": str(BODY_MAX), "CRONIUM_HOOK_RATE_LIMIT": str(RATE_LIMIT),
           "CRONIUM_HOOK_RATE_WINDOW": "600"}
    with app_with("cronium_hooks_test", env) as server:
        yield server


@pytest.fixture(scope="module")
def owner(hooks_app) -> Iterator[UserClient]:
    user = register_user(hooks_app.url)
    yield user
    user.http.close()


def make_trigger(user: UserClient, **body) -> dict:
    if "eventId" not in body and "workflowId" not in body:
        body["eventId"] = user.create_event(name="hooked", script="cat")["id"]
    response = user.http.post("/api/v1/triggers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def event_jobs(user: UserClient, event_id: int) -> list[dict]:
    response = user.http.get("/api/v1/jobs", params={"eventId": event_id, "limit": 100})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def call(trigger: dict, url: str | None = None, **kwargs) -> httpx.Response:
    return httpx.post(url or trigger["url"], timeout=30, **kwargs)


def test_a_valid_call_queues_a_job_with_the_json_body_as_input(owner):
    trigger = make_trigger(owner)
    response = call(trigger, json={"ref": "refs/heads/main", "commits": [1, 2]})
    assert response.status_code == 202, response.text
    job = owner.job(response.json()["jobId"])
    assert (job["eventId"], job["input"]) == (trigger["eventId"], {"ref": "refs/heads/main", "commits": [1, 2]})


def test_a_form_body_becomes_an_object(owner):
    trigger = make_trigger(owner)
    response = call(trigger, data={"name": "Ada", "tag": ["a", "b"]})
    assert response.status_code == 202, response.text
    assert owner.job(response.json()["jobId"])["input"] == {"name": "Ada", "tag": ["a", "b"]}


def test_curl_with_the_url_as_shown_queues_a_job(owner):
    trigger = make_trigger(owner)
    done = subprocess.run(
        ["curl", "-sS", "-X", "POST", "-H", "Content-Type: application/json", "-d", '{"from": "curl"}', trigger["url"]],
        capture_output=True, text=True, timeout=30, check=True,
    )
    reply = json.loads(done.stdout)
    assert owner.job(reply["jobId"])["input"] == {"from": "curl"}


def test_a_wrong_secret_is_404_and_queues_nothing(owner):
    trigger = make_trigger(owner)
    wrong = trigger["urlPrefix"] + "A" * 43
    responses = [call(trigger, wrong, json={}), call(trigger, trigger["urlPrefix"] + "short", json={}),
                 call(trigger, trigger["url"].replace(trigger["id"], "hook_" + "0" * 26), json={})]
    assert [r.status_code for r in responses] == [404, 404, 404]
    assert event_jobs(owner, trigger["eventId"]) == []


def test_the_secret_is_shown_once_and_never_listed(owner):
    trigger = make_trigger(owner)
    listed = owner.http.get("/api/v1/triggers", params={"eventId": trigger["eventId"]})
    assert listed.status_code == 200
    assert trigger["secret"] not in listed.text and listed.json()["items"][0]["urlPrefix"] == trigger["urlPrefix"]


def test_a_signed_trigger_takes_a_github_signature(owner):
    trigger = make_trigger(owner, signingSecret=SIGNING_SECRET)
    body = b'{"action": "opened"}'
    digest = hmac.new(SIGNING_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}
    response = call(trigger, content=body, headers=headers)
    assert response.status_code == 202, response.text
    assert owner.job(response.json()["jobId"])["input"] == {"action": "opened"}


def test_a_signed_trigger_takes_a_cronium_signature(owner):
    trigger = make_trigger(owner, signingSecret=SIGNING_SECRET)
    body, stamp = b'{"n": 1}', str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Cronium-Timestamp": stamp, "X-Cronium-Signature": f"sha256={digest}"}
    assert call(trigger, content=body, headers=headers).status_code == 202


def test_a_wrong_or_missing_signature_is_401_and_queues_nothing(owner):
    trigger = make_trigger(owner, signingSecret=SIGNING_SECRET)
    body = b'{"action": "opened"}'
    forged = hmac.new(b"another secret", body, hashlib.sha256).hexdigest()
    stale = str(int(time.time()) - 3600)
    stale_digest = hmac.new(SIGNING_SECRET.encode(), stale.encode() + b"." + body, hashlib.sha256).hexdigest()
    responses = [
        call(trigger, content=body, headers={"X-Hub-Signature-256": f"sha256={forged}"}),
        call(trigger, content=body),
        call(trigger, content=body, headers={"X-Cronium-Timestamp": stale, "X-Cronium-Signature": f"sha256={stale_digest}"}),
    ]
    assert [r.status_code for r in responses] == [401, 401, 401]
    assert all(r.json()["error"]["message"] for r in responses)
    assert event_jobs(owner, trigger["eventId"]) == []


def test_an_oversized_body_is_413_and_queues_nothing(owner):
    trigger = make_trigger(owner)
    response = call(trigger, json={"blob": "x" * BODY_MAX})
    assert response.status_code == 413, response.text
    assert event_jobs(owner, trigger["eventId"]) == []


def test_a_body_that_is_not_json_is_400_and_queues_nothing(owner):
    trigger = make_trigger(owner)
    response = call(trigger, content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert event_jobs(owner, trigger["eventId"]) == []


def test_a_flood_is_429_past_the_limit_and_queues_no_more(owner):
    trigger = make_trigger(owner)
    codes = [call(trigger, json={"n": n}).status_code for n in range(RATE_LIMIT + 3)]
    assert codes == [202] * RATE_LIMIT + [429] * 3
    assert len(event_jobs(owner, trigger["eventId"])) == RATE_LIMIT


def test_the_same_idempotency_key_twice_gives_one_job(owner):
    trigger = make_trigger(owner)
    first = call(trigger, json={"n": 1}, headers={"Idempotency-Key": "delivery-42"})
    again = call(trigger, json={"n": 1}, headers={"Idempotency-Key": "delivery-42"})
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["jobId"] == again.json()["jobId"]
    assert len(event_jobs(owner, trigger["eventId"])) == 1


def test_rotating_ends_the_old_url(owner):
    trigger = make_trigger(owner)
    rotated = owner.http.post(f"/api/v1/triggers/{trigger['id']}/rotate")
    assert rotated.status_code == 200, rotated.text
    assert call(trigger, json={}).status_code == 404
    assert call(trigger, rotated.json()["url"], json={}).status_code == 202


def test_revoking_ends_the_url(owner):
    trigger = make_trigger(owner)
    assert owner.http.delete(f"/api/v1/triggers/{trigger['id']}").status_code == 204
    assert call(trigger, json={}).status_code == 404


def test_a_workflow_trigger_starts_a_run_with_the_input(owner):
    step = owner.create_event(name="flow step", script="cat")
    workflow = owner.http.post("/api/v1/workflows", json={"name": "hooked flow", "steps": [{"name": "a", "eventId": step["id"]}]})
    assert workflow.status_code == 201, workflow.text
    trigger = make_trigger(owner, workflowId=workflow.json()["id"])
    response = call(trigger, json={"deploy": "v2"})
    assert response.status_code == 202, response.text
    run = owner.http.get(f"/api/v1/workflow-runs/{response.json()['runId']}")
    assert run.status_code == 200, run.text
    assert run.json()["input"] == {"deploy": "v2"}


def test_another_users_event_cannot_get_a_trigger(owner, hooks_app):
    other = register_user(hooks_app.url)
    try:
        event = owner.create_event(name="not yours")
        response = other.http.post("/api/v1/triggers", json={"eventId": event["id"]})
        assert response.status_code == 404, response.text
    finally:
        other.http.close()

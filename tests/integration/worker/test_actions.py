"""Conditional actions end to end, with the real worker and a local
receiver: a failing scheduled event alerts once per window and sends one
"recovered" message; an on-success action runs the next event with the
output as its input; an action whose receiver is down leaves the job's
status as it was and shows its own failure."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.integration.worker.jobkit import app_with
from tests.support.clients import UserClient, register_user, wait_for_job
from tests.support.receivers import HttpReceiver
from tests.support.worker_process import WorkerProcess

ALERTS = "/slack/services/T1/B1/alertsecrettoken1234567"


@pytest.fixture(scope="module")
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


@pytest.fixture(scope="module")
def actions_app(receiver):
    env = {"CRONIUM_SLACK_WEBHOOK_BASES": f"{receiver.url}/slack/,http://127.0.0.1:9/",
           "CRONIUM_TOOL_ALLOW": "127.0.0.1"}
    with app_with("cronium_actions_test", env) as server:
        yield server


@pytest.fixture(scope="module")
def actions_worker(actions_app) -> Iterator[WorkerProcess]:
    with WorkerProcess(actions_app.url, env_overrides={"CRONIUM_TOOL_ALLOW": "127.0.0.1"}) as worker:
        yield worker


@pytest.fixture(scope="module")
def owner(actions_app) -> Iterator[UserClient]:
    user = register_user(actions_app.url)
    yield user
    user.http.close()


def make_slack(user: UserClient, url: str, name: str) -> dict:
    response = user.http.post("/api/v1/tools", json={"name": name, "kind": "slack", "url": url})
    assert response.status_code == 201, response.text
    return response.json()


def add_action(user: UserClient, event_id: int, **body) -> dict:
    response = user.http.post(f"/api/v1/events/{event_id}/actions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def ended_jobs(user: UserClient, event_id: int) -> list[dict]:
    items = user.http.get("/api/v1/jobs", params={"eventId": event_id, "limit": 200}).json()["items"]
    return [job for job in items if job["status"] in ("completed", "failed")]


def wait_until(check, timeout: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.2)


def job_actions(user: UserClient, job_id: str) -> dict:
    response = user.http.get(f"/api/v1/jobs/{job_id}/actions")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_failing_scheduled_event_alerts_once_per_window_then_says_recovered(actions_worker, owner, receiver):
    slack = make_slack(owner, receiver.url + ALERTS, "alerts")
    event = owner.create_event(name="nightly backup", type="bash", script="echo copying; exit 3",
                               scheduleType="cron", cronExpression="*/2 * * * * *")
    add_action(owner, event["id"], trigger="failure", kind="message", toolId=slack["id"])
    wait_until(lambda: len(ended_jobs(owner, event["id"])) >= 3, what="three failed runs")
    failed = ended_jobs(owner, event["id"])
    assert {job["status"] for job in failed} == {"failed"}
    # Turned green: the next run succeeds.
    assert owner.http.patch(f"/api/v1/events/{event['id']}", json={"script": "echo fine"}).status_code == 200
    wait_until(lambda: sum(job["status"] == "completed" for job in ended_jobs(owner, event["id"])) >= 2,
               what="two completed runs")
    owner.http.patch(f"/api/v1/events/{event['id']}", json={"status": "paused"})
    # Every action job has ended by now or soon: the messages are in.
    wait_until(lambda: len(receiver.to(ALERTS)) >= 2, what="the alert and the recovered message")
    time.sleep(1)
    texts = [request.json()["text"] for request in receiver.to(ALERTS)]
    assert len(texts) == 2, texts
    assert texts[0].startswith("\u274c nightly backup: failed") and "exit code 3" in texts[0] and "copying" in texts[0]
    assert "/jobs/" in texts[0]
    assert texts[1].startswith("\u2705 nightly backup recovered")
    later = sorted(failed, key=lambda job: job["createdAt"])[-1]
    [record] = job_actions(owner, later["id"])["items"]
    assert record["outcome"] == "suppressed" and "at most one is sent every 3600 s" in record["message"]


def test_an_on_success_action_runs_the_next_event_with_the_output_as_input(actions_worker, owner):
    second = owner.create_event(name="second", type="python",
                                script="print('got', cronium.input()['orders'])\ncronium.output({'seen': True})")
    first = owner.create_event(name="first", type="python", script="cronium.output({'orders': 41})")
    add_action(owner, first["id"], trigger="success", kind="run_event", targetEventId=second["id"])
    job = wait_for_job(owner, owner.execute(first["id"]))
    assert job["status"] == "completed"
    [record] = job_actions(owner, job["id"])["items"]
    assert record["outcome"] == "queued" and record["kind"] == "run_event"
    next_job = wait_for_job(owner, record["resultJobId"])
    assert next_job["eventId"] == second["id"] and next_job["input"] == {"orders": 41}
    assert next_job["status"] == "completed" and next_job["output"] == {"seen": True}
    assert job_actions(owner, next_job["id"])["origin"] == {"jobId": job["id"], "purpose": "run_event"}


def test_an_action_whose_receiver_is_down_keeps_the_job_status_and_shows_its_failure(actions_worker, owner):
    down = make_slack(owner, "http://127.0.0.1:9/services/T/B/downtoken12345678901", "down")
    event = owner.create_event(name="always tells", type="bash", script="echo done")
    add_action(owner, event["id"], trigger="always", kind="message", toolId=down["id"])
    job = wait_for_job(owner, owner.execute(event["id"]))
    assert job["status"] == "completed"
    [record] = job_actions(owner, job["id"])["items"]
    message_job = wait_for_job(owner, record["resultJobId"])
    assert message_job["status"] == "failed" and "connection failed" in message_job["error"]
    shown = job_actions(owner, job["id"])["items"][0]
    assert shown["resultStatus"] == "failed" and "connection failed" in shown["resultError"]
    assert owner.job(job["id"])["status"] == "completed"


def test_a_loop_of_events_stops_after_ten_actions(actions_worker, owner):
    ping = owner.create_event(name="ping", type="bash", script="true")
    pong = owner.create_event(name="pong", type="bash", script="true")
    add_action(owner, ping["id"], trigger="success", kind="run_event", targetEventId=pong["id"])
    add_action(owner, pong["id"], trigger="success", kind="run_event", targetEventId=ping["id"])
    job_id = owner.execute(ping["id"])
    chain = [job_id]
    for _ in range(11):
        wait_for_job(owner, chain[-1], timeout=120)
        wait_until(lambda: job_actions(owner, chain[-1])["items"], what="the action record")
        record = job_actions(owner, chain[-1])["items"][0]
        if record["outcome"] != "queued":
            break
        chain.append(record["resultJobId"])
    assert len(chain) == 11, chain
    assert record["outcome"] == "refused" and "10 actions in a row" in record["message"]

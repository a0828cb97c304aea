"""Late and long-running run alerts (issue 16), with the real worker and a
local receiver: "late" (no successful run in a while) fires once per late
streak and again only after a success; "long_running" fires once for a run
still going after its threshold, and shows on that run's page."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.integration.worker.jobkit import app_with
from tests.integration.worker.test_actions import add_action, job_actions, make_slack, wait_until
from tests.support.clients import UserClient, register_user, wait_for_job
from tests.support.receivers import HttpReceiver
from tests.support.worker_process import WorkerProcess

LATE = "/slack/services/T1/B1/latealertsecret12345678"
LONG = "/slack/services/T1/B1/longrunsecret123456789"
CHECK_EVERY_S = 0.5


@pytest.fixture(scope="module")
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


@pytest.fixture(scope="module")
def late_app(receiver):
    env = {"CRONIUM_SLACK_WEBHOOK_BASES": f"{receiver.url}/slack/", "CRONIUM_TOOL_ALLOW": "127.0.0.1",
           "CRONIUM_LATE_CHECK_INTERVAL": str(CHECK_EVERY_S)}
    with app_with("cronium_late_test", env) as server:
        yield server


@pytest.fixture(scope="module")
def late_worker(late_app) -> Iterator[WorkerProcess]:
    with WorkerProcess(late_app.url, env_overrides={"CRONIUM_TOOL_ALLOW": "127.0.0.1"}) as worker:
        yield worker


@pytest.fixture(scope="module")
def owner(late_app) -> Iterator[UserClient]:
    user = register_user(late_app.url)
    yield user
    user.http.close()


def texts(receiver: HttpReceiver, path: str) -> list[str]:
    return [request.json()["text"] for request in receiver.to(path)]


def test_a_timed_trigger_needs_a_threshold_and_a_message(owner, late_worker, receiver):
    tool = make_slack(owner, receiver.url + "/slack/services/T/B/unusedtoken12345678", "unused")
    event = owner.create_event(name="no threshold", type="bash", script="true")
    response = owner.http.post(f"/api/v1/events/{event['id']}/actions",
                               json={"trigger": "late", "kind": "message", "toolId": tool["id"]})
    assert response.status_code == 422 and response.json()["error"]["field"] == "thresholdSeconds"
    response = owner.http.post(f"/api/v1/events/{event['id']}/actions",
                               json={"trigger": "long_running", "kind": "run_event", "targetEventId": event["id"],
                                     "thresholdSeconds": 5})
    assert response.status_code == 422 and response.json()["error"]["field"] == "kind"


def test_the_late_alert_fires_once_per_late_streak(owner, late_worker, receiver):
    slack = make_slack(owner, receiver.url + LATE, "late alerts")
    event = owner.create_event(name="nightly export", type="bash", script="echo exported")
    action = add_action(owner, event["id"], trigger="late", kind="message", toolId=slack["id"], thresholdSeconds=2)
    assert action["thresholdSeconds"] == 2

    receiver.wait_for(LATE, 1, timeout=60)
    time.sleep(2 + 6 * CHECK_EVERY_S)  # past the threshold again, many checks later: still one
    [first] = texts(receiver, LATE)
    assert first.startswith("\u274c nightly export: late") and "no successful run yet (2 s allowed)" in first
    assert f"/events/{event['id']}" in first

    # A success ends the streak; late again 2 s after it: one more alert, and only one.
    assert wait_for_job(owner, owner.execute(event["id"]))["status"] == "completed"
    receiver.wait_for(LATE, 2, timeout=60)
    time.sleep(2 + 6 * CHECK_EVERY_S)
    alerts = texts(receiver, LATE)
    assert len(alerts) == 2 and "no successful run since" in alerts[1], alerts


def test_the_long_running_alert_fires_once_while_the_run_goes_on(owner, late_worker, receiver):
    slack = make_slack(owner, receiver.url + LONG, "long runs")
    event = owner.create_event(name="slow import", type="bash", script="echo started; sleep 8; echo done",
                               timeoutSeconds=60)
    add_action(owner, event["id"], trigger="long_running", kind="message", toolId=slack["id"], thresholdSeconds=2)
    job_id = owner.execute(event["id"])
    receiver.wait_for(LONG, 1, timeout=60)
    assert owner.job(job_id)["status"] == "running"  # said while it still ran
    assert wait_for_job(owner, job_id, timeout=90)["status"] == "completed"
    time.sleep(4 * CHECK_EVERY_S)
    [alert] = texts(receiver, LONG)
    assert alert.startswith("\u274c slow import: running") and "still running after" in alert and "started" in alert
    [record] = job_actions(owner, job_id)["items"]
    assert record["purpose"] == "long_running" and record["outcome"] == "queued"
    wait_until(lambda: owner.job(record["resultJobId"])["status"] == "completed", what="the alert job")

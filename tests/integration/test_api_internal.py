"""Orchestrator API (/api/internal) over real HTTP against the running app:
auth on every route, claim (with long-poll), running, logs,
complete, heartbeat, and every refusal (409 for writes the worker may not
make, 404 for unknown jobs, 413/422 for bad batches).

The queue is shared by the whole session: a test claims with
WorkerClient.claim_one(job_id) right after queueing that job, and completes
or cancels what it claims. Stale attempts need an expired lease, so those
tests run against a second app whose leases last two seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from cronium_app.jobs.status import HELD
from tests.support.app_server import ORCHESTRATOR_TOKEN, AppServer
from tests.integration.shared_users import make_user, no_open_jobs_left, user  # noqa: F401 (fixtures)
from tests.integration.worker_calls import claim, finish, log_line, now_iso, queue_job, start
from tests.support.clients import UserClient, WorkerClient, register_user
from tests.support.databases import migrated_database

LOG_BATCH_MAX_LINES = 5000  # CRONIUM_LOG_BATCH_MAX_LINES default
LOG_LINE_MAX_CHARS = 16 * 1024  # CRONIUM_LOG_LINE_MAX_CHARS default
JOB_IO_MAX_BYTES = 5 * 1024 * 1024  # CRONIUM_JOB_IO_MAX_BYTES default


@pytest.fixture
def other_worker(app_server) -> Iterator[WorkerClient]:
    client = WorkerClient(app_server.url)
    yield client
    client.http.close()














def public_lines(user: UserClient, job_id: str) -> list[dict[str, Any]]:
    response = user.http.get(f"/api/v1/jobs/{job_id}/logs")
    assert response.status_code == 200, response.text
    return response.json()["lines"]


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"]
    return error


# -- auth on every route ---------------------------------------------------------

ROUTES = [
    pytest.param("GET", "/api/internal/jobs/queue", None, id="claim"),
    pytest.param("POST", "/api/internal/jobs/job_x/status", {"status": "running", "attempt": 1}, id="status"),
    pytest.param("POST", "/api/internal/jobs/job_x/logs", {"attempt": 1, "logs": []}, id="logs"),
    pytest.param("POST", "/api/internal/jobs/job_x/complete", {"attempt": 1, "status": "completed"}, id="complete"),
    pytest.param("POST", "/api/internal/heartbeat", {"jobs": []}, id="heartbeat"),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_missing_orchestrator_token_is_401(app_server, method, path, body):
    response = httpx.request(method, app_server.url + path, json=body, headers={"X-Worker-Id": "w-1"})
    assert assert_error(response, 401)["code"] == "unauthorized"


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_wrong_orchestrator_token_is_401(app_server, method, path, body):
    headers = {"Authorization": "Bearer not-the-orchestrator-token", "X-Worker-Id": "w-1"}
    response = httpx.request(method, app_server.url + path, json=body, headers=headers)
    assert_error(response, 401)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_orchestrator_token_with_wrong_scheme_is_401(app_server, method, path, body):
    headers = {"Authorization": f"Basic {ORCHESTRATOR_TOKEN}", "X-Worker-Id": "w-1"}
    response = httpx.request(method, app_server.url + path, json=body, headers=headers)
    assert_error(response, 401)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_user_api_token_is_not_an_orchestrator_token(app_server, user, method, path, body):
    headers = {"Authorization": f"Bearer {user.token}", "X-Worker-Id": "w-1"}
    response = httpx.request(method, app_server.url + path, json=body, headers=headers)
    assert_error(response, 401)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_missing_worker_id_header_is_422(app_server, method, path, body):
    headers = {"Authorization": f"Bearer {ORCHESTRATOR_TOKEN}"}
    response = httpx.request(method, app_server.url + path, json=body, headers=headers)
    assert "X-Worker-Id" in assert_error(response, 422)["message"]


@pytest.mark.parametrize("worker_id", ["has space", "x" * 129, "semi;colon", "slash/id"])
def test_malformed_worker_id_header_is_422(app_server, worker_id):
    headers = {"Authorization": f"Bearer {ORCHESTRATOR_TOKEN}", "X-Worker-Id": worker_id}
    response = httpx.post(app_server.url + "/api/internal/heartbeat", json={"jobs": []}, headers=headers)
    assert_error(response, 422)


def test_orchestrator_token_is_not_a_user_token(app_server):
    response = httpx.get(app_server.url + "/api/v1/events", headers={"Authorization": f"Bearer {ORCHESTRATOR_TOKEN}"})
    assert_error(response, 401)


def test_claim_with_wrong_token_claims_nothing(app_server, user):
    job_id = queue_job(user)
    headers = {"Authorization": "Bearer wrong", "X-Worker-Id": "w-1"}
    assert httpx.get(app_server.url + "/api/internal/jobs/queue", headers=headers).status_code == 401
    assert user.job(job_id)["status"] == "pending"


@pytest.mark.parametrize("path", ["/api/internal/jobs/job_x/logs", "/api/internal/jobs/job_x/complete"])
def test_malformed_json_on_internal_route_is_400(worker, path):
    response = worker.http.post(path, content=b'{"attempt": 1,', headers={"Content-Type": "application/json"})
    assert assert_error(response, 400)["code"] == "malformed_json"


# -- claim -------------------------------------------------------------------------


def test_claim_returns_the_job_with_attempt_and_log_seq_start(user, worker):
    job_id = queue_job(user)
    job = worker.claim_one(job_id)
    assert job["attempt"] == 1
    assert job["logSeqStart"] == 1
    assert job["status"] == "acknowledged"
    assert job["leaseExpiresAt"]
    finish(worker, job_id, 1)


def test_claim_returns_the_execution_spec(user, worker):
    event = user.create_event(
        name="spec", type="python", script="print('x')", timeoutSeconds=42, cpus=0.5, memoryMb=128,
        pidsLimit=64, network="egress", image="cronium-runtime",
    )
    job_id = user.execute(event["id"])
    spec = worker.claim_one(job_id)["execution"]
    assert spec["type"] == "python"
    assert spec["script"] == "print('x')"
    assert spec["timeoutSeconds"] == 42
    assert spec["resources"] == {"cpus": 0.5, "memoryMb": 128, "pids": 64}
    assert spec["network"] == "egress"
    assert spec["image"] == "cronium-runtime"  # as the event names it (CRONIUM_ALLOWED_IMAGES allows no other)
    assert spec["event"] == {"id": event["id"], "name": "spec"}
    finish(worker, job_id, 1)


def test_claim_gives_the_worker_env_var_values(user, worker):
    job_id = queue_job(user, envVars={"API_KEY": "s3cret"})
    assert worker.claim_one(job_id)["execution"]["env"] == {"API_KEY": "s3cret"}
    finish(worker, job_id, 1)


def test_claim_returns_the_http_spec_of_an_http_event(user, worker):
    job_id = queue_job(user, type="http", httpRequest={"method": "POST", "url": "https://example.com/x"})
    spec = worker.claim_one(job_id)["execution"]
    assert spec["type"] == "http"
    assert spec["http"]["url"] == "https://example.com/x"
    assert spec["http"]["method"] == "POST"
    finish(worker, job_id, 1)


def test_claim_returns_the_run_input_and_owner(user, worker):
    event = user.create_event()
    job_id = user.execute(event["id"], input={"k": [1, 2]})
    job = worker.claim_one(job_id)
    assert job["input"] == {"k": [1, 2]}
    assert job["eventId"] == event["id"]
    assert job["userId"] == user.user["id"]
    finish(worker, job_id, 1)


def test_claimed_job_shows_acknowledged_by_the_worker(user, worker):
    job_id, attempt = claim(worker, user)
    job = user.job(job_id)
    assert job["status"] == "acknowledged"
    assert job["workerId"] == worker.worker_id
    assert job["attempt"] == 1
    assert job["acknowledgedAt"]
    finish(worker, job_id, attempt)


def test_claimed_job_is_not_claimed_by_another_worker(user, worker, other_worker):
    job_id, attempt = claim(worker, user)
    assert job_id not in {job["id"] for job in other_worker.claim(limit=50)}
    finish(worker, job_id, attempt)


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 501}, {"limit": "ten"}, {"wait": -1}])
def test_claim_with_bad_parameters_is_422(worker, params):
    assert_error(worker.http.get("/api/internal/jobs/queue", params=params), 422)


def test_claim_long_poll_returns_promptly_when_a_job_is_created(user, worker):
    # A long wait, and a generous bound measured from the moment the job
    # exists: on a loaded machine the execute call alone can take seconds,
    # but a poll that only ended at its timeout would take the full 30 s.
    wait = 30.0
    event = user.create_event()
    created: list[tuple[str, float]] = []

    def execute_later() -> None:
        time.sleep(0.5)
        job_id = user.execute(event["id"])
        created.append((job_id, time.monotonic()))

    thread = threading.Thread(target=execute_later)
    started = time.monotonic()
    thread.start()
    claimed: dict[str, Any] = {}
    returned_at: dict[str, float] = {}
    try:
        # Stray jobs from elsewhere may come back first; keep polling until ours.
        while time.monotonic() - started < wait:
            jobs = worker.claim(limit=50, wait=wait)
            now = time.monotonic()
            for job in jobs:
                claimed[job["id"]] = job
                returned_at[job["id"]] = now
            if jobs:
                # The claim can wake before the execute call has answered:
                # know our job's id before deciding whether to poll again.
                thread.join()
            if created and created[0][0] in claimed:
                break
    finally:
        thread.join()
    job_id, existed_at = created[0]
    assert job_id in claimed, "the job created during the wait was not claimed"
    delay = returned_at[job_id] - existed_at
    assert delay < 10, f"claim returned {delay:.2f}s after the job existed (wait={wait}s)"
    finish(worker, job_id, claimed[job_id]["attempt"])


def test_claim_long_poll_with_nothing_queued_waits_then_returns_empty(worker):
    for _ in range(20):  # drain strays left by other tests, if any
        started = time.monotonic()
        jobs = worker.claim(limit=50, wait=1)
        elapsed = time.monotonic() - started
        if not jobs:
            break
    assert jobs == []
    assert 0.8 <= elapsed < 5


# -- status ------------------------------------------------------------------------


def test_status_running_moves_the_job_to_running(user, worker):
    job_id, attempt = claim(worker, user)
    response = worker.running(job_id, attempt)
    assert response.status_code == 200, response.text
    assert response.json() == {"jobId": job_id, "status": "running", "cancel": False}
    finish(worker, job_id, attempt)


def test_status_running_is_stamped_on_the_job(user, worker):
    job_id, attempt = start(worker, user)
    job = user.job(job_id)
    assert job["status"] == "running"
    assert job["startedAt"]
    finish(worker, job_id, attempt)


def test_status_running_on_a_pending_job_is_409(user, worker):
    job_id = queue_job(user)
    error = assert_error(worker.running(job_id, 1), 409)
    assert error["code"] == "conflict"
    assert user.job(job_id)["status"] == "pending"


def test_status_running_on_a_completed_job_is_409(user, worker):
    job_id, attempt = start(worker, user)
    finish(worker, job_id, attempt)
    assert_error(worker.running(job_id, attempt), 409)
    assert user.job(job_id)["status"] == "completed"


def test_status_running_on_a_cancelled_job_is_409(user, worker):
    job_id = queue_job(user)
    user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    assert_error(worker.running(job_id, 1), 409)
    assert user.job(job_id)["status"] == "cancelled"


def test_status_running_from_another_worker_is_409(user, worker, other_worker):
    job_id, attempt = claim(worker, user)
    assert_error(other_worker.running(job_id, attempt), 409)
    assert user.job(job_id)["status"] == "acknowledged"
    finish(worker, job_id, attempt)


def test_status_running_with_a_wrong_attempt_is_409(user, worker):
    job_id, attempt = claim(worker, user)
    assert_error(worker.running(job_id, attempt + 1), 409)
    finish(worker, job_id, attempt)


def test_status_running_of_unknown_job_is_404(worker):
    assert_error(worker.running("job_doesnotexist", 1), 404)


def test_running_with_a_run_time_longer_than_the_claim_dates_the_start_to_the_claim(user, worker):
    job_id, attempt = claim(worker, user)
    response = worker.http.post(f"/api/internal/jobs/{job_id}/status", json={"status": "running", "attempt": attempt, "runMs": 3_600_000})
    assert response.status_code == 200, response.text
    job = user.job(job_id)
    assert job["startedAt"] == job["acknowledgedAt"]
    finish(worker, job_id, attempt)


def test_running_with_no_run_time_starts_the_job_when_it_is_said(user, worker):
    job_id, attempt = claim(worker, user)
    time.sleep(0.3)
    response = worker.http.post(f"/api/internal/jobs/{job_id}/status", json={"status": "running", "attempt": attempt, "runMs": 0})
    assert response.status_code == 200, response.text
    job = user.job(job_id)
    assert (parse_ts(job["startedAt"]) - parse_ts(job["acknowledgedAt"])).total_seconds() >= 0.3
    finish(worker, job_id, attempt)


@pytest.mark.parametrize(
    "body", [{"status": "completed", "attempt": 1}, {"status": "running"}, {"status": "running", "attempt": 0}]
)
def test_status_with_a_bad_body_is_422(user, worker, body):
    job_id, attempt = claim(worker, user)
    assert_error(worker.http.post(f"/api/internal/jobs/{job_id}/status", json=body), 422)
    assert user.job(job_id)["status"] == "acknowledged"
    finish(worker, job_id, attempt)


# -- logs --------------------------------------------------------------------------


def test_logs_batch_is_stored_and_returns_max_seq(user, worker):
    job_id, attempt = start(worker, user)
    response = worker.logs(job_id, attempt, [log_line(1), log_line(2, stream="stderr"), log_line(3, stream="system")])
    assert response.status_code == 200, response.text
    assert response.json()["maxSeq"] == 3
    assert [(line["seq"], line["stream"]) for line in public_lines(user, job_id)] == [
        (1, "stdout"), (2, "stderr"), (3, "system"),
    ]
    finish(worker, job_id, attempt)


def test_logs_reply_counts_the_lines_stored(user, worker):
    job_id, attempt = start(worker, user)
    response = worker.logs(job_id, attempt, [log_line(1), log_line(2), log_line(3)])
    assert response.json()["stored"] == 3
    finish(worker, job_id, attempt)


def test_logs_resent_batch_is_stored_once(user, worker):
    job_id, attempt = start(worker, user)
    worker.logs(job_id, attempt, [log_line(1)])
    response = worker.logs(job_id, attempt, [log_line(1)])
    assert response.status_code == 200, response.text
    assert response.json()["maxSeq"] == 1
    assert [line["seq"] for line in public_lines(user, job_id)] == [1]
    finish(worker, job_id, attempt)


def test_logs_duplicate_seq_keeps_the_first_line(user, worker):
    job_id, attempt = start(worker, user)
    worker.logs(job_id, attempt, [log_line(1, "original")])
    worker.logs(job_id, attempt, [log_line(1, "replacement")])
    assert [line["line"] for line in public_lines(user, job_id)] == ["original"]
    finish(worker, job_id, attempt)


def test_logs_overlapping_batches_store_each_seq_once(user, worker):
    job_id, attempt = start(worker, user)
    worker.logs(job_id, attempt, [log_line(n) for n in (1, 2, 3)])
    response = worker.logs(job_id, attempt, [log_line(n) for n in (2, 3, 4, 5)])
    assert response.json()["maxSeq"] == 5
    assert [line["seq"] for line in public_lines(user, job_id)] == [1, 2, 3, 4, 5]
    finish(worker, job_id, attempt)


def test_logs_reply_counts_only_new_lines_of_an_overlapping_batch(user, worker):
    job_id, attempt = start(worker, user)
    worker.logs(job_id, attempt, [log_line(n) for n in (1, 2, 3)])
    response = worker.logs(job_id, attempt, [log_line(n) for n in (2, 3, 4, 5)])
    assert response.json()["stored"] == 2
    finish(worker, job_id, attempt)


def test_logs_duplicate_seq_within_one_batch_is_stored_once(user, worker):
    job_id, attempt = start(worker, user)
    response = worker.logs(job_id, attempt, [log_line(1, "a"), log_line(1, "b"), log_line(2)])
    assert response.status_code == 200, response.text
    assert [line["seq"] for line in public_lines(user, job_id)] == [1, 2]
    finish(worker, job_id, attempt)


def test_logs_empty_batch_returns_current_max_seq(user, worker):
    job_id, attempt = start(worker, user)
    worker.logs(job_id, attempt, [log_line(1), log_line(2)])
    response = worker.logs(job_id, attempt, [])
    assert response.status_code == 200
    assert response.json()["maxSeq"] == 2
    finish(worker, job_id, attempt)


def test_logs_accepted_while_acknowledged(user, worker):
    job_id, attempt = claim(worker, user)
    assert worker.logs(job_id, attempt, [log_line(1)]).status_code == 200
    finish(worker, job_id, attempt)


def test_logs_for_a_pending_job_are_409_and_store_nothing(user, worker):
    job_id = queue_job(user)
    assert_error(worker.logs(job_id, 1, [log_line(1)]), 409)
    assert public_lines(user, job_id) == []


def test_logs_for_a_completed_job_are_409(user, worker):
    job_id, attempt = start(worker, user)
    finish(worker, job_id, attempt)
    assert_error(worker.logs(job_id, attempt, [log_line(1)]), 409)
    assert public_lines(user, job_id) == []


def test_logs_from_another_worker_are_409_and_store_nothing(user, worker, other_worker):
    job_id, attempt = start(worker, user)
    assert_error(other_worker.logs(job_id, attempt, [log_line(1)]), 409)
    assert public_lines(user, job_id) == []
    finish(worker, job_id, attempt)


def test_logs_with_a_wrong_attempt_are_409(user, worker):
    job_id, attempt = start(worker, user)
    assert_error(worker.logs(job_id, attempt + 1, [log_line(1)]), 409)
    assert public_lines(user, job_id) == []
    finish(worker, job_id, attempt)


def test_logs_for_unknown_job_are_404(worker):
    assert_error(worker.logs("job_doesnotexist", 1, [log_line(1)]), 404)


def test_logs_batch_over_the_line_limit_is_413_and_stores_nothing(user, worker):
    job_id, attempt = start(worker, user)
    lines = [log_line(n) for n in range(1, LOG_BATCH_MAX_LINES + 2)]
    assert assert_error(worker.logs(job_id, attempt, lines), 413)["code"] == "too_large"
    assert public_lines(user, job_id) == []
    finish(worker, job_id, attempt)


def test_logs_batch_at_the_line_limit_is_accepted(user, worker):
    job_id, attempt = start(worker, user)
    response = worker.logs(job_id, attempt, [log_line(n) for n in range(1, LOG_BATCH_MAX_LINES + 1)])
    assert response.status_code == 200, response.text
    assert response.json()["maxSeq"] == LOG_BATCH_MAX_LINES
    finish(worker, job_id, attempt)


def test_log_line_over_the_size_limit_is_413(user, worker):
    job_id, attempt = start(worker, user)
    assert_error(worker.logs(job_id, attempt, [log_line(1, "x" * (LOG_LINE_MAX_CHARS + 1))]), 413)
    finish(worker, job_id, attempt)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"stream": "stdin"}, id="invalid-stream"),
        pytest.param({"seq": 0}, id="seq-zero"),
        pytest.param({"seq": "one"}, id="seq-not-int"),
        pytest.param({"timestamp": "noon"}, id="bad-timestamp"),
        pytest.param({"line": None}, id="null-line"),
        pytest.param({"extra": 1}, id="unknown-field"),
    ],
)
def test_logs_with_an_invalid_line_are_422_and_store_nothing(user, worker, bad):
    job_id, attempt = start(worker, user)
    line = {**log_line(1), **bad}
    body = {"attempt": attempt, "logs": [log_line(2), line]}
    response = worker.http.post(f"/api/internal/jobs/{job_id}/logs", json=body)
    assert_error(response, 422)
    assert public_lines(user, job_id) == []
    finish(worker, job_id, attempt)


def test_logs_without_attempt_are_422(user, worker):
    job_id, attempt = start(worker, user)
    response = worker.http.post(f"/api/internal/jobs/{job_id}/logs", json={"logs": [log_line(1)]})
    assert_error(response, 422)
    finish(worker, job_id, attempt)


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def log_run(seq: int, *lines: str, stream: str = "stdout") -> dict[str, Any]:
    """Consecutive lines as this release's workers send them."""
    return {"seq": seq, "stream": stream, "timestamp": now_iso(), "lines": list(lines)}


def test_logs_as_runs_are_stored_line_by_line(user, worker):
    job_id, attempt = start(worker, user)
    response = worker.http.post(
        f"/api/internal/jobs/{job_id}/logs",
        json={"attempt": attempt, "runs": [log_run(1, "a", "b"), log_run(3, "c", stream="stderr")]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 3 and response.json()["maxSeq"] == 3
    assert [(line["seq"], line["stream"], line["line"]) for line in public_lines(user, job_id)] == [
        (1, "stdout", "a"), (2, "stdout", "b"), (3, "stderr", "c"),
    ]
    finish(worker, job_id, attempt)


def test_logs_as_runs_resent_are_stored_once(user, worker):
    job_id, attempt = start(worker, user)
    for _ in range(2):
        worker.http.post(f"/api/internal/jobs/{job_id}/logs", json={"attempt": attempt, "runs": [log_run(1, "a", "b")]})
    assert [line["line"] for line in public_lines(user, job_id)] == ["a", "b"]
    finish(worker, job_id, attempt)


# -- complete ------------------------------------------------------------------------


def test_complete_stores_the_last_lines_with_the_end(user, worker):
    job_id, attempt = start(worker, user)
    worker.logs(job_id, attempt, [log_line(1, "first")])
    finish(worker, job_id, attempt, runs=[log_run(2, "last", "words")])
    assert [line["line"] for line in public_lines(user, job_id)] == ["first", "last", "words"]


def test_complete_with_a_line_over_the_cap_is_refused_whole(user, worker):
    job_id, attempt = start(worker, user)
    assert_error(worker.complete(job_id, attempt, runs=[log_run(1, "x" * (LOG_LINE_MAX_CHARS + 1))]), 413)
    assert user.job(job_id)["status"] == "running" and public_lines(user, job_id) == []
    finish(worker, job_id, attempt)


def test_a_job_never_marked_running_starts_its_run_time_before_its_end(user, worker):
    job_id, attempt = claim(worker, user)
    time.sleep(0.5)
    finish(worker, job_id, attempt, runMs=200)
    job = user.job(job_id)
    started, acknowledged, completed = (parse_ts(job[key]) for key in ("startedAt", "acknowledgedAt", "completedAt"))
    assert acknowledged < started < completed
    assert (completed - started).total_seconds() == pytest.approx(0.2, abs=0.001)
    assert job["result"]["durationMs"] == 200


def test_a_run_time_longer_than_the_claim_starts_the_job_at_its_claim(user, worker):
    job_id, attempt = claim(worker, user)
    finish(worker, job_id, attempt, runMs=3_600_000)
    job = user.job(job_id)
    assert job["startedAt"] == job["acknowledgedAt"]


def test_a_job_marked_running_keeps_its_start(user, worker):
    job_id, attempt = start(worker, user)
    started = user.job(job_id)["startedAt"]
    finish(worker, job_id, attempt, runMs=0)
    assert user.job(job_id)["startedAt"] == started



def test_complete_ends_the_job_with_the_workers_result(user, worker):
    job_id, attempt = start(worker, user)
    response = worker.complete(job_id, attempt, "failed", exitCode=3, output={"partial": True}, error="exit 3",
                               metrics={"maxMemoryMb": 12})
    assert response.status_code == 200, response.text
    assert response.json() == {"jobId": job_id, "status": "failed"}
    job = user.job(job_id)
    assert (job["status"], job["exitCode"], job["output"], job["error"]) == ("failed", 3, {"partial": True}, "exit 3")
    assert job["result"]["metrics"] == {"maxMemoryMb": 12}
    assert job["completedAt"]


def test_complete_twice_is_409(user, worker):
    job_id, attempt = start(worker, user)
    finish(worker, job_id, attempt)
    assert assert_error(worker.complete(job_id, attempt), 409)["code"] == "conflict"


def test_complete_twice_keeps_the_first_result(user, worker):
    job_id, attempt = start(worker, user)
    finish(worker, job_id, attempt, exitCode=0)
    worker.complete(job_id, attempt, "failed", exitCode=1, error="late")
    job = user.job(job_id)
    assert (job["status"], job["exitCode"], job["error"]) == ("completed", 0, None)


def test_complete_of_a_pending_job_is_409(user, worker):
    job_id = queue_job(user)
    assert_error(worker.complete(job_id, 1), 409)
    assert user.job(job_id)["status"] == "pending"


def test_complete_of_a_cancelled_job_is_409(user, worker):
    job_id = queue_job(user)
    user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    assert_error(worker.complete(job_id, 1), 409)
    assert user.job(job_id)["status"] == "cancelled"


def test_complete_from_another_worker_is_409(user, worker, other_worker):
    job_id, attempt = start(worker, user)
    assert_error(other_worker.complete(job_id, attempt), 409)
    assert user.job(job_id)["status"] == "running"
    finish(worker, job_id, attempt)


def test_complete_with_a_wrong_attempt_is_409(user, worker):
    job_id, attempt = start(worker, user)
    assert_error(worker.complete(job_id, attempt + 1), 409)
    assert user.job(job_id)["status"] == "running"
    finish(worker, job_id, attempt)


def test_complete_of_unknown_job_is_404(worker):
    assert_error(worker.complete("job_doesnotexist", 1), 404)


@pytest.mark.parametrize("status", ["pending", "running", "acknowledged", "done"])
def test_complete_with_a_non_final_status_is_422(user, worker, status):
    job_id, attempt = start(worker, user)
    assert_error(worker.complete(job_id, attempt, status), 422)
    assert user.job(job_id)["status"] == "running"
    finish(worker, job_id, attempt)


def test_complete_with_output_over_the_cap_is_413(user, worker):
    job_id, attempt = start(worker, user)
    assert_error(worker.complete(job_id, attempt, output="x" * JOB_IO_MAX_BYTES), 413)
    assert user.job(job_id)["status"] == "running"
    finish(worker, job_id, attempt)


# -- heartbeat -------------------------------------------------------------------------


def test_heartbeat_with_no_jobs_returns_empty_lists(worker):
    response = worker.heartbeat([])
    assert response.status_code == 200, response.text
    assert response.json()["cancel"] == []
    assert response.json()["lost"] == []


def test_heartbeat_of_held_jobs_reports_nothing_to_cancel_or_lose(user, worker):
    job_id, attempt = start(worker, user)
    body = worker.heartbeat([(job_id, attempt)]).json()
    assert (body["cancel"], body["lost"]) == ([], [])
    assert body["leaseExpiresAt"]
    finish(worker, job_id, attempt)


def test_heartbeat_returns_cancel_requested_jobs_in_cancel(user, worker):
    job_id, attempt = start(worker, user)
    user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    assert worker.heartbeat([(job_id, attempt)]).json()["cancel"] == [job_id]
    finish(worker, job_id, attempt, "cancelled")


def test_heartbeat_reports_unknown_job_as_lost(worker):
    assert worker.heartbeat([("job_doesnotexist", 1)]).json()["lost"] == ["job_doesnotexist"]


def test_heartbeat_reports_a_finished_job_as_lost(user, worker):
    job_id, attempt = start(worker, user)
    finish(worker, job_id, attempt)
    assert worker.heartbeat([(job_id, attempt)]).json()["lost"] == [job_id]


def test_heartbeat_reports_another_workers_job_as_lost(user, worker, other_worker):
    job_id, attempt = start(worker, user)
    assert other_worker.heartbeat([(job_id, attempt)]).json()["lost"] == [job_id]
    finish(worker, job_id, attempt)


def test_heartbeat_with_a_wrong_attempt_reports_the_job_as_lost(user, worker):
    job_id, attempt = start(worker, user)
    assert worker.heartbeat([(job_id, attempt + 1)]).json()["lost"] == [job_id]
    finish(worker, job_id, attempt)


def test_heartbeat_with_mismatched_worker_id_is_422(worker):
    response = worker.http.post("/api/internal/heartbeat", json={"workerId": "someone-else", "jobs": []})
    assert_error(response, 422)


def test_heartbeat_with_the_previous_releases_field_name_is_checked_too(worker):
    response = worker.http.post("/api/internal/heartbeat", json={"orchestratorId": "someone-else", "jobs": []})
    assert_error(response, 422)


def test_the_previous_releases_worker_header_is_still_accepted(app_server):
    headers = {"Authorization": f"Bearer {ORCHESTRATOR_TOKEN}", "X-Orchestrator-Id": "w-old"}
    response = httpx.post(app_server.url + "/api/internal/heartbeat", json={"orchestratorId": "w-old", "jobs": []}, headers=headers)
    assert response.status_code == 200, response.text


def test_heartbeat_with_malformed_job_entry_is_422(worker):
    response = worker.http.post("/api/internal/heartbeat", json={"jobs": [{"id": "job_x"}]})
    assert_error(response, 422)


# -- expired leases: a second app with short leases ------------------------------------

LEASE_SECONDS = 2


@pytest.fixture(scope="module")
def short_lease_server() -> Iterator[AppServer]:
    with migrated_database("cronium_short_lease") as url:
        overrides = {"CRONIUM_LEASE_SECONDS": str(LEASE_SECONDS), "CRONIUM_SWEEP_INTERVAL": "0.2"}
        with AppServer(database_url=url, env_overrides=overrides) as server:
            yield server


@pytest.fixture(scope="module")
def short_lease_user(short_lease_server) -> Iterator[UserClient]:
    client = register_user(short_lease_server.url)
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def stale(short_lease_server, short_lease_user) -> Iterator[dict[str, Any]]:
    """A job whose first attempt (worker `first`) lost its lease after
    writing log lines 1-3, and that `first` then claimed again (attempt 2,
    kept alive by heartbeats while the tests run)."""
    first = WorkerClient(short_lease_server.url)
    job_id = queue_job(short_lease_user)
    assert first.claim_one(job_id)["attempt"] == 1
    assert first.running(job_id, 1).status_code == 200
    assert first.logs(job_id, 1, [log_line(n) for n in (1, 2, 3)]).status_code == 200
    deadline = time.monotonic() + 10
    while short_lease_user.job(job_id)["status"] != "pending":
        assert time.monotonic() < deadline, "expired lease never returned the job to pending"
        time.sleep(0.1)
    again = first.claim_one(job_id)
    # Keep attempt 2 alive, as a live worker would, while the tests poke at attempt 1.
    stop = threading.Event()
    keeper = WorkerClient(short_lease_server.url, worker_id=first.worker_id)

    def keep_alive() -> None:
        while not stop.wait(LEASE_SECONDS / 5):
            keeper.heartbeat([(job_id, again["attempt"])])

    thread = threading.Thread(target=keep_alive, daemon=True)
    thread.start()
    try:
        yield {"job_id": job_id, "worker": first, "reclaimed": again}
    finally:
        stop.set()
        thread.join()
        first.complete(job_id, again["attempt"])
        keeper.http.close()
        first.http.close()


def test_expired_lease_is_claimed_again_with_the_next_attempt(stale):
    assert stale["reclaimed"]["attempt"] == 2


def test_reclaimed_job_continues_log_numbering_after_stored_lines(stale):
    assert stale["reclaimed"]["logSeqStart"] == 4


def test_complete_from_a_stale_attempt_is_409(stale, short_lease_user):
    worker, job_id = stale["worker"], stale["job_id"]
    error = assert_error(worker.complete(job_id, 1, exitCode=0), 409)
    assert "stale" in error["message"]
    assert short_lease_user.job(job_id)["status"] in HELD


def test_logs_from_a_stale_attempt_are_409(stale, short_lease_user):
    worker, job_id = stale["worker"], stale["job_id"]
    assert_error(worker.logs(job_id, 1, [log_line(99)]), 409)
    assert 99 not in [line["seq"] for line in public_lines(short_lease_user, job_id)]


def test_status_from_a_stale_attempt_is_409(stale):
    assert_error(stale["worker"].running(stale["job_id"], 1), 409)


def test_heartbeat_from_a_stale_attempt_reports_the_job_as_lost(stale):
    assert stale["worker"].heartbeat([(stale["job_id"], 1)]).json()["lost"] == [stale["job_id"]]


def test_heartbeat_keeps_a_job_past_its_lease(short_lease_server, short_lease_user):
    worker = WorkerClient(short_lease_server.url)
    try:
        job_id = queue_job(short_lease_user)
        attempt = worker.claim_one(job_id)["attempt"]
        worker.running(job_id, attempt)
        until = time.monotonic() + LEASE_SECONDS * 1.5
        while time.monotonic() < until:
            assert worker.heartbeat([(job_id, attempt)]).json()["lost"] == []
            time.sleep(LEASE_SECONDS / 4)
        job = short_lease_user.job(job_id)
        assert (job["status"], job["attempt"], job["workerId"]) == ("running", attempt, worker.worker_id)
        assert worker.complete(job_id, attempt).status_code == 200
    finally:
        worker.http.close()

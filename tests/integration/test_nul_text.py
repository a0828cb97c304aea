"""A NUL (0x00) character in any text a caller sends is refused in words
(422) on both databases, wherever it comes in: a query parameter, a path id,
a body field, a JSON document. PostgreSQL cannot store one and used to answer
500. What a worker reports about a run is kept, with the NUL replaced."""

from __future__ import annotations

import pytest

from tests.integration.shared_users import make_user, no_open_jobs_left, user  # noqa: F401 (fixtures)
from tests.integration.worker_calls import finish, log_line, start
from tests.support.clients import UserClient, WorkerClient

NUL_MESSAGE = "text must not contain NUL (0x00) characters"


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/api/v1/jobs?cursor=job_%00", None),
        ("GET", "/api/v1/jobs?q=a%00b", None),
        ("GET", "/api/v1/jobs/job_%00x", None),
        ("GET", "/api/v1/events?q=a%00b", None),
        ("POST", "/api/v1/events", {"name": "a\u0000b", "type": "bash", "script": "true"}),
        ("POST", "/api/v1/events", {"name": "ok", "type": "bash", "script": "echo \u0000"}),
        ("POST", "/api/v1/events", {"name": "ok", "type": "bash", "script": "true", "envVars": {"K": "v\u0000"}}),
        ("POST", "/api/v1/tokens", {"name": "a\u0000b"}),
    ],
)
def test_a_nul_from_a_caller_is_refused_in_words(user: UserClient, method, path, body):
    response = user.http.request(method, path, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"] == NUL_MESSAGE


def test_a_nul_in_a_run_input_is_refused_and_nothing_is_queued(user: UserClient):
    event_id = user.create_event(name="input-nul", type="bash", script="true")["id"]
    response = user.http.post(f"/api/v1/events/{event_id}/execute", json={"input": {"a": "x\u0000"}})
    assert response.status_code == 422, response.text
    assert user.http.get("/api/v1/jobs", params={"eventId": event_id}).json()["items"] == []


def test_a_worker_report_with_a_nul_is_kept_with_the_nul_replaced(worker: WorkerClient, user: UserClient):
    job_id, attempt = start(worker, user, name="report-nul", type="bash", script="true")
    assert worker.logs(job_id, attempt, [log_line(1, "before\u0000after")]).status_code == 200
    finish(worker, job_id, attempt, "failed", exitCode=1, error="bad\u0000end", output={"k\u0000": "v\u0000"})
    job = user.http.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["status"], job["error"], job["output"]) == ("failed", "bad\ufffdend", {"k\ufffd": "v\ufffd"})
    lines = user.http.get(f"/api/v1/jobs/{job_id}/logs").json()["lines"]
    assert [line["line"] for line in lines if line["stream"] == "stdout"] == ["before\ufffdafter"]

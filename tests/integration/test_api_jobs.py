"""Public jobs API (/api/v1/jobs) over real HTTP against the running app:
list with filters and cursor pagination, get, stats, logs after a seq, and
cancel (pending, held, finished). Jobs move through the orchestrator API as
a worker would move them.

The queue is shared by the whole session: a test claims with
WorkerClient.claim_one(job_id) right after queueing that job, and completes
or cancels what it claims."""

from __future__ import annotations

import secrets
from typing import Any


from tests.integration.shared_users import make_user, no_open_jobs_left, user  # noqa: F401 (fixtures)
from tests.integration.worker_calls import log_line, claim, start, finish
from tests.support.clients import UserClient

COUNT_KEYS = ("pending", "running", "completedToday", "failedToday", "partialToday")
STATS_KEYS = {
    *COUNT_KEYS, "pendingTrend", "runningTrend", "completedTrend", "failedTrend", "partialTrend", "previous",
}












def jobs_of(user: UserClient, **params: Any) -> dict[str, Any]:
    response = user.http.get("/api/v1/jobs", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def stats_of(user: UserClient) -> dict[str, Any]:
    response = user.http.get("/api/v1/jobs/stats")
    assert response.status_code == 200, response.text
    return response.json()


def all_pages(user: UserClient, limit: int, **params: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    for _ in range(100):
        query = dict(params, limit=limit)
        if cursor:
            query["cursor"] = cursor
        body = jobs_of(user, **query)
        pages.append([job["id"] for job in body["items"]])
        cursor = body["nextCursor"]
        if cursor is None:
            return pages
    raise AssertionError("pagination never ended")


# -- list ----------------------------------------------------------------------


def test_list_jobs_returns_the_users_jobs_newest_first(user):
    event = user.create_event()
    ids = [user.execute(event["id"]) for _ in range(3)]
    body = jobs_of(user, eventId=event["id"])
    listed = [job["id"] for job in body["items"]]
    assert set(listed) == set(ids)
    assert listed == sorted(listed, reverse=True)
    assert body["total"] == 3


def test_list_jobs_items_carry_status_and_event(user):
    event = user.create_event(name="listed event")
    job_id = user.execute(event["id"])
    item = jobs_of(user, eventId=event["id"])["items"][0]
    assert item["id"] == job_id
    assert item["status"] == "pending"
    assert item["eventId"] == event["id"]
    assert item["eventName"] == "listed event"


def test_list_jobs_filters_by_status(user):
    event = user.create_event()
    pending = user.execute(event["id"])
    cancelled = user.execute(event["id"])
    user.http.post(f"/api/v1/jobs/{cancelled}/cancel")
    assert [j["id"] for j in jobs_of(user, eventId=event["id"], status="cancelled")["items"]] == [cancelled]
    assert [j["id"] for j in jobs_of(user, eventId=event["id"], status="pending")["items"]] == [pending]


def test_list_jobs_filters_by_several_statuses(user):
    event = user.create_event()
    pending = user.execute(event["id"])
    cancelled = user.execute(event["id"])
    user.http.post(f"/api/v1/jobs/{cancelled}/cancel")
    body = jobs_of(user, eventId=event["id"], status=["pending", "cancelled"])
    assert {j["id"] for j in body["items"]} == {pending, cancelled}
    assert jobs_of(user, eventId=event["id"], status="completed")["items"] == []


def test_list_jobs_with_unknown_status_is_422(user):
    response = user.http.get("/api/v1/jobs", params={"status": "exploded"})
    assert response.status_code == 422
    assert response.json()["error"]["message"]


def test_list_jobs_filters_by_event(user):
    first, second = user.create_event(), user.create_event()
    wanted = user.execute(first["id"])
    user.execute(second["id"])
    body = jobs_of(user, eventId=first["id"])
    assert [j["id"] for j in body["items"]] == [wanted]
    assert body["total"] == 1


def test_list_jobs_filters_by_created_from(user):
    event = user.create_event()
    ids = [user.execute(event["id"]) for _ in range(3)]
    middle = user.job(ids[1])["createdAt"]
    body = jobs_of(user, eventId=event["id"], **{"from": middle})
    assert {j["id"] for j in body["items"]} == set(ids[1:])


def test_list_jobs_filters_by_created_to(user):
    event = user.create_event()
    ids = [user.execute(event["id"]) for _ in range(3)]
    middle = user.job(ids[1])["createdAt"]
    body = jobs_of(user, eventId=event["id"], to=middle)
    assert {j["id"] for j in body["items"]} == {ids[0]}


def test_list_jobs_filters_by_a_date_range(user):
    event = user.create_event()
    ids = [user.execute(event["id"]) for _ in range(4)]
    start_at = user.job(ids[1])["createdAt"]
    end_at = user.job(ids[3])["createdAt"]
    body = jobs_of(user, eventId=event["id"], **{"from": start_at, "to": end_at})
    assert {j["id"] for j in body["items"]} == {ids[1], ids[2]}


def test_list_jobs_with_from_after_to_is_422(user):
    response = user.http.get(
        "/api/v1/jobs", params={"from": "2030-01-02T00:00:00Z", "to": "2030-01-01T00:00:00Z"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"]


def test_a_time_before_what_utc_holds_is_422(user):
    response = user.http.get("/api/v1/jobs", params={"from": "0001-01-01T00:00:00+05:00"})
    assert response.status_code == 422, response.text
    assert "from is out of range" in response.json()["error"]["message"]


def test_a_time_without_an_offset_is_utc_against_one_with_an_offset(user):
    # Compared as given, an aware and a naive time cannot be ordered at all.
    response = user.http.get("/api/v1/jobs", params={"from": "2030-01-02T00:00:00", "to": "2030-01-01T00:00:00Z"})
    assert response.status_code == 422, response.text
    ok = user.http.get("/api/v1/jobs", params={"from": "2030-01-01T00:00:00", "to": "2030-01-02T00:00:00+01:00"})
    assert ok.status_code == 200, ok.text


def test_list_jobs_with_unparseable_date_is_422(user):
    response = user.http.get("/api/v1/jobs", params={"from": "yesterday"})
    assert response.status_code == 422


def test_list_jobs_text_filter_matches_the_event_name(user):
    tag = secrets.token_hex(5)
    wanted = user.execute(user.create_event(name=f"report {tag}")["id"])
    user.execute(user.create_event(name="other")["id"])
    body = jobs_of(user, q=tag)
    assert [j["id"] for j in body["items"]] == [wanted]


def test_list_jobs_text_filter_matches_the_job_id(user):
    event = user.create_event()
    wanted = user.execute(event["id"])
    user.execute(event["id"])
    body = jobs_of(user, q=wanted)
    assert [j["id"] for j in body["items"]] == [wanted]


def test_list_jobs_text_filter_treats_percent_and_underscore_literally(user):
    tag = secrets.token_hex(5)
    wanted = user.execute(user.create_event(name=f"50%_{tag}")["id"])
    user.execute(user.create_event(name=f"50xx{tag}")["id"])
    body = jobs_of(user, q=f"50%_{tag}")
    assert [j["id"] for j in body["items"]] == [wanted]


def test_list_jobs_text_filter_with_sql_matches_nothing(user):
    user.execute(user.create_event()["id"])
    body = jobs_of(user, q="' OR 1=1 --")
    assert body["items"] == []
    assert body["total"] == 0


def test_list_jobs_cursor_pages_do_not_overlap_and_cover_all(user):
    event = user.create_event()
    ids = {user.execute(event["id"]) for _ in range(7)}
    pages = all_pages(user, limit=3, eventId=event["id"])
    flat = [job_id for page in pages for job_id in page]
    assert [len(page) for page in pages] == [3, 3, 1]
    assert len(flat) == len(set(flat)), "pages overlap"
    assert set(flat) == ids


def test_list_jobs_cursor_pages_keep_newest_first_order(user):
    event = user.create_event()
    for _ in range(5):
        user.execute(event["id"])
    flat = [job_id for page in all_pages(user, limit=2, eventId=event["id"]) for job_id in page]
    assert flat == sorted(flat, reverse=True)


def test_list_jobs_last_page_has_no_next_cursor(user):
    event = user.create_event()
    for _ in range(2):
        user.execute(event["id"])
    body = jobs_of(user, eventId=event["id"], limit=2)
    assert len(body["items"]) == 2
    assert body["nextCursor"] is None


def test_list_jobs_total_counts_all_pages(user):
    event = user.create_event()
    for _ in range(4):
        user.execute(event["id"])
    body = jobs_of(user, eventId=event["id"], limit=1)
    assert body["total"] == 4
    assert len(body["items"]) == 1
    assert body["nextCursor"]


def test_list_jobs_limit_above_maximum_is_422(user):
    assert user.http.get("/api/v1/jobs", params={"limit": 100000}).status_code == 422


# -- get -------------------------------------------------------------------------


def test_get_job_returns_its_fields_and_execution_spec(user):
    event = user.create_event(type="python", script="print('hi')", timeoutSeconds=60)
    job = user.job(user.execute(event["id"]))
    assert job["status"] == "pending"
    assert job["eventId"] == event["id"]
    assert job["type"] == "python"
    assert job["attempt"] == 0
    assert job["createdAt"]
    assert job["completedAt"] is None
    assert job["execution"]["script"] == "print('hi')"
    assert job["execution"]["timeoutSeconds"] == 60


def test_get_job_hides_env_var_values(user):
    event = user.create_event(envVars={"API_KEY": "s3cret-value"})
    response = user.http.get(f"/api/v1/jobs/{user.execute(event['id'])}")
    assert response.json()["execution"]["env"] == {"API_KEY": "***"}
    assert "s3cret-value" not in response.text


def test_get_unknown_job_is_404(user):
    response = user.http.get("/api/v1/jobs/job_doesnotexist")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_get_job_with_sql_in_id_is_404(user):
    response = user.http.get("/api/v1/jobs/x' OR '1'='1")
    assert response.status_code == 404


def test_get_job_shows_worker_result_after_completion(user, worker):
    job_id, attempt = start(worker, user)
    finish(worker, job_id, attempt, exitCode=0, output={"rows": 3})
    job = user.job(job_id)
    assert job["status"] == "completed"
    assert job["exitCode"] == 0
    assert job["output"] == {"rows": 3}
    assert job["completedAt"] and job["startedAt"] and job["acknowledgedAt"]
    assert job["durationMs"] is not None and job["durationMs"] >= 0


# -- stats -----------------------------------------------------------------------


def counts(user: UserClient) -> dict[str, int]:
    body = stats_of(user)
    return {key: body[key] for key in COUNT_KEYS}


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """How each count moved (tests share the module's user, so compare)."""
    return {key: after[key] - before[key] for key in before}


def test_stats_has_counts_trends_and_previous(user):
    body = stats_of(user)
    assert set(body) == STATS_KEYS
    assert set(body["previous"]) == set(COUNT_KEYS)


def test_stats_of_a_new_user_are_zero_with_no_trend(make_user):
    body = stats_of(make_user())
    assert [body[k] for k in COUNT_KEYS] == [0] * 5
    assert [body[k] for k in ("pendingTrend", "runningTrend", "completedTrend", "failedTrend", "partialTrend")] == [None] * 5
    assert body["previous"] == dict.fromkeys(COUNT_KEYS, 0)


def test_stats_count_pending_jobs(user):
    before = counts(user)
    event = user.create_event()
    user.execute(event["id"])
    user.execute(event["id"])
    assert delta(before, counts(user)) == {"pending": 2, "running": 0, "completedToday": 0, "failedToday": 0, "partialToday": 0}


def test_stats_count_a_claimed_job_as_running_not_pending(user, worker):
    before = counts(user)
    job_id, attempt = claim(worker, user)
    assert delta(before, counts(user)) == {"pending": 0, "running": 1, "completedToday": 0, "failedToday": 0, "partialToday": 0}
    finish(worker, job_id, attempt)


def test_stats_count_a_running_job_as_running(user, worker):
    before = counts(user)
    job_id, attempt = start(worker, user)
    assert delta(before, counts(user)) == {"pending": 0, "running": 1, "completedToday": 0, "failedToday": 0, "partialToday": 0}
    finish(worker, job_id, attempt)


def test_stats_count_a_completed_job_in_completed_today(user, worker):
    before = counts(user)
    job_id, attempt = start(worker, user)
    finish(worker, job_id, attempt)
    assert delta(before, counts(user)) == {"pending": 0, "running": 0, "completedToday": 1, "failedToday": 0, "partialToday": 0}


def test_stats_count_a_failed_job_in_failed_today(user, worker):
    before = counts(user)
    job_id, attempt = start(worker, user)
    finish(worker, job_id, attempt, "failed", exitCode=1, error="boom")
    assert delta(before, counts(user)) == {"pending": 0, "running": 0, "completedToday": 0, "failedToday": 1, "partialToday": 0}


def test_stats_count_a_timed_out_job_in_failed_today(user, worker):
    before = counts(user)
    job_id, attempt = start(worker, user)
    finish(worker, job_id, attempt, "timed_out")
    assert delta(before, counts(user)) == {"pending": 0, "running": 0, "completedToday": 0, "failedToday": 1, "partialToday": 0}


def test_stats_count_a_partial_job_in_partial_today_not_failed(user, worker):
    before = counts(user)
    job_id, attempt = start(worker, user)
    finish(worker, job_id, attempt, "partial", exitCode=1, error="1 of 2 servers failed")
    assert delta(before, counts(user)) == {"pending": 0, "running": 0, "completedToday": 0, "failedToday": 0, "partialToday": 1}
    assert user.http.get(f"/api/v1/jobs/{job_id}").json()["status"] == "partial"


def test_stats_do_not_count_a_cancelled_pending_job(user):
    before = counts(user)
    job_id = user.execute(user.create_event()["id"])
    user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    assert delta(before, counts(user)) == {"pending": 0, "running": 0, "completedToday": 0, "failedToday": 0, "partialToday": 0}


def test_stats_do_not_count_a_cancelled_running_job_as_failed(user, worker):
    before = counts(user)
    job_id, attempt = start(worker, user)
    user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    finish(worker, job_id, attempt, "cancelled")
    assert delta(before, counts(user)) == {"pending": 0, "running": 0, "completedToday": 0, "failedToday": 0, "partialToday": 0}


# -- logs ------------------------------------------------------------------------


def test_logs_are_returned_in_seq_order(user, worker):
    job_id, attempt = start(worker, user)
    worker.logs(job_id, attempt, [log_line(n) for n in (3, 1, 5, 2, 4)])
    body = user.http.get(f"/api/v1/jobs/{job_id}/logs").json()
    assert [line["seq"] for line in body["lines"]] == [1, 2, 3, 4, 5]
    assert [line["line"] for line in body["lines"]] == [f"line {n}" for n in range(1, 6)]
    finish(worker, job_id, attempt)


def test_logs_after_seq_return_only_later_lines_in_order(user, worker):
    job_id, attempt = start(worker, user)
    worker.logs(job_id, attempt, [log_line(n) for n in range(1, 6)])
    body = user.http.get(f"/api/v1/jobs/{job_id}/logs", params={"after_seq": 2}).json()
    assert [line["seq"] for line in body["lines"]] == [3, 4, 5]
    assert body["lastSeq"] == 5
    finish(worker, job_id, attempt)


def test_logs_after_the_last_seq_are_empty_and_keep_last_seq(user, worker):
    job_id, attempt = start(worker, user)
    worker.logs(job_id, attempt, [log_line(n) for n in range(1, 4)])
    body = user.http.get(f"/api/v1/jobs/{job_id}/logs", params={"after_seq": 3}).json()
    assert body["lines"] == []
    assert body["lastSeq"] == 3
    finish(worker, job_id, attempt)


def test_logs_polling_with_last_seq_misses_nothing(user, worker):
    job_id, attempt = start(worker, user)
    worker.logs(job_id, attempt, [log_line(1), log_line(2)])
    first = user.http.get(f"/api/v1/jobs/{job_id}/logs").json()
    worker.logs(job_id, attempt, [log_line(3), log_line(4)])
    second = user.http.get(f"/api/v1/jobs/{job_id}/logs", params={"after_seq": first["lastSeq"]}).json()
    assert [line["seq"] for line in first["lines"] + second["lines"]] == [1, 2, 3, 4]
    finish(worker, job_id, attempt)


def test_logs_keep_stream_and_text_verbatim(user, worker):
    job_id, attempt = start(worker, user)
    text = "<b>'; DROP TABLE execution_logs; --</b> ünï 🚀"
    worker.logs(job_id, attempt, [log_line(1, text, "stderr")])
    line = user.http.get(f"/api/v1/jobs/{job_id}/logs").json()["lines"][0]
    assert (line["stream"], line["line"]) == ("stderr", text)
    assert line["timestamp"]
    finish(worker, job_id, attempt)


def test_logs_limit_caps_the_lines_returned(user, worker):
    job_id, attempt = start(worker, user)
    worker.logs(job_id, attempt, [log_line(n) for n in range(1, 6)])
    body = user.http.get(f"/api/v1/jobs/{job_id}/logs", params={"limit": 2}).json()
    assert [line["seq"] for line in body["lines"]] == [1, 2]
    assert body["lastSeq"] == 2
    finish(worker, job_id, attempt)


def test_logs_of_a_job_without_output_are_empty(user):
    job_id = user.execute(user.create_event()["id"])
    body = user.http.get(f"/api/v1/jobs/{job_id}/logs").json()
    assert body["lines"] == []
    assert body["lastSeq"] == 0
    assert body["complete"] is False


def test_logs_say_complete_once_the_job_has_ended(user, worker):
    job_id, attempt = start(worker, user)
    worker.logs(job_id, attempt, [log_line(1)])
    finish(worker, job_id, attempt)
    body = user.http.get(f"/api/v1/jobs/{job_id}/logs").json()
    assert body["complete"] is True
    assert body["status"] == "completed"


def test_logs_with_negative_after_seq_are_422(user):
    job_id = user.execute(user.create_event()["id"])
    assert user.http.get(f"/api/v1/jobs/{job_id}/logs", params={"after_seq": -1}).status_code == 422


def test_logs_of_unknown_job_are_404(user):
    assert user.http.get("/api/v1/jobs/job_doesnotexist/logs").status_code == 404


# -- cancel ----------------------------------------------------------------------


def test_cancel_pending_job_ends_it_cancelled(user):
    job_id = user.execute(user.create_event()["id"])
    response = user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"


def test_cancelled_pending_job_is_stamped(user):
    job_id = user.execute(user.create_event()["id"])
    user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    job = user.job(job_id)
    assert job["status"] == "cancelled"
    assert job["completedAt"]


def test_cancelled_pending_job_is_never_claimed(user, worker):
    job_id = user.execute(user.create_event()["id"])
    user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    claimed = worker.claim(limit=50)
    assert job_id not in {job["id"] for job in claimed}


def test_cancel_running_job_requests_cancellation(user, worker):
    job_id, attempt = start(worker, user)
    response = user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "running"
    assert body["cancelRequested"] is True
    finish(worker, job_id, attempt, "cancelled")


def test_cancel_running_job_is_reported_by_heartbeat(user, worker):
    job_id, attempt = start(worker, user)
    user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    response = worker.heartbeat([(job_id, attempt)])
    assert response.status_code == 200, response.text
    assert response.json()["cancel"] == [job_id]
    finish(worker, job_id, attempt, "cancelled")


def test_cancel_running_job_ends_cancelled_when_worker_completes_it(user, worker):
    job_id, attempt = start(worker, user)
    user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    finish(worker, job_id, attempt, "cancelled")
    job = user.job(job_id)
    assert job["status"] == "cancelled"
    assert job["completedAt"]


def test_cancel_acknowledged_job_is_reported_by_heartbeat(user, worker):
    job_id, attempt = claim(worker, user)
    assert user.http.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 200
    assert worker.heartbeat([(job_id, attempt)]).json()["cancel"] == [job_id]
    finish(worker, job_id, attempt, "cancelled")


def test_cancel_requested_job_tells_the_worker_when_it_marks_running(user, worker):
    job_id, attempt = claim(worker, user)
    user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    response = worker.running(job_id, attempt)
    assert response.status_code == 200
    assert response.json()["cancel"] is True
    finish(worker, job_id, attempt, "cancelled")


def test_cancel_completed_job_is_409(user, worker):
    job_id, attempt = start(worker, user)
    finish(worker, job_id, attempt)
    response = user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    assert response.status_code == 409
    assert response.json()["error"]["message"]


def test_cancel_completed_job_leaves_it_completed(user, worker):
    job_id, attempt = start(worker, user)
    finish(worker, job_id, attempt)
    user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    assert user.job(job_id)["status"] == "completed"


def test_cancel_cancelled_job_is_409(user):
    job_id = user.execute(user.create_event()["id"])
    user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    assert user.http.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 409


def test_cancel_unknown_job_is_404(user):
    assert user.http.post("/api/v1/jobs/job_doesnotexist/cancel").status_code == 404

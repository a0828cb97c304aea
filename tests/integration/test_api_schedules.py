"""Schedules over HTTP: bad input refused with a message that says what is
wrong, previews in the schedule's time zone, pause/resume through PATCH.

The app under test runs its scheduler: every schedule here starts a year
ahead (or is refused), so none of them fires during the session."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.integration.shared_users import cancel_open_jobs

FAR = (datetime.now(timezone.utc) + timedelta(days=365)).replace(minute=0, second=0, microsecond=0)


def refused(response, field: str) -> str:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    if "fields" in error and isinstance(error["fields"], dict):
        return error["fields"][field]
    return error["message"]


@pytest.mark.parametrize(
    ("fields", "field", "expected"),
    [
        ({"scheduleType": "cron", "cronExpression": "*/5 * *"}, "cronExpression", "cron expression must have 5 or 6 fields"),
        ({"scheduleType": "cron", "cronExpression": "0 25 * * *"}, "cronExpression", "hour '25' is not valid (0-23)"),
        ({"scheduleType": "interval", "intervalSeconds": 5}, "intervalSeconds", "interval must be at least 10 seconds; got 5"),
        ({"scheduleType": "cron", "cronExpression": "* * * * *", "timezone": "Europe/Atlantis"}, "timezone",
         "unknown time zone 'Europe/Atlantis'"),
        ({"scheduleType": "once", "runAt": "2020-01-01T00:00:00Z"}, "runAt", "is in the past"),
        ({"scheduleType": "cron", "cronExpression": "* * * * *", "timezone": ""}, "timezone", "unknown time zone ''"),
        ({"scheduleType": "interval", "intervalSeconds": 10**30}, "intervalSeconds", "interval must be at most"),
    ],
)
def test_bad_schedules_are_refused_with_a_clear_message(user, fields, field, expected):
    response = user.http.post("/api/v1/events", json={"name": "bad", "type": "bash", "script": "true", **fields})
    assert expected in refused(response, field)


@pytest.mark.parametrize(
    ("fields", "field", "expected"),
    [
        ({"scheduleType": "cron", "cronExpression": "nope"}, "cronExpression", "cron expression must have 5 or 6 fields"),
        ({"scheduleType": "interval", "intervalSeconds": 9}, "intervalSeconds", "interval must be at least 10 seconds; got 9"),
        ({"scheduleType": "cron", "cronExpression": "0 9 * * *", "timezone": "Moon/Base"}, "timezone",
         "unknown time zone 'Moon/Base'"),
        ({"scheduleType": "once", "runAt": "2020-01-01T00:00:00Z"}, "runAt", "is in the past"),
    ],
)
def test_bad_workflow_schedules_are_refused_with_a_clear_message(user, fields, field, expected):
    step = user.create_event()
    response = user.http.post("/api/v1/workflows", json={"name": "bad", "steps": [{"name": "a", "eventId": step["id"]}],
                                                         **fields})
    assert expected in refused(response, field)
    user.http.delete(f"/api/v1/events/{step['id']}")


@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/workflows"])
def test_negative_max_executions_is_refused_for_events_and_workflows(user, path):
    body = {"name": "bad", "maxExecutions": -1, "scheduleType": "interval", "intervalSeconds": 60}
    if path.endswith("events"):
        body.update(type="bash", script="true")
    else:
        body["steps"] = [{"name": "a", "eventId": user.create_event()["id"]}]
    response = user.http.post(path, json=body)
    assert response.status_code == 422, response.text
    assert "must be 0 (no limit) or a positive number of runs; got -1" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"scheduleType": "cron", "cronExpression": "0 0 * * *", "startAt": "9999-12-31T23:59:59Z"}, "startAt"),
        ({"scheduleType": "once", "runAt": "9999-12-31T23:59:59-12:00"}, "runAt"),
        ({"scheduleType": "interval", "intervalSeconds": 60, "maxExecutions": 10**30}, "maxExecutions"),
    ],
)
def test_out_of_range_schedule_values_are_refused_not_crashed_on(user, fields, expected):
    for path in ("/api/v1/events", "/api/v1/schedules/preview"):
        body = {"name": "far", "type": "bash", "script": "true", **fields} if path.endswith("events") else fields
        response = user.http.post(path, json=body)
        assert response.status_code == 422, (path, response.text)
        assert expected in response.json()["error"]["message"], (path, response.text)


def test_negative_max_executions_is_refused(user):
    response = user.http.post("/api/v1/events", json={"name": "bad", "type": "bash", "script": "true", "maxExecutions": -1})
    assert response.status_code == 422
    assert "maxExecutions" in response.json()["error"]["message"]
    assert "must be 0 (no limit) or a positive number of runs; got -1" in response.json()["error"]["message"]


def test_a_bad_edit_is_refused_and_changes_nothing(user):
    event = user.create_event(scheduleType="interval", intervalSeconds=3600, startAt=FAR.isoformat())
    response = user.http.patch(f"/api/v1/events/{event['id']}", json={"intervalSeconds": 3})
    assert "at least 10 seconds" in refused(response, "intervalSeconds")
    assert user.http.get(f"/api/v1/events/{event['id']}").json()["intervalSeconds"] == 3600
    user.http.delete(f"/api/v1/events/{event['id']}")


def test_event_preview_lists_the_next_five_fire_times_in_its_zone(user):
    event = user.create_event(scheduleType="cron", cronExpression="0 9 * * 1-5", timezone="Europe/Berlin",
                              startAt=FAR.isoformat())
    try:
        assert event["nextFireAt"] is not None
        body = user.http.get(f"/api/v1/events/{event['id']}/schedule/preview").json()
        assert body["timezone"] == "Europe/Berlin" and len(body["fireTimes"]) == 5
        for shown in body["fireTimes"]:
            local = datetime.fromisoformat(shown)
            assert local.strftime("%H:%M") == "09:00" and local.weekday() < 5
            assert shown.endswith(("+01:00", "+02:00"))
        assert datetime.fromisoformat(body["fireTimes"][0]) == datetime.fromisoformat(event["nextFireAt"].replace("Z", "+00:00"))
        assert len(user.http.get(f"/api/v1/events/{event['id']}/schedule/preview", params={"count": 2}).json()["fireTimes"]) == 2
    finally:
        user.http.delete(f"/api/v1/events/{event['id']}")


def test_draft_preview_shows_a_schedule_before_it_is_saved(user):
    response = user.http.post("/api/v1/schedules/preview", json={
        "scheduleType": "cron", "cronExpression": "30 2 * * *", "timezone": "America/New_York",
        "startAt": FAR.isoformat(), "count": 3,
    })
    assert response.status_code == 200, response.text
    times = response.json()["fireTimes"]
    assert len(times) == 3 and all("T02:30:00" in t or "T03:30:00" in t for t in times)
    assert all(t.endswith(("-05:00", "-04:00")) for t in times)


def test_draft_preview_of_an_interval(user):
    response = user.http.post("/api/v1/schedules/preview", json={
        "scheduleType": "interval", "intervalSeconds": 600, "startAt": FAR.isoformat(),
    })
    utc = [datetime.fromisoformat(t) for t in response.json()["fireTimes"]]
    assert [b - a for a, b in zip(utc, utc[1:])] == [timedelta(minutes=10)] * 4


def test_draft_preview_refuses_what_a_save_would(user):
    response = user.http.post("/api/v1/schedules/preview", json={"scheduleType": "cron", "cronExpression": "1 2 3"})
    assert "must have 5 or 6 fields" in refused(response, "cronExpression")


def test_pause_and_resume_through_patch(user):
    event = user.create_event(scheduleType="interval", intervalSeconds=60, startAt=FAR.isoformat())
    try:
        paused = user.http.patch(f"/api/v1/events/{event['id']}", json={"status": "paused"}).json()
        assert paused["nextFireAt"] is None
        resumed = user.http.patch(f"/api/v1/events/{event['id']}", json={"status": "active"}).json()
        assert resumed["nextFireAt"] == event["nextFireAt"]
    finally:
        user.http.delete(f"/api/v1/events/{event['id']}")


def test_workflow_schedule_round_trip_and_preview(user):
    step = user.create_event()
    body = {
        "name": "scheduled flow", "steps": [{"name": "a", "eventId": step["id"]}],
        "scheduleType": "cron", "cronExpression": "15 6 * * *", "timezone": "Asia/Kolkata", "startAt": FAR.isoformat(),
        "overlapPolicy": "queue", "misfirePolicy": "skip", "maxExecutions": 3,
    }
    created = user.http.post("/api/v1/workflows", json=body)
    assert created.status_code == 201, created.text
    workflow = created.json()
    try:
        assert (workflow["scheduleType"], workflow["overlapPolicy"], workflow["maxExecutions"]) == ("cron", "queue", 3)
        assert workflow["nextFireAt"] is not None
        preview = user.http.get(f"/api/v1/workflows/{workflow['id']}/schedule/preview").json()
        assert len(preview["fireTimes"]) == 3  # maxExecutions leaves three runs
        assert all(t.endswith("T06:15:00+05:30") for t in preview["fireTimes"])
        bad = user.http.put(f"/api/v1/workflows/{workflow['id']}", json={**body, "cronExpression": "nope"})
        assert "must have 5 or 6 fields" in refused(bad, "cronExpression")
    finally:
        user.http.delete(f"/api/v1/workflows/{workflow['id']}")


def test_misfire_run_once_and_overlap_skip_are_the_defaults(user):
    event = user.create_event(scheduleType="interval", intervalSeconds=3600, startAt=FAR.isoformat())
    try:
        assert (event["misfirePolicy"], event["overlapPolicy"], event["maxExecutions"]) == ("run_once", "skip", 0)
    finally:
        user.http.delete(f"/api/v1/events/{event['id']}")


def test_deleting_an_event_removes_its_schedule(user):
    event = user.create_event(scheduleType="interval", intervalSeconds=60, startAt=FAR.isoformat())
    assert user.http.delete(f"/api/v1/events/{event['id']}").status_code == 204
    assert user.http.get(f"/api/v1/events/{event['id']}/schedule/preview").status_code == 404


def test_an_event_paused_by_max_executions_shows_why(user):
    run_at = (datetime.now(timezone.utc) + timedelta(seconds=2)).replace(microsecond=0) + timedelta(seconds=1)
    event = user.create_event(scheduleType="once", runAt=run_at.isoformat(), maxExecutions=1, overlapPolicy="allow")
    try:
        assert event["pausedReason"] is None
        deadline = time.monotonic() + 30
        while (shown := user.http.get(f"/api/v1/events/{event['id']}").json())["status"] != "paused":
            assert time.monotonic() < deadline, shown
            time.sleep(0.25)
        assert shown["executionCount"] == 1 and shown["nextFireAt"] is None
        assert shown["pausedReason"].startswith("maxExecutions reached: ran 1 of 1 times")
        resumed = user.http.patch(f"/api/v1/events/{event['id']}", json={"status": "active"})
        assert "already reached" in refused(resumed, "maxExecutions")
    finally:
        cancel_open_jobs(user)
        user.http.delete(f"/api/v1/events/{event['id']}")


def test_a_job_shows_its_retry_number(user):
    event = user.create_event()
    job = user.job(user.execute(event["id"]))
    assert job["retryNumber"] == 0 and job["retryOf"] is None

"""Rows the job pages show, built from the jobs' dicts."""

from __future__ import annotations

from cronium_app.display.rows import job_row

JOB = {"id": "job_1", "status": "running", "eventId": 7, "eventName": "Nightly report"}


def test_a_job_of_a_deleted_event_names_no_event_page():
    row = job_row({**JOB, "eventId": None, "eventName": None}, "UTC")
    assert (row["event_name"], row["event_href"]) == ("deleted event", "")

"""Rows the job pages show, built from the jobs' dicts."""

from __future__ import annotations

import pytest

from cronium_app.display.rows import job_row, job_view

JOB = {"id": "job_1", "status": "running", "eventId": 7, "eventName": "Nightly report"}


@pytest.mark.parametrize(
    ("names", "worker"),
    [
        ({"workerId": "worker-a"}, "worker-a"),
        # The name the job's dict used before `workerId`.
        ({"orchestratorId": "worker-b"}, "worker-b"),
        ({"workerId": "worker-a", "orchestratorId": "worker-b"}, "worker-a"),
        ({}, "—"),
    ],
)
def test_the_worker_of_a_job_is_shown_in_its_row_and_its_page(names, worker):
    job = {**JOB, **names}
    assert (job_row(job, "UTC")["worker"], job_view(job, "UTC")["worker"]) == (worker, worker)


def test_a_job_of_a_deleted_event_names_no_event_page():
    row = job_row({**JOB, "eventId": None, "eventName": None}, "UTC")
    assert (row["event_name"], row["event_href"]) == ("deleted event", "")

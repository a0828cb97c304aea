"""The worker runs each script type in a container and its output appears."""

from __future__ import annotations

import pytest

from tests.support.clients import job_lines, wait_for_job


@pytest.mark.parametrize(
    "kind,script,expected",
    [
        ("bash", "echo hello from bash", "hello from bash"),
        ("python", "print('hello from python')", "hello from python"),
        ("node", "console.log('hello from node')", "hello from node"),
    ],
)
def test_each_script_type_runs_and_its_output_appears(running_worker, worker_user, kind, script, expected):
    job_id = worker_user.execute(worker_user.create_event(type=kind, script=script)["id"])
    job = wait_for_job(worker_user, job_id)
    assert job["status"] == "completed" and job["exitCode"] == 0
    assert [line["line"] for line in job_lines(worker_user, job_id)] == [expected]

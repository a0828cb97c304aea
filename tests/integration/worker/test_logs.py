"""Live logs: streams, order, lines while running, long lines, a missing
final newline, and env vars passed in but never shown by the API."""

from __future__ import annotations

import secrets
import time

import pytest

from cronium_app.jobs.status import TERMINAL
from tests.integration.worker.jobkit import Survival, brief, parse_ts, submit, texts
from tests.support.clients import job_lines, wait_for_job

CONTINUED = " [line continues]"
MANY = 20_000
LONG = 100_000
SECRET = f"s3cr3t-{secrets.token_hex(8)}"
# Characters a shell would mangle if the value were spliced into a command line.
TRICKY = "a b 'q' \"dq\" $HOME `id` ; | & * \\ end"

TICKS = """\
import time
for i in range(1, 16):
    print(f"tick {i}", flush=True)
    time.sleep(0.2)
"""


@pytest.fixture(scope="module")
def jobs(running_worker, worker_user) -> dict[str, str]:
    u = worker_user
    return {
        "many": submit(u, f"seq 1 {MANY}", name="many lines"),
        "streams": submit(u, "echo out-1; echo err-1 >&2; echo out-2; echo err-2 >&2", name="two streams"),
        "long": submit(u, f"import sys\nsys.stdout.write('a' * {LONG})\n", kind="python", name="one long line"),
        "no_newline": submit(u, "printf 'first\\nlast without newline'", name="no final newline"),
        "env": submit(
            u, 'echo "MY_VAR=$MY_VAR"; echo "TRICKY=$TRICKY"', name="env vars",
            envVars={"MY_VAR": SECRET, "TRICKY": TRICKY},
        ),
    }


@pytest.fixture(scope="module")
def survival(worker_user, running_worker) -> Survival:
    return Survival(worker_user, running_worker)


def test_lines_appear_while_the_job_is_still_running(jobs, worker_user, survival):
    job_id = submit(worker_user, TICKS, kind="python", name="ticks", timeoutSeconds=60)
    seen_while_running: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lines = texts(job_lines(worker_user, job_id))
        status = worker_user.job(job_id)["status"]  # asked after the lines
        if status == "running" and lines:
            seen_while_running = lines
            break
        if status in TERMINAL:
            break
        time.sleep(0.05)
    assert seen_while_running, "no line was visible while the job ran"
    assert 1 <= len(seen_while_running) < 15
    assert seen_while_running == [f"tick {i}" for i in range(1, len(seen_while_running) + 1)]

    job = wait_for_job(worker_user, job_id, timeout=60)
    lines = job_lines(worker_user, job_id)
    assert job["status"] == "completed" and job["exitCode"] == 0, (job["status"], job["error"], lines[-5:])
    assert texts(lines, "stdout") == [f"tick {i}" for i in range(1, 16)]
    stamps = [parse_ts(item["timestamp"]) for item in lines]
    assert stamps == sorted(stamps)
    assert (stamps[-1] - stamps[0]).total_seconds() >= 2.0  # stamped as produced, not at exit
    survival.check(job)


def test_stdout_and_stderr_are_marked_with_their_stream(jobs, worker_user, survival):
    job = wait_for_job(worker_user, jobs["streams"], timeout=60)
    assert job["status"] == "completed" and job["exitCode"] == 0, brief(job)
    lines = job_lines(worker_user, job["id"])
    assert texts(lines, "stdout") == ["out-1", "out-2"]
    assert texts(lines, "stderr") == ["err-1", "err-2"]
    assert {item["stream"] for item in lines} == {"stdout", "stderr"}
    survival.check(job)


def test_twenty_thousand_lines_are_all_stored_in_order(jobs, worker_user, survival):
    job = wait_for_job(worker_user, jobs["many"], timeout=90)
    assert job["status"] == "completed" and job["exitCode"] == 0, brief(job)
    lines = job_lines(worker_user, job["id"])
    assert len(lines) == MANY
    assert [item["seq"] for item in lines] == list(range(1, MANY + 1))
    assert texts(lines) == [str(i) for i in range(1, MANY + 1)]
    assert {item["stream"] for item in lines} == {"stdout"}
    stamps = [parse_ts(item["timestamp"]) for item in lines]
    assert stamps == sorted(stamps)
    survival.check(job)


def test_a_very_long_line_is_split_with_a_continuation_marker(jobs, worker_user, survival):
    job = wait_for_job(worker_user, jobs["long"], timeout=60)
    assert job["status"] == "completed" and job["exitCode"] == 0, brief(job)
    pieces = texts(job_lines(worker_user, job["id"]), "stdout")
    assert len(pieces) > 1
    assert all(piece.endswith(CONTINUED) for piece in pieces[:-1])
    assert not pieces[-1].endswith(CONTINUED)
    assert "".join(piece.removesuffix(CONTINUED) for piece in pieces) == "a" * LONG
    assert max(len(piece) for piece in pieces) <= 16 * 1024  # what the app accepts per line
    survival.check(job)


def test_output_without_a_final_newline_is_kept(jobs, worker_user, survival):
    job = wait_for_job(worker_user, jobs["no_newline"], timeout=60)
    assert job["status"] == "completed" and job["exitCode"] == 0, brief(job)
    assert texts(job_lines(worker_user, job["id"])) == ["first", "last without newline"]
    survival.check(job)


def test_env_vars_reach_the_script_and_are_redacted_in_the_api(jobs, worker_user, survival):
    job_id = jobs["env"]
    job = wait_for_job(worker_user, job_id, timeout=60)
    assert job["status"] == "completed" and job["exitCode"] == 0, brief(job)
    assert texts(job_lines(worker_user, job_id)) == [f"MY_VAR={SECRET}", f"TRICKY={TRICKY}"]

    assert job["execution"]["env"] == {"MY_VAR": "***", "TRICKY": "***"}
    body = worker_user.http.get(f"/api/v1/jobs/{job_id}")
    assert body.status_code == 200 and SECRET not in body.text
    listing = worker_user.http.get("/api/v1/jobs", params={"limit": 100})
    assert listing.status_code == 200 and SECRET not in listing.text
    survival.check(job)

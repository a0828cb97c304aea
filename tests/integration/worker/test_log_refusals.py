"""Log batches the app refuses (413) are a problem of those lines, not of the
job: the app here stores lines of at most 200 characters in batches of at
most 10, while its worker keeps its own larger caps (8192 characters, 2000
lines). Every job still ends once, with its result, and the log keeps its
numbering, a short note standing where a refused line was."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.integration.worker.jobkit import app_with, brief, submit
from tests.support.app_server import AppServer
from tests.support.clients import UserClient, job_lines, wait_for_job
from tests.support.worker_process import WorkerProcess

APP_LINE_MAX = 200
APP_BATCH_MAX = 10
NOTE = "[a log line was lost here: the app refused it (413)]"


@pytest.fixture(scope="module")
def worker_app() -> Iterator[AppServer]:
    env = {"CRONIUM_LOG_LINE_MAX_CHARS": str(APP_LINE_MAX), "CRONIUM_LOG_BATCH_MAX_LINES": str(APP_BATCH_MAX)}
    with app_with("cronium_log_refusals", env) as server:
        yield server


@pytest.fixture(scope="module")
def worker(worker_app: AppServer) -> Iterator[WorkerProcess]:
    with WorkerProcess(worker_app.url, concurrency=2) as worker:
        yield worker


def assert_ran_once(worker: WorkerProcess, job: dict) -> None:
    assert job["attempt"] == 1, brief(job)
    assert len(re.findall(rf"job {job['id']} attempt \d+: starting", worker.log_text())) == 1


def seqs_and_texts(user: UserClient, job_id: str) -> tuple[list[int], list[tuple[str, str]]]:
    lines = job_lines(user, job_id)
    return [line["seq"] for line in lines], [(line["stream"], line["line"]) for line in lines]


def test_a_script_line_the_app_refuses_costs_that_line_only(worker, worker_user):
    script = "for i in $(seq 1 30); do echo line $i; done; head -c 1000 /dev/zero | tr '\\0' x; echo; echo end"
    job = wait_for_job(worker_user, submit(worker_user, script, name="long line"), timeout=60)

    assert (job["status"], job["exitCode"], job["error"]) == ("completed", 0, None), brief(job)
    assert_ran_once(worker, job)
    seqs, texts = seqs_and_texts(worker_user, job["id"])
    assert seqs == list(range(1, 33))
    assert texts == [*(("stdout", f"line {i}") for i in range(1, 31)), ("system", NOTE), ("stdout", "end")]


def test_a_long_system_line_the_app_refuses_does_not_lose_the_result(worker, worker_user):
    # The worker's first line of an HTTP event names the URL (here some
    # 1000 characters); loopback is refused before any connection.
    url = "http://127.0.0.1:9/" + "p" * 1000
    event = worker_user.create_event(name="long url", type="http", script="", httpRequest={"method": "GET", "url": url})
    job = wait_for_job(worker_user, worker_user.execute(event["id"]), timeout=60)

    assert job["status"] == "failed" and job["error"].startswith("refused: "), brief(job)
    assert_ran_once(worker, job)
    seqs, texts = seqs_and_texts(worker_user, job["id"])
    assert seqs == [1, 2]
    assert texts == [("system", NOTE), ("system", job["error"])]

"""Workers started with default settings (no CRONIUM_WORKER_ID) on one host:
each gets an id of its own, so neither takes the other's containers for its
own leftovers, and a worker restarted after SIGKILL gets its old id back, so
that it still cleans up after its previous life.

The workers of this module share a run directory of their own (where the
id slots are), so that default workers of other test runs on this machine
do not take their slots; the app has a long lease, so that only the
restarted worker's own release can bring a killed job back quickly.
"""

from __future__ import annotations

import re
import secrets
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import docker
import pytest

from tests.integration.worker.jobkit import app_with, assert_container_gone, container_attempt, docker_client, job_containers, submit
from tests.support.app_server import AppServer
from tests.support.clients import UserClient, job_lines, wait_for_job
from tests.support.worker_process import WorkerProcess

LEASE_S = 60
WORKER_ID_LOGGED = re.compile(r"worker (\S+) starting:")


@pytest.fixture(scope="module")
def worker_app() -> Iterator[AppServer]:
    with app_with("cronium_identity_test", {"CRONIUM_LEASE_SECONDS": str(LEASE_S), "CRONIUM_SWEEP_INTERVAL": "0.5"}) as server:
        yield server


@pytest.fixture(scope="module")
def run_dir() -> Iterator[str]:
    path = tempfile.mkdtemp(prefix="cronium-identity-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def queued(worker_user: UserClient) -> Iterator[list[str]]:
    """The test's jobs: cancelled if unfinished, their containers removed."""
    job_ids: list[str] = []
    yield job_ids
    for job_id in job_ids:
        if worker_user.job(job_id)["status"] not in ("completed", "failed", "timed_out", "cancelled"):
            worker_user.http.post(f"/api/v1/jobs/{job_id}/cancel")
        for info in job_containers(job_id):
            try:
                docker_client().api.remove_container(info["Id"], force=True, v=True)
            except docker.errors.NotFound:
                pass


@pytest.fixture
def spawn(worker_app: AppServer, run_dir: str) -> Iterator[Callable[[str], WorkerProcess]]:
    """Start a default worker (no CRONIUM_WORKER_ID); `name` only names its log file."""
    started: list[WorkerProcess] = []

    def factory(name: str) -> WorkerProcess:
        worker = WorkerProcess(
            worker_app.url,
            worker_id=f"identity-{name}-{secrets.token_hex(3)}",
            concurrency=1,
            env_overrides={
                "CRONIUM_WORKER_ID": None,
                "CRONIUM_WORKER_RUN_DIR": run_dir,
                "CRONIUM_WORKER_REAP_INTERVAL": "1",
                "CRONIUM_WORKER_STOP_GRACE": "1",
            },
        )
        started.append(worker)
        return worker.start()

    yield factory
    for worker in started:
        worker.stop(timeout=20)


def worker_id(worker: WorkerProcess) -> str:
    """The id the worker took, as it logged it at start."""
    match = WORKER_ID_LOGGED.search(worker.log_text())
    assert match, worker.log_text()[-2000:]
    return match.group(1)


def ticker(count: int, every: float) -> str:
    return f'for i in $(seq 1 {count}); do echo "tick $i"; sleep {every}; done'


def running_on(user: UserClient, job_id: str, attempt: int, timeout: float = 60) -> dict[str, Any]:
    """The job once attempt `attempt` runs and has printed a line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = user.job(job_id)
        if job["status"] == "running" and job["attempt"] == attempt and len(job_lines(user, job_id)) > 0:
            return job
        time.sleep(0.1)
    raise AssertionError(f"attempt {attempt} of job {job_id} did not run within {timeout}s: {user.job(job_id)}")


def container_of(job_id: str, attempt: int) -> str:
    [info] = [c for c in job_containers(job_id) if container_attempt(c) == attempt]
    return info["Id"]


def is_running(container_id: str) -> bool:
    try:
        return bool(docker_client().api.inspect_container(container_id)["State"]["Running"])
    except docker.errors.NotFound:
        return False


def kill_9(worker: WorkerProcess) -> None:
    worker.signal(signal.SIGKILL)
    assert worker.wait(10) == -signal.SIGKILL


def removals(worker: WorkerProcess) -> list[str]:
    """The containers (short ids) the worker removed as leftovers."""
    return re.findall(r"removing leftover container (\w+)", worker.log_text())


def test_two_default_workers_get_different_ids_and_run_every_job_once(spawn, worker_user, queued):
    first, second = spawn("a"), spawn("b")
    ids = {worker_id(first), worker_id(second)}
    assert len(ids) == 2, ids
    assert all(re.fullmatch(rf"{re.escape(socket.gethostname())}-\d+", wid) for wid in ids), ids

    # Each job outlives a few reaper rounds (every second) of both workers.
    queued.extend(submit(worker_user, "echo begin; sleep 3; echo end", name=f"shared {i}") for i in range(6))
    jobs = [wait_for_job(worker_user, job_id, timeout=120) for job_id in queued]

    assert [(job["status"], job["attempt"], job["exitCode"]) for job in jobs] == [("completed", 1, 0)] * 6, jobs
    assert {job["workerId"] for job in jobs} <= ids
    for job_id in queued:
        assert [line["line"] for line in job_lines(worker_user, job_id)] == ["begin", "end"]
        started = sum(f"job {job_id} attempt 1: starting" in w.log_text() for w in (first, second))
        assert started == 1, job_id
    assert removals(first) == removals(second) == []


# Long enough that a's job still runs once b has started and taken its own,
# also on a busy machine (15 s was not, with two test sessions at once).
LONG_JOB = ticker(60, 0.5)


def test_a_worker_restarted_after_sigkill_reaps_only_its_own_previous_container(spawn, worker_user, queued):
    a = spawn("a")
    job_a = submit(worker_user, LONG_JOB, name="long on a")
    queued.append(job_a)
    assert running_on(worker_user, job_a, 1)["workerId"] == worker_id(a)
    b = spawn("b")  # a (concurrency 1) is busy: the next job is b's
    job_b = submit(worker_user, LONG_JOB, name="long on b")
    queued.append(job_b)
    assert running_on(worker_user, job_b, 1)["workerId"] == worker_id(b)
    old_a, old_b = container_of(job_a, 1), container_of(job_b, 1)

    kill_9(a)
    a2 = spawn("a2")
    assert worker_id(a2) == worker_id(a)
    a2.wait_for_log(f"removing leftover container {old_a[:12]}")
    # Given back at once and run again (the lease has a minute to go).
    assert running_on(worker_user, job_a, 2)["error"] == "attempt 1 released: its worker restarted"
    assert is_running(old_b), "the restarted worker removed the other worker's container"
    new_a = container_of(job_a, 2)

    kill_9(b)
    b2 = spawn("b2")
    assert worker_id(b2) == worker_id(b)
    b2.wait_for_log(f"removing leftover container {old_b[:12]}")
    running_on(worker_user, job_b, 2)
    assert is_running(new_a), "the restarted worker removed the other worker's container"

    time.sleep(3)  # a few more reaper rounds of both
    assert removals(a2) == [old_a[:12]] and removals(b2) == [old_b[:12]]
    for job_id in (job_a, job_b):
        job = wait_for_job(worker_user, job_id, timeout=120)
        assert (job["status"], job["attempt"], job["exitCode"]) == ("completed", 2, 0), job
        assert_container_gone(job_id, timeout=10)

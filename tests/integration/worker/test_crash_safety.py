"""Crash safety of the worker against the real app and the real Docker Engine
(issue 3, item 7): a worker killed with SIGKILL mid-job, a worker restarted
with the same id, SIGTERM within and past the grace period, the app
restarted under a running job, and a Docker Engine that is not there.

The app here has a short lease (3 s, swept every 0.5 s) so that a dead
worker's job comes back quickly; workers look for leftover containers every
second instead of every 30 s.
"""

from __future__ import annotations

import re
import secrets
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from cronium_app.jobs.status import TERMINAL
from tests.integration.worker.jobkit import remove_containers_of_workers
from tests.support.app_server import AppServer
from tests.support.clients import UserClient, job_lines, register_user, wait_for_job
from tests.support.databases import migrated_database
from tests.support.worker_process import WorkerProcess

LEASE_S = 3
LONG_LEASE_S = 30
RUN_DIR = Path("/run/cronium-worker")  # the worker's default CRONIUM_WORKER_RUN_DIR
WORKER_ENV = {
    "CRONIUM_WORKER_REAP_INTERVAL": "1",
    "CRONIUM_WORKER_STOP_GRACE": "1",
    "CRONIUM_WORKER_SHUTDOWN_GRACE": "15",
}
WORKER_PREFIX = f"crash-{secrets.token_hex(2)}"


def ticker(count: int, every: float, word: str = "tick") -> str:
    """A bash job that prints `word 1` .. `word count`, one line per `every` s."""
    return f'for i in $(seq 1 {count}); do echo "{word} $i"; sleep {every}; done'


# -- fixtures -------------------------------------------------------------------


@pytest.fixture(scope="module")
def worker_app() -> Iterator[AppServer]:
    """This module's app: its own database and a short lease."""
    with migrated_database("cronium_crash_test") as url:
        env = {"CRONIUM_LEASE_SECONDS": str(LEASE_S), "CRONIUM_SWEEP_INTERVAL": "0.5"}
        with AppServer(database_url=url, env_overrides=env) as server:
            yield server


@pytest.fixture(scope="module")
def long_lease_app() -> Iterator[AppServer]:
    """An app whose sweeper cannot requeue a job within a test: whatever
    brings a job back quickly must be the worker's own release."""
    with migrated_database("cronium_crash_long_test") as url:
        env = {"CRONIUM_LEASE_SECONDS": str(LONG_LEASE_S), "CRONIUM_SWEEP_INTERVAL": "0.5"}
        with AppServer(database_url=url, env_overrides=env) as server:
            yield server


@pytest.fixture(scope="module")
def docker_api() -> Iterator[docker.APIClient]:
    client = docker.APIClient(base_url="unix:///var/run/docker.sock", timeout=60)
    yield client
    remove_containers_of_workers(client, WORKER_PREFIX)
    client.close()


@pytest.fixture
def spawn(worker_app: AppServer) -> Iterator[Callable[..., WorkerProcess]]:
    """Start workers (as `python -m orchestrator_worker`); stop what is
    still running at the end of the test."""
    started: list[WorkerProcess] = []

    def factory(app: AppServer | None = None, *, worker_id: str | None = None, env: dict[str, str] | None = None) -> WorkerProcess:
        worker = WorkerProcess(
            (app or worker_app).url,
            worker_id=worker_id or f"{WORKER_PREFIX}-{secrets.token_hex(3)}",
            concurrency=4,
            env_overrides={**WORKER_ENV, **(env or {})},
        )
        started.append(worker)
        return worker.start()

    yield factory
    for worker in started:
        worker.stop(timeout=20)


@pytest.fixture
def queued(worker_user: UserClient) -> Iterator[list[tuple[UserClient, str]]]:
    """Jobs a test queued; any left unfinished are cancelled afterwards, so
    that no later test's worker picks them up."""
    jobs: list[tuple[UserClient, str]] = []
    yield jobs
    for user, job_id in jobs:
        if user.job(job_id)["status"] not in TERMINAL:
            user.http.post(f"/api/v1/jobs/{job_id}/cancel")


# -- helpers --------------------------------------------------------------------


def run_script(user: UserClient, queued: list, script: str, timeout_s: int = 120) -> str:
    event = user.create_event(name="crash test", type="bash", script=script, timeoutSeconds=timeout_s)
    job_id = user.execute(event["id"])
    queued.append((user, job_id))
    return job_id


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def wait_for_lines(user: UserClient, job_id: str, count: int, timeout: float = 60) -> list[dict[str, Any]]:
    return wait_until(
        lambda: (lines := job_lines(user, job_id)) and len(lines) >= count and lines,
        timeout, f"{count} log lines of job {job_id}",
    )


def job_containers(api: docker.APIClient, job_id: str) -> dict[str, dict[str, Any]]:
    """The job's containers (running or not, cold or warm), by name."""
    found = api.containers(all=True, filters={"name": f"^/cronium-{job_id}-a[0-9]+$"})
    return {info["Names"][0].lstrip("/"): info for info in found}


def container_name(job_id: str, attempt: int) -> str:
    return f"cronium-{job_id}-a{attempt}"


def assert_contiguous(lines: list[dict[str, Any]]) -> None:
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1)), [line["seq"] for line in lines]


def kill_9(worker: WorkerProcess) -> None:
    worker.signal(signal.SIGKILL)
    assert worker.wait(10) == -signal.SIGKILL


# -- kill -9 -------------------------------------------------------------------


def test_kill_9_mid_job_then_another_worker_finishes_it_and_reaps_the_old_container(
    worker_user, spawn, queued, docker_api
):
    first = spawn()
    job_id = run_script(worker_user, queued, ticker(12, 0.5))
    wait_for_lines(worker_user, job_id, 2)
    old = job_containers(docker_api, job_id)[container_name(job_id, 1)]
    assert old["State"] == "running"

    kill_9(first)
    # The container outlives its worker: nobody is reading it now.
    assert container_name(job_id, 1) in job_containers(docker_api, job_id)

    second = spawn()
    job = wait_for_job(worker_user, job_id, timeout=90)
    assert job["status"] == "completed", job
    assert job["attempt"] == 2 and job["exitCode"] == 0
    assert job["workerId"] == second.worker_id

    # Attempt 1's lines (up to the kill), then all of attempt 2's, numbered on.
    lines = job_lines(worker_user, job_id)
    assert_contiguous(lines)
    texts = [line["line"] for line in lines]
    assert texts[-12:] == [f"tick {i}" for i in range(1, 13)]
    first_part = texts[:-12]
    assert len(first_part) >= 2 and first_part == [f"tick {i}" for i in range(1, len(first_part) + 1)]

    # The second worker's reaper removed the dead worker's container.
    wait_until(lambda: not job_containers(docker_api, job_id), 10, f"the containers of job {job_id} to be gone")
    assert (
        f"removing leftover container {old['Id'][:12]} (job {job_id} attempt 1, worker {first.worker_id})"
        in second.log_text()
    )
    assert not (RUN_DIR / f"{job_id}-a1").exists()


def test_worker_restarted_with_the_same_id_reaps_its_container_and_releases_the_job(
    long_lease_app, spawn, queued, docker_api
):
    user = register_user(long_lease_app.url)
    worker_id = f"{WORKER_PREFIX}-same-{secrets.token_hex(2)}"
    first = spawn(long_lease_app, worker_id=worker_id)
    job_id = run_script(user, queued, ticker(12, 0.5))
    wait_for_lines(user, job_id, 2)
    old = job_containers(docker_api, job_id)[container_name(job_id, 1)]

    kill_9(first)
    killed_at = time.monotonic()
    # log_text() holds only what this process wrote, though the file is shared.
    restarted = spawn(long_lease_app, worker_id=worker_id)
    wait_until(lambda: "removing leftover container" in restarted.log_text(), 30, "the startup reap")
    assert f"removing leftover container {old['Id'][:12]} (job {job_id} attempt 1, worker {worker_id})" in restarted.log_text()

    # Released at once (the lease has ~30 s to go, so the sweeper cannot be
    # what brought it back) and run again as attempt 2.
    second_run = wait_until(
        lambda: (job := user.job(job_id))["attempt"] == 2 and job["status"] == "running" and job, 20, "attempt 2 to run",
    )
    assert time.monotonic() - killed_at < LONG_LEASE_S - 5
    assert second_run["error"] == "attempt 1 released: its worker restarted"
    assert container_name(job_id, 1) not in job_containers(docker_api, job_id)
    assert not (RUN_DIR / f"{job_id}-a1").exists()

    job = wait_for_job(user, job_id, timeout=90)
    assert job["status"] == "completed" and job["attempt"] == 2, job
    assert job["workerId"] == worker_id
    lines = job_lines(user, job_id)
    assert_contiguous(lines)
    assert [line["line"] for line in lines][-12:] == [f"tick {i}" for i in range(1, 13)]


# -- SIGTERM -------------------------------------------------------------------


def test_sigterm_lets_a_running_job_finish_and_exits_0(worker_user, spawn, queued):
    worker = spawn()
    job_id = run_script(worker_user, queued, ticker(4, 0.5))  # ~2 s
    wait_for_lines(worker_user, job_id, 1)

    worker.signal(signal.SIGTERM)
    worker.wait_for_log("shutting down")
    late_id = run_script(worker_user, queued, "echo late")  # queued after SIGTERM
    assert worker.wait(30) == 0

    # Reported before the worker exited.
    job = worker_user.job(job_id)
    assert job["status"] == "completed" and job["attempt"] == 1 and job["exitCode"] == 0, job
    assert [line["line"] for line in job_lines(worker_user, job_id)] == [f"tick {i}" for i in range(1, 5)]
    # A stopping worker claims nothing new.
    late = worker_user.job(late_id)
    assert late["status"] == "pending" and late["attempt"] == 0, late
    worker_user.http.post(f"/api/v1/jobs/{late_id}/cancel")


def test_sigterm_past_the_grace_period_stops_and_releases_the_job_for_another_worker(
    worker_user, spawn, queued, docker_api
):
    worker = spawn(env={"CRONIUM_WORKER_SHUTDOWN_GRACE": "1"})
    job_id = run_script(worker_user, queued, "echo begin; sleep 30; echo end")
    wait_for_lines(worker_user, job_id, 1)

    signalled = time.monotonic()
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    assert time.monotonic() - signalled < 20  # 1 s grace + 1 s stop grace + reporting (a busy engine is slow)

    job = worker_user.job(job_id)
    assert job["status"] == "pending" and job["attempt"] == 1, job
    assert "released" in job["error"], job
    assert not job_containers(docker_api, job_id)
    released_lines = [line["line"] for line in job_lines(worker_user, job_id)]
    assert released_lines == ["begin", "the worker is shutting down; the job is released for another attempt"]

    other = spawn()
    job = wait_for_job(worker_user, job_id, timeout=120)
    assert job["status"] == "completed" and job["attempt"] == 2 and job["exitCode"] == 0, job
    assert job["workerId"] == other.worker_id
    lines = job_lines(worker_user, job_id)
    assert_contiguous(lines)
    assert [line["line"] for line in lines] == [*released_lines, "begin", "end"]


# -- the app restarted under a running job -------------------------------------------


def restart_app(app: AppServer, sig: int, stop_at: float, start_at: float) -> None:
    """Stop the app at `stop_at` and start it again (same port, same database)
    at `start_at` (time.monotonic() values)."""
    time.sleep(max(0.0, stop_at - time.monotonic()))
    app.stop(sig)
    time.sleep(max(0.0, start_at - time.monotonic()))
    app.start()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_app_restart_mid_job_loses_and_repeats_nothing(worker_app, worker_user, spawn, queued, sig):
    count = 40
    worker = spawn()
    job_id = run_script(worker_user, queued, ticker(count, 0.2, word="line"))  # ~8 s
    wait_for_lines(worker_user, job_id, 1)
    began = time.monotonic()

    restart_app(worker_app, sig, stop_at=began + 2, start_at=began + 5)

    job = wait_for_job(worker_user, job_id, timeout=90)
    assert job["status"] == "completed" and job["attempt"] == 1 and job["exitCode"] == 0, job
    lines = job_lines(worker_user, job_id)
    assert_contiguous(lines)
    assert [line["line"] for line in lines] == [f"line {i}" for i in range(1, count + 1)]
    assert {line["stream"] for line in lines} == {"stdout"}
    log = worker.log_text()
    assert "app unreachable" in log  # the outage really happened under the job
    assert len(re.findall(rf"job {job_id} attempt \d+: starting", log)) == 1


# -- no Docker Engine --------------------------------------------------------------


def test_unreachable_docker_engine_is_reported_and_nothing_is_claimed(worker_user, spawn, queued):
    job_id = run_script(worker_user, queued, "echo never")
    worker = spawn(env={"DOCKER_HOST": "unix:///tmp/no-such-docker.sock"})
    worker.wait_for_log("Docker Engine unreachable")
    time.sleep(5)  # a few rounds of retrying

    assert worker.process is not None and worker.process.poll() is None, "the worker gave up"
    errors = [line for line in worker.log_text().splitlines() if " ERROR " in line]
    assert errors and "Docker Engine unreachable at unix:///tmp/no-such-docker.sock" in errors[0], errors
    assert "no jobs will be claimed" in errors[0]
    job = worker_user.job(job_id)
    assert job["status"] == "pending" and job["attempt"] == 0, job

    worker.signal(signal.SIGTERM)
    assert worker.wait(10) == 0

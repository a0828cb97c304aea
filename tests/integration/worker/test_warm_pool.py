"""Warm single-use containers: a job that takes one is as isolated as a job
in a container made for it, no container runs two jobs, the environment
reaches the script without being in an argv or the container's config,
cancel and timeout stop a warm job, and a killed worker's warm containers
are gone once it restarts.

The worker of this module keeps two warm containers of the default profile
(the default, set explicitly so that CRONIUM_POOL_SIZE=0 in the
environment does not turn the pool off here)."""

from __future__ import annotations

import secrets
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.worker.jobkit import assert_container_gone, brief, docker_client, submit, texts, wait_for_container
from tests.support.app_server import AppServer
from tests.support.clients import UserClient, job_lines, wait_for_job
from tests.support.worker_process import WorkerProcess

POOL_ENV = {"CRONIUM_POOL_SIZE": "2", "CRONIUM_POOL_MAX_TOTAL": "4"}


@pytest.fixture(scope="module")
def pool_worker(worker_app: AppServer) -> Iterator[WorkerProcess]:
    with WorkerProcess(worker_app.url, concurrency=4, env_overrides=POOL_ENV) as worker:
        wait_for_warm(worker.worker_id, 2)
        yield worker


def warm_containers(worker_id: str) -> list[dict[str, Any]]:
    """The worker's warm containers no job has taken (by label and name)."""
    found = docker_client().api.containers(all=True, filters={"label": ["cronium.pool", f"cronium.worker={worker_id}"]})
    return [info for info in found if info["Names"][0].startswith("/cronium-pool-")]


def wait_for_warm(worker_id: str, count: int, timeout: float = 60) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while len(found := [c for c in warm_containers(worker_id) if c["State"] == "running"]) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} warm containers of {worker_id} running after {timeout}s, not {count}")
        time.sleep(0.1)
    return found


def run_warm(user: UserClient, worker: WorkerProcess, script: str, **fields: Any) -> dict[str, Any]:
    """Run a job once the pool is full again, so that it takes a warm container."""
    wait_for_warm(worker.worker_id, 2)
    job = wait_for_job(user, submit(user, script, **fields), timeout=60)
    assert job["result"]["metrics"]["warm"] is True, brief(job)
    return job


def test_a_job_sees_nothing_of_the_job_before_it_in_the_same_pool(worker_user, pool_worker):
    token = secrets.token_hex(6)
    first = run_warm(
        worker_user, pool_worker,
        f"echo {token} > /tmp/trace; echo {token} > /work/trace; export LEFT_BEHIND={token}; "
        f"(sleep 300 &) ; nohup sleep 301 >/dev/null 2>&1 & echo planted",
        envVars={"FIRST_JOB_SECRET": token},
    )
    assert first["status"] == "completed", brief(first)
    second = run_warm(
        worker_user, pool_worker,
        # The token in two halves: the script itself (in /run/cronium) must not hold it.
        f'needle="{token[:6]}""{token[6:]}"; '
        'grep -rs "$needle" /tmp /work /run/cronium && echo FOUND-FILE; '
        'env | grep -v "^needle=" | grep -q "$needle" && echo FOUND-ENV; '
        "cat /proc/[0-9]*/cmdline | tr '\\0' ' ' | grep -q 'sleep 30[01]' && echo FOUND-PROCESS; "
        "ls -A /tmp /work; echo looked",
    )
    assert second["status"] == "completed", brief(second)
    assert texts(job_lines(worker_user, second["id"])) == ["/tmp:", "", "/work:", "looked"]
    assert first["result"]["metrics"]["container_id"] != second["result"]["metrics"]["container_id"]


def test_no_container_runs_two_jobs(worker_user, pool_worker):
    event = worker_user.create_event(name="many", type="bash", script="echo $HOSTNAME")
    job_ids = [worker_user.execute(event["id"]) for _ in range(10)]
    jobs = [wait_for_job(worker_user, job_id, timeout=120) for job_id in job_ids]
    assert [job["status"] for job in jobs] == ["completed"] * 10
    ids = [job["result"]["metrics"]["container_id"] for job in jobs]
    assert len(set(ids)) == 10, ids
    hostnames = [texts(job_lines(worker_user, job["id"]))[0] for job in jobs]
    assert len(set(hostnames)) == 10, hostnames
    assert any(job["result"]["metrics"]["warm"] for job in jobs)


def test_the_environment_is_in_no_argv_and_not_in_the_container_config(worker_user, pool_worker):
    secret = f"s3cr3t-{secrets.token_hex(8)}"
    wait_for_warm(pool_worker.worker_id, 2)
    job_id = submit(
        worker_user,
        'test "$THE_SECRET" = "$EXPECTED_SECRET" && echo env-ok; '
        # Every argv first, then the search (whose own argv holds the value).
        "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done > /tmp/argv; "
        'grep -qF -- "$EXPECTED_SECRET" /tmp/argv && echo IN-ARGV; sleep 2; echo done',
        envVars={"THE_SECRET": secret, "EXPECTED_SECRET": secret},
    )
    container = wait_for_container(job_id)
    config = docker_client().api.inspect_container(container.id)["Config"]
    assert not any(secret in item for item in config.get("Env") or []), config.get("Env")
    assert secret not in " ".join(config.get("Cmd") or []) + " ".join(config.get("Entrypoint") or [])
    job = wait_for_job(worker_user, job_id, timeout=60)
    assert job["status"] == "completed" and job["result"]["metrics"]["warm"] is True, brief(job)
    assert texts(job_lines(worker_user, job_id)) == ["env-ok", "done"]


def test_a_value_the_shell_would_read_specially_arrives_unchanged(worker_user, pool_worker):
    tricky = "it's $HOME `id` \"quoted\"\nsecond line; exit 3"
    job = run_warm(worker_user, pool_worker, 'printf "%s" "$TRICKY" | od -c | head -c 0; printf "%s|" "$TRICKY"', envVars={"TRICKY": tricky})
    assert job["status"] == "completed", brief(job)
    assert "\n".join(texts(job_lines(worker_user, job["id"]))) == tricky + "|"


def test_cancel_stops_a_warm_job_and_removes_its_container(worker_user, pool_worker):
    wait_for_warm(pool_worker.worker_id, 2)
    job_id = submit(worker_user, "echo started; sleep 300", timeoutSeconds=600)
    wait_for_job(worker_user, job_id, statuses=("running",), timeout=60)
    wait_for_container(job_id)
    worker_user.http.post(f"/api/v1/jobs/{job_id}/cancel").raise_for_status()
    job = wait_for_job(worker_user, job_id, timeout=30)
    assert job["status"] == "cancelled" and job["result"]["metrics"]["warm"] is True, brief(job)
    assert_container_gone(job_id, timeout=10)


def test_a_warm_job_times_out_like_a_cold_one(worker_user, pool_worker):
    job = run_warm(worker_user, pool_worker, "echo started; sleep 300", timeoutSeconds=2)
    assert job["status"] == "timed_out", brief(job)
    assert texts(job_lines(worker_user, job["id"])) == ["started"]
    assert_container_gone(job["id"], timeout=10)


def test_a_killed_workers_warm_containers_are_gone_after_its_restart(worker_app):
    worker_id = f"test-pool-restart-{secrets.token_hex(3)}"
    first = WorkerProcess(worker_app.url, worker_id=worker_id, concurrency=2, env_overrides=POOL_ENV).start()
    try:
        before = {info["Id"] for info in wait_for_warm(worker_id, 2)}
        first.signal(signal.SIGKILL)
        first.wait(10)
        assert before <= {info["Id"] for info in warm_containers(worker_id)}  # outlived their worker
        with WorkerProcess(worker_app.url, worker_id=worker_id, concurrency=2, env_overrides=POOL_ENV) as restarted:
            restarted.wait_for_log("removing leftover warm container")
            deadline = time.monotonic() + 30
            while before & (left := {info["Id"] for info in warm_containers(worker_id)}):
                assert time.monotonic() < deadline, f"the killed worker's warm containers are still there: {before & left}"
                time.sleep(0.1)
            # Its new pool is made after the leftovers are gone.
            assert not before & {info["Id"] for info in wait_for_warm(worker_id, 2)}
        assert docker_client().api.containers(all=True, filters={"label": f"cronium.worker={worker_id}"}) == []
    finally:
        first.stop()
        for info in docker_client().api.containers(all=True, filters={"label": f"cronium.worker={worker_id}"}):
            docker_client().api.remove_container(info["Id"], force=True)

"""A job spec is data from the database, and the worker decides what it
runs: resources are clamped (a `cpus: 1e-10` the API would refuse still
gets a real CPU limit), only allowed images run (CRONIUM_ALLOWED_IMAGES),
and a container is removed with its anonymous volumes (an image's VOLUMEs),
after its job and by the reaper.

The API refuses such specs, so the tests write them into the event's row
directly before queueing a run (the job copies the event when it is made).
"""

from __future__ import annotations

import io
import secrets
import signal
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from tests.integration.worker.jobkit import (
    Survival,
    app_with,
    assert_container_gone,
    brief,
    docker_client,
    job_containers,
    texts,
    wait_for_container,
    write_event_row,
)
from tests.support.app_server import AppServer
from tests.support.clients import UserClient, job_lines, wait_for_job
from tests.support.worker_process import WorkerProcess

TEST_LABEL = "cronium.test"
TAG = secrets.token_hex(4)
VOLUME_IMAGE = f"cronium-test-volume-{TAG}:latest"
ALLOWED = {"CRONIUM_ALLOWED_IMAGES": VOLUME_IMAGE}


@pytest.fixture(scope="module")
def volume_image() -> Iterator[str]:
    """A tiny image of the test's own with a VOLUME (an anonymous volume per container)."""
    dockerfile = f"FROM cronium-runtime:latest\nVOLUME /data\nLABEL {TEST_LABEL}={TAG}\n"
    docker_client().images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=VOLUME_IMAGE, rm=True, forcerm=True)
    yield VOLUME_IMAGE
    docker_client().images.remove(VOLUME_IMAGE)


@pytest.fixture(scope="module")
def worker_app(volume_image: str) -> Iterator[AppServer]:
    with app_with("cronium_untrusted_specs", ALLOWED) as server:
        yield server


def start_worker(app: AppServer, worker_id: str | None = None) -> WorkerProcess:
    env = {**ALLOWED, "CRONIUM_WORKER_REAP_INTERVAL": "1", "CRONIUM_WORKER_STOP_GRACE": "1"}
    named = {"worker_id": worker_id} if worker_id else {}
    return WorkerProcess(app.url, concurrency=4, env_overrides=env, **named).start()


@pytest.fixture
def worker(worker_app: AppServer) -> Iterator[WorkerProcess]:
    """The test's one worker (a test that starts its own has no other)."""
    worker = start_worker(worker_app)
    yield worker
    worker.stop()


@pytest.fixture
def made_volumes() -> Iterator[list[str]]:
    """Anonymous volumes the test's containers made: removed if a test failed to see them go."""
    names: list[str] = []
    yield names
    for name in names:
        try:
            docker_client().volumes.get(name).remove(force=True)
        except docker.errors.NotFound:
            pass


def run_with_row(user: UserClient, app: AppServer, script: str, **columns: Any) -> str:
    """Queue a run of a fresh event whose row holds `columns`."""
    event = user.create_event(name="untrusted spec", type="bash", script=script)
    write_event_row(app.database_url, event["id"], **columns)
    return user.execute(event["id"])


def anonymous_volume(container) -> str:
    [mount] = [m for m in container.attrs["Mounts"] if m["Destination"] == "/data"]
    assert mount["Type"] == "volume", mount
    return mount["Name"]


def volume_exists(name: str) -> bool:
    try:
        docker_client().volumes.get(name)
        return True
    except docker.errors.NotFound:
        return False


def test_a_cpu_share_of_1e_10_runs_with_a_real_cpu_limit(worker, worker_app, worker_user):
    job_id = run_with_row(worker_user, worker_app, "sleep 2; echo done", cpus=1e-10)
    container = wait_for_container(job_id)
    host_config = docker_client().api.inspect_container(container.id)["HostConfig"]
    assert host_config["NanoCpus"] >= 10_000_000, host_config["NanoCpus"]

    job = wait_for_job(worker_user, job_id)
    assert (job["status"], job["exitCode"]) == ("completed", 0), brief(job)
    assert "the job asks for cpus 1e-10; this worker allows 0.01 to 2, so it gets 0.01" in texts(job_lines(worker_user, job_id), "system")
    Survival(worker_user, worker).check(job)


def test_memory_and_pids_limits_below_the_minimum_are_raised_to_it(worker, worker_app, worker_user):
    job_id = run_with_row(worker_user, worker_app, "sleep 2", memory_mb=0, pids_limit=-1)
    container = wait_for_container(job_id)
    host_config = docker_client().api.inspect_container(container.id)["HostConfig"]
    assert (host_config["Memory"], host_config["PidsLimit"]) == (16 * 1024 * 1024, 8)
    assert wait_for_job(worker_user, job_id)["status"] == "completed"


def test_an_image_not_allowed_is_refused_by_the_worker(worker, worker_app, worker_user):
    job_id = run_with_row(worker_user, worker_app, "echo never", image="cronium-runtime:other")
    job = wait_for_job(worker_user, job_id)

    assert job["status"] == "failed", brief(job)
    assert job["error"] == (
        f"image 'cronium-runtime:other' is not allowed here (allowed: cronium-runtime:latest, {VOLUME_IMAGE}; "
        "see CRONIUM_ALLOWED_IMAGES)"
    )
    assert texts(job_lines(worker_user, job_id)) == [job["error"]]
    assert job_containers(job_id) == []


def test_a_container_is_removed_with_its_anonymous_volumes_after_its_job(worker, worker_user, volume_image, made_volumes):
    event = worker_user.create_event(name="volume", type="bash", script="sleep 2; echo done", image=volume_image)
    job_id = worker_user.execute(event["id"])
    volume = anonymous_volume(wait_for_container(job_id))
    made_volumes.append(volume)

    job = wait_for_job(worker_user, job_id)
    assert (job["status"], job["exitCode"]) == ("completed", 0), brief(job)
    assert_container_gone(job_id, timeout=10)
    assert not volume_exists(volume)


def test_the_reaper_removes_a_dead_workers_container_with_its_volumes(worker_app, worker_user, volume_image, made_volumes):
    worker_id = f"untrusted-{secrets.token_hex(3)}"
    first = start_worker(worker_app, worker_id)
    try:
        event = worker_user.create_event(name="volume, killed", type="bash", script="echo begin; sleep 30", image=volume_image, timeoutSeconds=60)
        job_id = worker_user.execute(event["id"])
        container = wait_for_container(job_id)
        volume = anonymous_volume(container)
        made_volumes.append(volume)
        wait_for_job(worker_user, job_id, statuses=("running",))
        first.signal(signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
    finally:
        first.stop()
    # Cancelled while nobody runs it: the restarted worker's release ends it
    # (no second attempt, no second container).
    worker_user.http.post(f"/api/v1/jobs/{job_id}/cancel")
    assert volume_exists(volume)

    restarted = start_worker(worker_app, worker_id)
    try:
        restarted.wait_for_log(f"removing leftover container {container.id[:12]}")
        assert wait_for_job(worker_user, job_id)["status"] == "cancelled"
        assert job_containers(job_id) == []
        assert not volume_exists(volume)
    finally:
        restarted.stop()

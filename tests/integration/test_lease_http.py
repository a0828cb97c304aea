"""Leases end to end: the real app with a short lease and a fast sweeper."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.support.app_server import AppServer
from tests.support.clients import UserClient, WorkerClient, register_user
from tests.support.databases import migrated_database

LEASE_S = 2


@pytest.fixture(scope="module")
def short_lease_app() -> Iterator[AppServer]:
    with migrated_database("cronium_lease_test") as url:
        overrides = {"CRONIUM_LEASE_SECONDS": str(LEASE_S), "CRONIUM_SWEEP_INTERVAL": "0.3", "CRONIUM_MAX_ATTEMPTS": "2"}
        with AppServer(database_url=url, env_overrides=overrides) as server:
            yield server


@pytest.fixture
def lease_user(short_lease_app) -> UserClient:
    return register_user(short_lease_app.url)


def _wait_for_status(user: UserClient, job_id: str, wanted: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = user.job(job_id)
        if job["status"] == wanted:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} never became {wanted}; last: {job['status']}")


def test_job_of_silent_worker_returns_to_pending(short_lease_app, lease_user):
    job_id = lease_user.execute(lease_user.create_event()["id"])
    silent = WorkerClient(short_lease_app.url, "silent-worker")
    silent.claim_one(job_id)
    job = _wait_for_status(lease_user, job_id, "pending")
    assert job["workerId"] is None and job["attempt"] == 1


def test_heartbeats_keep_the_lease(short_lease_app, lease_user):
    job_id = lease_user.execute(lease_user.create_event()["id"])
    worker = WorkerClient(short_lease_app.url, "beating-worker")
    attempt = worker.claim_one(job_id)["attempt"]
    for _ in range(int(LEASE_S * 2 / 0.5)):
        assert worker.heartbeat([(job_id, attempt)]).json()["lost"] == []
        time.sleep(0.5)
    assert lease_user.job(job_id)["status"] == "acknowledged"
    assert worker.complete(job_id, attempt).status_code == 200


def test_job_fails_for_good_after_attempt_limit(short_lease_app, lease_user):
    job_id = lease_user.execute(lease_user.create_event()["id"])
    for attempt in (1, 2):
        WorkerClient(short_lease_app.url, f"doomed-{attempt}").claim_one(job_id)
        if attempt == 1:
            _wait_for_status(lease_user, job_id, "pending")
    job = _wait_for_status(lease_user, job_id, "failed")
    assert "worker lost" in job["error"]


def test_stale_attempt_completion_is_refused_over_http(short_lease_app, lease_user):
    job_id = lease_user.execute(lease_user.create_event()["id"])
    old = WorkerClient(short_lease_app.url, "old-worker")
    old_attempt = old.claim_one(job_id)["attempt"]
    _wait_for_status(lease_user, job_id, "pending")
    new = WorkerClient(short_lease_app.url, "new-worker")
    new_attempt = new.claim_one(job_id)["attempt"]
    refused = old.complete(job_id, old_attempt)
    assert refused.status_code == 409, refused.text
    assert new.complete(job_id, new_attempt).status_code == 200

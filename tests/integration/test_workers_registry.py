"""The worker registry over HTTP: what workers say in their heartbeats is
what an administrator sees at /api/v1/workers, with the jobs each holds,
and the status derived from the heartbeats (online, draining, stopped,
gone). Workers of earlier releases, which say nothing about themselves,
are listed too."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator

from datetime import timedelta

import httpx
import pytest

from cronium_app.db import read_session, write_session
from cronium_app.jobs import workers
from cronium_app.settings import Settings
from cronium_app.timeutil import utcnow
from tests.support.app_server import AppServer
from tests.support.clients import UserClient, WorkerClient, register_user
from tests.support.databases import migrated_database
from tests.support.worker_process import WorkerProcess

GONE_AFTER_S = 3
ADMIN_EMAIL = "admin-workers@example.com"
ADMIN_PASSWORD = "a long admin password"
DETAILS = {
    "host": "worker-host-1", "engineVersion": "20.10.24", "engineHost": "docker-host-1",
    "concurrency": 6, "running": 0, "state": "running", "pool": {"ready": 3, "target": 4, "profile": "default"},
}


@pytest.fixture(scope="module")
def registry_app() -> Iterator[AppServer]:
    with migrated_database("cronium_workers_test") as url:
        overrides = {
            "CRONIUM_ADMIN_EMAIL": ADMIN_EMAIL, "CRONIUM_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "CRONIUM_WORKER_GONE_AFTER": str(GONE_AFTER_S),
        }
        with AppServer(database_url=url, env_overrides=overrides) as server:
            yield server


@pytest.fixture(scope="module")
def admin(registry_app: AppServer) -> Iterator[httpx.Client]:
    deadline = time.monotonic() + 30
    while True:  # the admin is created by a start-up task, just after the app answers
        response = httpx.post(f"{registry_app.url}/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert response.status_code == 200, response.text
    with httpx.Client(base_url=registry_app.url, headers={"Authorization": f"Bearer {response.json()['token']}"}) as client:
        yield client


@contextlib.contextmanager
def worker_client(app: AppServer, prefix: str = "registry") -> Iterator[WorkerClient]:
    client = WorkerClient(app.url, f"{prefix}-{secrets.token_hex(3)}")
    try:
        yield client
    finally:
        client.http.close()


@contextlib.contextmanager
def user_client(app: AppServer) -> Iterator[UserClient]:
    user = register_user(app.url)
    try:
        yield user
    finally:
        user.http.close()


@pytest.fixture
def worker(registry_app: AppServer) -> Iterator[WorkerClient]:
    with worker_client(registry_app) as client:
        yield client


def beat(worker: WorkerClient, jobs: list[tuple[str, int]] = (), **details) -> httpx.Response:
    body = {"workerId": worker.worker_id, "jobs": [{"id": j, "attempt": a} for j, a in jobs]}
    if details:
        body["worker"] = details
    return worker.http.post("/api/internal/heartbeat", json=body)


def listed(admin: httpx.Client, worker_id: str) -> dict:
    response = admin.get("/api/v1/workers")
    assert response.status_code == 200, response.text
    found = [item for item in response.json()["items"] if item["id"] == worker_id]
    assert found, f"{worker_id} is not listed"
    return found[0]


def test_what_a_worker_says_is_what_the_admin_sees(admin, worker):
    assert beat(worker, **DETAILS).status_code == 200

    item = listed(admin, worker.worker_id)

    assert {key: item[key] for key in ("host", "engineVersion", "engineHost", "concurrency", "pool", "status")} == {
        "host": "worker-host-1", "engineVersion": "20.10.24", "engineHost": "docker-host-1",
        "concurrency": 6, "pool": {"ready": 3, "target": 4, "profile": "default"}, "status": "online",
    }
    assert item["lastHeartbeatAt"] and item["secondsSinceHeartbeat"] <= 2


def test_the_running_jobs_are_the_jobs_the_worker_holds(registry_app, admin, worker):
    with user_client(registry_app) as user:
        event_id = user.create_event()["id"]
        job_ids = [user.execute(event_id) for _ in range(2)]
    attempts: dict[str, int] = {}
    while len(attempts) < len(job_ids):  # this app's queue holds only this test's jobs
        attempts.update({job["id"]: job["attempt"] for job in worker.claim(limit=10, wait=5) if job["id"] in job_ids})

    beat(worker, list(attempts.items()), **DETAILS)
    before = listed(admin, worker.worker_id)["runningJobs"]
    for job_id, attempt in attempts.items():
        response = worker.running(job_id, attempt)
        assert response.status_code == 200, response.text
        assert worker.complete(job_id, attempt).status_code == 200
    after = listed(admin, worker.worker_id)["runningJobs"]

    assert (before, after) == (2, 0)


def test_a_worker_of_an_earlier_release_is_listed_without_details(admin, worker):
    assert beat(worker).status_code == 200

    item = listed(admin, worker.worker_id)

    assert (item["status"], item["host"], item["engineVersion"], item["pool"]) == ("online", None, None, None)


def test_a_heartbeat_without_details_keeps_what_the_worker_said_before(admin, worker):
    beat(worker, **DETAILS)
    beat(worker)
    assert listed(admin, worker.worker_id)["host"] == "worker-host-1"


def test_a_draining_worker_and_a_stopped_one(admin, worker, registry_app):
    with worker_client(registry_app) as other:
        beat(worker, **{**DETAILS, "state": "draining"})
        beat(other, **{**DETAILS, "state": "stopped"})
        statuses = (listed(admin, worker.worker_id)["status"], listed(admin, other.worker_id)["status"])
    assert statuses == ("draining", "stopped")


def test_a_worker_not_heard_from_is_gone_after_the_timeout(admin, worker):
    beat(worker, **DETAILS)
    time.sleep(GONE_AFTER_S + 1)
    gone = listed(admin, worker.worker_id)
    beat(worker, **DETAILS)
    back = listed(admin, worker.worker_id)
    assert (gone["status"], back["status"]) == ("gone", "online")


def test_online_workers_come_first(admin, worker, registry_app):
    with worker_client(registry_app, "aaa") as stopped:  # first by id
        beat(stopped, state="stopped")
    beat(worker, **DETAILS)
    statuses = [item["status"] for item in admin.get("/api/v1/workers").json()["items"]]
    assert statuses == sorted(statuses, key=("online", "draining", "stopped", "gone").index)


@pytest.mark.parametrize(
    "details",
    [
        {"state": "asleep"},
        {"concurrency": -1},
        {"host": "h" * 256},
        {"pool": {f"k{i}": i for i in range(33)}},
        {"pool": {"nested": {"a": 1}}},
        {"unknown": 1},
    ],
    ids=["state", "concurrency", "host", "pool-size", "pool-nested", "unknown-field"],
)
def test_details_out_of_bounds_are_refused(worker, details):
    assert beat(worker, **details).status_code == 422


def test_a_user_who_is_not_an_admin_may_not_list_workers(registry_app):
    with user_client(registry_app) as user:
        response = user.http.get("/api/v1/workers")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden")


def test_listing_workers_needs_a_token(registry_app):
    assert httpx.get(f"{registry_app.url}/api/v1/workers").status_code == 401


def test_workers_gone_for_longer_than_the_forget_time_are_deleted(engine):
    settings = Settings(DATABASE_URL="sqlite://", CRONIUM_WORKER_FORGET_AFTER="PT1H")
    now = utcnow()
    with write_session(engine) as session:
        workers.record(session, "w-long-gone", None, now - timedelta(hours=2))
        workers.record(session, "w-recent", None, now - timedelta(minutes=2))
    with write_session(engine) as session:
        forgotten = workers.forget_gone(session, settings, now)
    with read_session(engine) as session:
        left = {view["id"]: view["status"] for view in workers.list_workers(session, settings, now)}
    assert (forgotten, left) == (1, {"w-recent": "gone"})


def _wait_listed(admin: httpx.Client, worker_id: str, status: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        items = [item for item in admin.get("/api/v1/workers").json()["items"] if item["id"] == worker_id]
        if (items and items[0]["status"] == status) or time.monotonic() > deadline:
            assert items, f"{worker_id} was never listed"
            return items[0]
        time.sleep(0.3)


def test_a_real_worker_says_who_it_is_and_that_it_stopped(registry_app, admin):
    with WorkerProcess(app_url=registry_app.url, concurrency=3) as worker:
        online = _wait_listed(admin, worker.worker_id, "online")
        worker.stop()
        stopped = _wait_listed(admin, worker.worker_id, "stopped")
    assert (online["concurrency"], online["runningJobs"], online["status"]) == (3, 0, "online")
    assert online["host"] and online["engineVersion"] and online["engineHost"]
    assert stopped["status"] == "stopped"

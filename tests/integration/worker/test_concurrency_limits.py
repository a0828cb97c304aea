"""Concurrency limits and priorities, against the real app (issue 16):
an event's `maxConcurrent` holds with real workers and with many claimers
racing for the same jobs, the per-user limit likewise, a job over a limit
waits in `pending` and starts when a slot frees, and claims take higher
priorities first, first in first out within one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from cronium_app.jobs.status import HELD, TERMINAL
from cronium_app.models import Job
from tests.integration.worker.jobkit import docker_client, remove_containers_of_workers
from tests.support.app_server import AppServer
from tests.support.clients import UserClient, WorkerClient, register_user, wait_for_job
from tests.support.databases import migrated_database
from tests.support.worker_process import WorkerProcess

SAMPLE_EVERY_S = 0.05


@pytest.fixture(scope="module")
def limits_app() -> Iterator[AppServer]:
    """An app with a per-user limit of 3 held jobs and no worker of its own."""
    with migrated_database("cronium_conc_limits_test") as url:
        with AppServer(database_url=url, env_overrides={"CRONIUM_MAX_RUNNING_JOBS_PER_USER": "3"}) as server:
            yield server


@pytest.fixture(scope="module")
def engine(limits_app) -> Iterator[sa.Engine]:
    engine = sa.create_engine(limits_app.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def user(limits_app) -> UserClient:
    return register_user(limits_app.url)


@pytest.fixture
def fake_worker(limits_app) -> Iterator[WorkerClient]:
    client = WorkerClient(limits_app.url)
    yield client
    client.http.close()


def held_of_event(engine: sa.Engine, event_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(Job).where(Job.event_id == event_id, Job.status.in_(HELD))
        ).scalar_one()


def finish_all(worker: WorkerClient, claimed: list[dict]) -> None:
    for job in claimed:
        assert worker.complete(job["id"], job["attempt"], "completed", exitCode=0).status_code == 200


def test_claims_take_higher_priorities_first_and_fifo_within_one(user, fake_worker):
    normal = user.create_event(name="normal", type="bash", script="true")["id"]
    urgent = user.create_event(name="urgent", type="bash", script="true", priority=10)["id"]
    queued = [
        ("n1", user.execute(normal)),
        ("u1", user.execute(urgent)),
        ("n2", user.execute(normal)),
        ("low", user.execute(normal, priority=-5)),
        ("top", user.execute(normal, priority=100)),
        ("u2", user.execute(urgent)),
    ]
    assert user.job(queued[1][1])["priority"] == 10
    names = {job_id: name for name, job_id in queued}
    order = []
    for _ in queued:
        claimed = fake_worker.claim(limit=1)
        assert len(claimed) == 1
        order.append(names[claimed[0]["id"]])
        finish_all(fake_worker, claimed)
    assert order == ["top", "u1", "u2", "n1", "n2", "low"]


def test_a_job_over_its_events_limit_waits_pending_until_a_slot_frees(user, fake_worker):
    event_id = user.create_event(name="limited", type="bash", script="true", maxConcurrent=2)["id"]
    jobs = [user.execute(event_id) for _ in range(3)]
    first = fake_worker.claim(limit=10)
    assert sorted(job["id"] for job in first) == sorted(jobs[:2])
    assert fake_worker.claim(limit=10) == []
    assert user.job(jobs[2])["status"] == "pending"
    finish_all(fake_worker, first[:1])
    second = fake_worker.claim(limit=10, wait=5)
    assert [job["id"] for job in second] == [jobs[2]]
    finish_all(fake_worker, first[1:] + second)


def test_the_per_user_limit_holds_and_leaves_other_users_alone(limits_app, user, fake_worker):
    other = register_user(limits_app.url)
    mine = [user.execute(user.create_event(name=f"mine{i}", type="bash", script="true")["id"]) for i in range(5)]
    theirs = other.execute(other.create_event(name="theirs", type="bash", script="true")["id"])
    claimed = fake_worker.claim(limit=10)
    assert sorted(job["id"] for job in claimed) == sorted(mine[:3] + [theirs])
    finish_all(fake_worker, claimed)
    rest = fake_worker.claim(limit=10, wait=5)
    assert sorted(job["id"] for job in rest) == sorted(mine[3:])
    finish_all(fake_worker, rest)


def test_claimers_racing_for_a_limited_event_never_exceed_its_limit(limits_app, engine, user):
    event_id = user.create_event(name="raced", type="bash", script="true", maxConcurrent=2)["id"]
    for _ in range(12):
        user.execute(event_id)
    claimers = [WorkerClient(limits_app.url) for _ in range(8)]
    try:
        with ThreadPoolExecutor(len(claimers)) as pool:
            rounds = list(pool.map(lambda worker: worker.claim(limit=5), claimers))
        assert sum(len(claimed) for claimed in rounds) == 2
        assert held_of_event(engine, event_id) == 2
        for worker, claimed in zip(claimers, rounds):
            finish_all(worker, claimed)
        while held_of_event(engine, event_id) or user.http.get(
            "/api/v1/jobs", params={"eventId": event_id, "status": "pending"}
        ).json()["total"]:
            with ThreadPoolExecutor(len(claimers)) as pool:
                rounds = list(pool.map(lambda worker: worker.claim(limit=5), claimers))
            assert held_of_event(engine, event_id) <= 2
            for worker, claimed in zip(claimers, rounds):
                finish_all(worker, claimed)
    finally:
        for worker in claimers:
            worker.http.close()


def test_max_concurrent_2_with_20_jobs_and_2_real_workers(limits_app, engine, user):
    """Acceptance: never 3 running (sampled every 50 ms) and all 20 complete."""
    event_id = user.create_event(name="sleeper", type="bash", script="sleep 0.3", maxConcurrent=2)["id"]
    jobs = [user.execute(event_id) for _ in range(20)]
    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(held_of_event(engine, event_id))
            time.sleep(SAMPLE_EVERY_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    prefix = "limits-real"
    workers = [WorkerProcess(limits_app.url, worker_id=f"{prefix}-{i}", concurrency=4) for i in range(2)]
    try:
        for worker in workers:
            worker.start()
        finished = [wait_for_job(user, job_id, TERMINAL, timeout=180) for job_id in jobs]
    finally:
        done.set()
        sampler.join()
        for worker in workers:
            worker.stop(timeout=30)
        remove_containers_of_workers(docker_client().api, prefix)
    assert [job["status"] for job in finished] == ["completed"] * 20
    assert max(samples) == 2, samples  # the limit was reached, and never passed

"""Retries: a failed or timed-out job comes back as a new job, up to the
event's `retries`, after an exponential backoff with jitter; cancelled jobs
do not."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cronium_app.db import read_session, write_session
from cronium_app.jobs import queue
from cronium_app.jobs.retry import backoff_seconds
from cronium_app.jobs.views import job_to_dict
from cronium_app.models import Job
from cronium_app.timeutil import utcnow
from tests.support.transactions import in_transaction

WORKER = "retry-test-worker"


def hold(engine, job_id: str, attempt: int = 1, lease_s: float = 30) -> queue.WorkerRef:
    """Put a job in a worker's hands, as a claim would."""
    with write_session(engine) as session:
        session.execute(
            sa.update(Job).where(Job.id == job_id).values(
                status="running", worker_id=WORKER, attempt=attempt, acknowledged_at=utcnow(),
                lease_expires_at=utcnow() + timedelta(seconds=lease_s),
            )
        )
    return queue.WorkerRef(WORKER, attempt)


def finish(engine, settings, job_id: str, status: str) -> None:
    in_transaction(engine, queue.complete, settings, job_id, hold(engine, job_id), status=status, exit_code=1,
                   output=None, error="boom", metrics=None)


def retries_of(engine, job_id: str) -> list[Job]:
    with read_session(engine) as session:
        return list(session.execute(sa.select(Job).where(Job.retry_of == job_id)).scalars())


@pytest.mark.parametrize("status", ["failed", "timed_out"])
def test_a_failed_job_is_retried_later_with_its_number(engine, settings, make_event, make_jobs, status):
    event = make_event(retries=2)
    (job_id,) = make_jobs(1, event)
    before = utcnow()
    finish(engine, settings, job_id, status)
    (retry,) = retries_of(engine, job_id)
    assert (retry.status, retry.retry_number, retry.idempotency_key) == ("pending", 1, f"retry:{job_id}")
    base = settings.retry_backoff_base_s
    assert before + timedelta(seconds=base / 2) <= retry.scheduled_for <= utcnow() + timedelta(seconds=base)
    assert job_to_dict(retry.model_dump())["retryNumber"] == 1
    assert job_to_dict(retry.model_dump())["retryOf"] == job_id


def test_retries_stop_at_the_events_count(engine, settings, make_event, make_jobs):
    event = make_event(retries=2)
    (job_id,) = make_jobs(1, event)
    chain = [job_id]
    for _ in range(3):
        finish(engine, settings, chain[-1], "failed")
        found = retries_of(engine, chain[-1])
        if not found:
            break
        chain.append(found[0].id)
    assert len(chain) == 3  # the first run and two retries
    with read_session(engine) as session:
        numbers = [session.get(Job, job).retry_number for job in chain]
    assert numbers == [0, 1, 2]


def test_a_retry_reruns_the_failed_jobs_snapshot_and_input(engine, settings, make_event, make_jobs):
    event = make_event(retries=1)
    (job_id,) = make_jobs(1, event)
    with write_session(engine) as session:
        session.execute(sa.update(Job).where(Job.id == job_id).values(input={"n": 1}))
    finish(engine, settings, job_id, "failed")
    (retry,) = retries_of(engine, job_id)
    with read_session(engine) as session:
        original = session.get(Job, job_id)
    assert retry.execution == original.execution and retry.input == {"n": 1}


@pytest.mark.parametrize("status", ["cancelled", "completed"])
def test_cancelled_and_completed_jobs_are_not_retried(engine, settings, make_event, make_jobs, status):
    event = make_event(retries=3)
    (job_id,) = make_jobs(1, event)
    finish(engine, settings, job_id, status)
    assert retries_of(engine, job_id) == []


def test_an_event_without_retries_is_not_retried(engine, settings, make_event, make_jobs):
    (job_id,) = make_jobs(1, make_event())
    finish(engine, settings, job_id, "failed")
    assert retries_of(engine, job_id) == []


def test_a_job_failed_by_the_sweeper_is_retried(engine, settings, make_event, make_jobs):
    event = make_event(retries=1)
    (job_id,) = make_jobs(1, event)
    hold(engine, job_id, attempt=settings.max_attempts, lease_s=-1)
    in_transaction(engine, queue.sweep_expired_leases, settings)
    (retry,) = retries_of(engine, job_id)
    assert retry.retry_number == 1


def test_a_retry_claim_waits_for_its_backoff(engine, settings, make_event, make_jobs):
    event = make_event(retries=1)
    (job_id,) = make_jobs(1, event)
    finish(engine, settings, job_id, "failed")
    (retry,) = retries_of(engine, job_id)
    claimed = {job["id"] for job in in_transaction(engine, queue.claim, settings, "retry-claimer", 500)}
    assert retry.id not in claimed


def test_backoff_doubles_with_jitter_and_a_ceiling(settings):
    rng = random.Random(7)
    for number in range(1, 12):
        ceiling = min(settings.retry_backoff_max_s, settings.retry_backoff_base_s * 2 ** (number - 1))
        delay = backoff_seconds(settings, number, rng)
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(backoff_seconds(settings, 3, rng), 6) for _ in range(20)}) > 1

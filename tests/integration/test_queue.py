"""The job queue on a real database: atomic claims, the state machine,
fencing by attempt, and the lease sweeper."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cronium_app.auth.access import Access
from cronium_app.db import read_session, write_session
from cronium_app.errors import Conflict
from cronium_app.jobs import queue
from cronium_app.jobs.log_store import LogRun
from cronium_app.jobs.service import cancel_job
from cronium_app.models import Job
from cronium_app.timeutil import utcnow
from tests.support.transactions import in_transaction


def _drain(engine, settings) -> None:
    """Claim and finish whatever earlier tests left pending."""
    while jobs := in_transaction(engine, queue.claim, settings, "drain", 500):
        for job in jobs:
            in_transaction(engine, queue.complete, settings, job["id"], queue.WorkerRef("drain", job["attempt"]),
                           status="completed", exit_code=0, output=None, error=None, metrics=None)


def _status(engine, job_id: str) -> Job:
    with read_session(engine) as session:
        return session.get(Job, job_id)


def _expire_lease(engine, job_id: str) -> None:
    with write_session(engine) as session:
        session.execute(sa.update(Job).where(Job.id == job_id).values(lease_expires_at=utcnow() - timedelta(seconds=1)))


def test_eight_claimers_claim_each_of_500_jobs_exactly_once(engine, settings, make_jobs):
    _drain(engine, settings)
    created = set(make_jobs(500))
    claims: list[list[str]] = [[] for _ in range(8)]
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def claimer(index: int) -> None:
        try:
            start.wait()
            while batch := in_transaction(engine, queue.claim, settings, f"claimer-{index}", 7):
                claims[index].extend(job["id"] for job in batch)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    claimed = [job_id for batch in claims for job_id in batch]
    assert len(claimed) == len(set(claimed)) == 500
    assert set(claimed) == created


def test_claim_stamps_lease_attempt_and_worker(engine, settings, make_jobs):
    _drain(engine, settings)
    (job_id,) = make_jobs(1)
    (claimed,) = in_transaction(engine, queue.claim, settings, "w-stamp", 1)
    job = _status(engine, job_id)
    assert (claimed["id"], job.status, job.attempt, job.worker_id) == (job_id, "acknowledged", 1, "w-stamp")
    assert job.acknowledged_at is not None and job.lease_expires_at > utcnow()


def test_claim_skips_jobs_scheduled_for_later(engine, settings, make_jobs):
    _drain(engine, settings)
    (job_id,) = make_jobs(1)
    with write_session(engine) as session:
        session.execute(sa.update(Job).where(Job.id == job_id).values(scheduled_for=utcnow() + timedelta(hours=1)))
    assert in_transaction(engine, queue.claim, settings, "w-later", 10) == []


def test_claim_prefers_higher_priority(engine, settings, make_jobs):
    _drain(engine, settings)
    low, high = make_jobs(2)
    with write_session(engine) as session:
        session.execute(sa.update(Job).where(Job.id == high).values(priority=5))
    assert in_transaction(engine, queue.claim, settings, "w-prio", 1)[0]["id"] == high


def test_expired_lease_returns_job_to_pending(engine, settings, make_jobs):
    _drain(engine, settings)
    (job_id,) = make_jobs(1)
    in_transaction(engine, queue.claim, settings, "w-lost", 1)
    _expire_lease(engine, job_id)
    assert in_transaction(engine, queue.sweep_expired_leases, settings)["requeued"] == 1
    job = _status(engine, job_id)
    assert (job.status, job.worker_id, job.attempt) == ("pending", None, 1)


def test_job_fails_for_good_after_max_attempts(engine, settings, make_jobs):
    _drain(engine, settings)
    (job_id,) = make_jobs(1)
    for _ in range(settings.max_attempts):
        assert in_transaction(engine, queue.claim, settings, "w-flaky", 1)[0]["id"] == job_id
        _expire_lease(engine, job_id)
        in_transaction(engine, queue.sweep_expired_leases, settings)
    job = _status(engine, job_id)
    assert job.status == "failed" and "worker lost" in job.error


def test_completion_from_stale_attempt_is_refused(engine, settings, make_jobs):
    _drain(engine, settings)
    (job_id,) = make_jobs(1)
    first = in_transaction(engine, queue.claim, settings, "w-old", 1)[0]
    _expire_lease(engine, job_id)
    in_transaction(engine, queue.sweep_expired_leases, settings)
    second = in_transaction(engine, queue.claim, settings, "w-new", 1)[0]
    assert second["attempt"] == first["attempt"] + 1
    with pytest.raises(Conflict):
        in_transaction(engine, queue.complete, settings, job_id, queue.WorkerRef("w-old", first["attempt"]),
                       status="completed", exit_code=0, output=None, error=None, metrics=None)


def test_logs_from_stale_attempt_are_refused(engine, settings, make_jobs):
    _drain(engine, settings)
    (job_id,) = make_jobs(1)
    first = in_transaction(engine, queue.claim, settings, "w-old", 1)[0]
    _expire_lease(engine, job_id)
    in_transaction(engine, queue.sweep_expired_leases, settings)
    in_transaction(engine, queue.claim, settings, "w-new", 1)
    line = LogRun(1, "stdout", utcnow(), ["late"])
    with pytest.raises(Conflict):
        in_transaction(engine, queue.append_logs, settings, job_id, queue.WorkerRef("w-old", first["attempt"]), [line])


def test_retried_job_continues_log_numbering(engine, settings, make_jobs):
    _drain(engine, settings)
    (job_id,) = make_jobs(1)
    first = in_transaction(engine, queue.claim, settings, "w-a", 1)[0]
    lines = [LogRun(seq, "stdout", utcnow(), [f"line {seq}"]) for seq in (1, 2, 3)]
    in_transaction(engine, queue.append_logs, settings, job_id, queue.WorkerRef("w-a", first["attempt"]), lines)
    _expire_lease(engine, job_id)
    in_transaction(engine, queue.sweep_expired_leases, settings)
    assert in_transaction(engine, queue.claim, settings, "w-b", 1)[0]["logSeqStart"] == 4


def test_terminal_status_never_changes(engine, settings, make_jobs):
    _drain(engine, settings)
    (job_id,) = make_jobs(1)
    job = in_transaction(engine, queue.claim, settings, "w-term", 1)[0]
    ref = queue.WorkerRef("w-term", job["attempt"])
    in_transaction(engine, queue.complete, settings, job_id, ref, status="failed", exit_code=1, output=None, error="x", metrics=None)
    with pytest.raises(Conflict):
        in_transaction(engine, queue.complete, settings, job_id, ref, status="completed", exit_code=0, output=None, error=None, metrics=None)
    with pytest.raises(Conflict):
        in_transaction(engine, queue.mark_running, settings, job_id, ref)
    assert _status(engine, job_id).status == "failed"


def test_mark_running_on_pending_job_is_refused(engine, settings, make_jobs):
    _drain(engine, settings)
    (job_id,) = make_jobs(1)
    with pytest.raises(Conflict):
        in_transaction(engine, queue.mark_running, settings, job_id, queue.WorkerRef("w-x", 1))


def test_every_transition_is_stamped(engine, settings, make_jobs):
    _drain(engine, settings)
    (job_id,) = make_jobs(1)
    job = in_transaction(engine, queue.claim, settings, "w-ts", 1)[0]
    ref = queue.WorkerRef("w-ts", job["attempt"])
    in_transaction(engine, queue.mark_running, settings, job_id, ref)
    in_transaction(engine, queue.complete, settings, job_id, ref, status="completed", exit_code=0, output={"ok": True},
                   error=None, metrics={"cpu_ms": 1})
    row = _status(engine, job_id)
    assert row.created_at <= row.acknowledged_at <= row.started_at <= row.completed_at
    assert row.result["exitCode"] == 0 and row.lease_expires_at is None


def test_cancel_of_held_job_reaches_worker_through_heartbeat(engine, settings, make_jobs):
    _drain(engine, settings)
    (job_id,) = make_jobs(1)
    job = in_transaction(engine, queue.claim, settings, "w-cancel", 1)[0]
    with write_session(engine) as session:
        cancel_job(session, Access.on_behalf_of(session.get(Job, job_id)), job_id)
    reply = in_transaction(engine, queue.heartbeat, settings, "w-cancel", [(job_id, job["attempt"])])
    assert reply["cancel"] == [job_id]


def test_heartbeat_reports_jobs_the_worker_lost(engine, settings, make_jobs):
    _drain(engine, settings)
    (job_id,) = make_jobs(1)
    job = in_transaction(engine, queue.claim, settings, "w-hb", 1)[0]
    _expire_lease(engine, job_id)
    in_transaction(engine, queue.sweep_expired_leases, settings)
    reply = in_transaction(engine, queue.heartbeat, settings, "w-hb", [(job_id, job["attempt"])])
    assert reply["lost"] == [job_id]


def test_cancel_requested_job_whose_worker_vanished_ends_cancelled(engine, settings, make_jobs):
    _drain(engine, settings)
    (job_id,) = make_jobs(1)
    job = in_transaction(engine, queue.claim, settings, "w-gone", 1)[0]
    with write_session(engine) as session:
        cancel_job(session, Access.on_behalf_of(session.get(Job, job_id)), job_id)
    _expire_lease(engine, job_id)
    in_transaction(engine, queue.sweep_expired_leases, settings)
    assert _status(engine, job_id).status == "cancelled"


def test_claim_never_returns_more_than_limit(engine, settings, make_jobs):
    # A freshly filled table (stale planner statistics) once made PostgreSQL
    # re-run the LIMIT subquery per row and hand out hundreds of jobs.
    _drain(engine, settings)
    make_jobs(1000)
    assert len(in_transaction(engine, queue.claim, settings, "w-limit", 25)) == 25
    _drain(engine, settings)


def test_requeued_job_forgets_the_lost_attempts_output(engine, settings, make_jobs):
    _drain(engine, settings)
    (job_id,) = make_jobs(1)
    in_transaction(engine, queue.claim, settings, "w-out", 1)
    with write_session(engine) as session:
        session.execute(sa.update(Job).where(Job.id == job_id).values(output={"stale": True}, condition=True))
    _expire_lease(engine, job_id)
    in_transaction(engine, queue.sweep_expired_leases, settings)
    job = _status(engine, job_id)
    assert (job.output, job.condition) == (None, None)

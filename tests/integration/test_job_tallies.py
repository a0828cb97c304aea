"""The ended-jobs tally behind cronium_jobs_total: kept by triggers on the
jobs table (migration 0009), on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from cronium_app.auth.access import Access
from cronium_app.db import read_session, write_session
from cronium_app.jobs.service import cancel_job
from cronium_app.models import Job
from cronium_app.models.workers import JobTally


def tally(engine, status: str) -> int:
    with read_session(engine) as session:
        return session.execute(
            sa.select(sa.func.coalesce(sa.func.sum(JobTally.count), 0)).where(JobTally.status == status, JobTally.type == "bash")
        ).scalar_one()


def test_a_job_ending_adds_one_to_its_status(engine, make_event, make_jobs):
    event = make_event()
    job_ids = make_jobs(3, event)
    before = tally(engine, "cancelled")
    with write_session(engine) as session:
        for job_id in job_ids:
            cancel_job(session, Access.on_behalf_of(event), job_id)
    assert tally(engine, "cancelled") == before + 3


def test_an_ended_job_written_again_is_not_counted_twice(engine, make_event, make_jobs):
    [job_id] = make_jobs(1)
    with write_session(engine) as session:
        session.execute(sa.update(Job).where(Job.id == job_id).values(status="failed"))
    before = tally(engine, "failed")
    with write_session(engine) as session:
        session.execute(sa.update(Job).where(Job.id == job_id).values(status="failed", error="again"))
    assert tally(engine, "failed") == before


def test_a_job_created_ended_is_counted(engine, make_event):
    event = make_event()
    before = tally(engine, "completed")
    with write_session(engine) as session:
        session.add(Job(id="tally-created-ended", type="bash", status="completed", user_id=event.user_id,
                        workspace_id=event.workspace_id, event_id=event.id))
    assert tally(engine, "completed") == before + 1


def test_deleting_ended_jobs_leaves_the_tally(engine, make_event, make_jobs):
    event = make_event()
    job_ids = make_jobs(2, event)
    with write_session(engine) as session:
        for job_id in job_ids:
            cancel_job(session, Access.on_behalf_of(event), job_id)
    before = tally(engine, "cancelled")
    with write_session(engine) as session:
        session.execute(sa.delete(Job).where(Job.id.in_(job_ids)))
    assert tally(engine, "cancelled") == before


def test_a_claim_and_a_requeue_count_nothing(engine, make_jobs):
    [job_id] = make_jobs(1)
    with read_session(engine) as session:
        before = session.execute(sa.select(sa.func.coalesce(sa.func.sum(JobTally.count), 0))).scalar_one()
    with write_session(engine) as session:
        session.execute(sa.update(Job).where(Job.id == job_id).values(status="acknowledged"))
        session.execute(sa.update(Job).where(Job.id == job_id).values(status="running"))
        session.execute(sa.update(Job).where(Job.id == job_id).values(status="pending"))
    with read_session(engine) as session:
        assert session.execute(sa.select(sa.func.coalesce(sa.func.sum(JobTally.count), 0))).scalar_one() == before

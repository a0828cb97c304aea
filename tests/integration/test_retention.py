"""History retention on a real database (issue 16): a pass removes exactly
the finished jobs, workflow runs and log lines it should, in batches, and
nothing else (not a job still going, not the newest run of an event or of a
workflow), also while jobs are being claimed and finished at the same time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cronium_app.db import make_engine, read_session, write_session
from cronium_app.ids import new_id
from cronium_app.jobs import queue, retention
from cronium_app.jobs.create import insert_job
from cronium_app.jobs.run_state import RunStatus
from cronium_app.models import Event, ExecutionLog, Job, Workflow, WorkflowRun
from cronium_app.settings import Settings
from cronium_app.timeutil import utcnow
from tests.support.databases import migrated_database

LINES_PER_JOB = 7
NOW = utcnow()


@pytest.fixture
def engine() -> Iterator[Engine]:
    """A database of this test's own: a pass looks at every user's jobs."""
    with migrated_database("cronium_retention_test") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def cleaner_settings(**overrides) -> Settings:
    return Settings(**{"DATABASE_URL": "sqlite://", "CRONIUM_RETENTION_DAYS": 30, "CRONIUM_RETENTION_BATCH": 3, **overrides})


class History:
    """Jobs and lines written straight into the database, dated in the past."""

    def __init__(self, engine: Engine, make_event) -> None:
        self.engine = engine
        self.make_event = make_event
        first = make_event()
        self.user_id, self.workspace_id = first.user_id, first.workspace_id

    def event(self, **fields) -> Event:
        return self.make_event(user_id=self.user_id, **fields)

    def job(self, event: Event | None, days_ago: float, status: str = "completed", run_id: str | None = None) -> str:
        with write_session(self.engine) as session:
            job, _ = insert_job(session, user_id=self.user_id, workspace_id=self.workspace_id, event=event,
                                workflow_run_id=run_id)
            created = NOW - timedelta(days=days_ago)
            session.execute(sa.update(Job).where(Job.id == job.id).values(status=status, created_at=created))
            session.add_all(
                ExecutionLog(job_id=job.id, seq=seq, stream="stdout", line=f"line {seq}", timestamp=created)
                for seq in range(1, LINES_PER_JOB + 1)
            )
            return job.id

    def workflow_run(self, workflow_id: int | None, days_ago: float, status: str = RunStatus.completed) -> str:
        with write_session(self.engine) as session:
            run_id = new_id("run")
            created = NOW - timedelta(days=days_ago)
            session.add(WorkflowRun(id=run_id, workflow_id=workflow_id, user_id=self.user_id, workspace_id=self.workspace_id,
                                    status=status,
                                    created_at=created, completed_at=None if status == RunStatus.running else created))
            return run_id

    def workflow(self) -> int:
        with write_session(self.engine) as session:
            workflow = Workflow(user_id=self.user_id, workspace_id=self.workspace_id, name="nightly")
            session.add(workflow)
            session.flush()
            return workflow.id

    def remaining(self) -> tuple[set[str], set[str], dict[str, int]]:
        with read_session(self.engine) as session:
            jobs = set(session.scalars(sa.select(Job.id)))
            runs = set(session.scalars(sa.select(WorkflowRun.id)))
            lines = dict(session.execute(
                sa.select(ExecutionLog.job_id, sa.func.count()).group_by(ExecutionLog.job_id)
            ).all())
        return jobs, runs, lines


@pytest.fixture
def history(engine, make_event) -> History:
    """`make_event` (tests/integration/conftest.py) writes to this module's `engine`."""
    return History(engine, make_event)


def test_a_pass_removes_exactly_what_the_rules_say(engine, history):
    default = history.event()
    a_old1, a_old2 = history.job(default, 40), history.job(default, 40, "failed")
    a_old_running = history.job(default, 35, "running")
    a_old3 = history.job(default, 31, "timed_out")
    a_recent = history.job(default, 10)

    only_old = history.event()
    b_old, b_newest = history.job(only_old, 45), history.job(only_old, 40)

    short = history.event(retentionDays=5)
    c_old, c_kept, c_new = history.job(short, 6), history.job(short, 4), history.job(short, 1)

    counted = history.event(retentionRuns=2)
    d_jobs = [history.job(counted, 1) for _ in range(5)]

    gone_event = history.event()
    e_orphan = history.job(gone_event, 40)
    with write_session(engine) as session:
        session.execute(sa.delete(Event).where(Event.id == gone_event.id))

    workflow_id = history.workflow()
    old_run = history.workflow_run(workflow_id, 40)
    old_run_jobs = [history.job(default, 40, run_id=old_run) for _ in range(2)]
    going_run = history.workflow_run(workflow_id, 39, RunStatus.running)
    going_run_job = history.job(default, 39, "running", run_id=going_run)
    newest_old_run = history.workflow_run(workflow_id, 38)
    newest_old_run_job = history.job(default, 38, run_id=newest_old_run)
    orphan_run = history.workflow_run(None, 50)
    orphan_run_job = history.job(default, 50, run_id=orphan_run)

    jobs_before, runs_before, _ = history.remaining()
    report = retention.run_pass(engine, cleaner_settings(), now=NOW)

    removed_jobs = {a_old1, a_old2, a_old3, b_old, c_old, *d_jobs[:3], e_orphan, *old_run_jobs, orphan_run_job}
    jobs, runs, lines = history.remaining()
    assert jobs == jobs_before - removed_jobs
    assert {a_old_running, a_recent, b_newest, c_kept, c_new, *d_jobs[3:], going_run_job, newest_old_run_job} <= jobs
    assert runs == runs_before - {old_run, orphan_run}
    assert set(lines) == jobs and set(lines.values()) == {LINES_PER_JOB}
    assert (report.jobs_deleted, report.runs_deleted, report.lines_deleted, report.error) == (
        len(removed_jobs), 2, len(removed_jobs) * LINES_PER_JOB, None)
    with read_session(engine) as session:
        latest = retention.latest_passes(session, 1)[0]
    assert (latest.jobs_deleted, latest.runs_deleted, latest.lines_deleted) == (len(removed_jobs), 2, len(removed_jobs) * LINES_PER_JOB)

    again = retention.run_pass(engine, cleaner_settings(), now=NOW)
    assert (again.jobs_deleted, again.runs_deleted, again.lines_deleted) == (0, 0, 0)
    if engine.dialect.name == "sqlite":  # freed pages went back to the file system
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar_one() == 2
            assert conn.exec_driver_sql("PRAGMA freelist_count").scalar_one() == 0


def test_zero_days_keeps_everything_but_the_runs_rule_still_applies(engine, history):
    default = history.event()
    kept = [history.job(default, 400) for _ in range(3)]
    counted = history.event(retentionRuns=1)
    counted_jobs = [history.job(counted, 400) for _ in range(3)]
    report = retention.run_pass(engine, cleaner_settings(CRONIUM_RETENTION_DAYS=0), now=NOW)
    jobs, _, _ = history.remaining()
    assert jobs == {*kept, counted_jobs[-1]}
    assert report.jobs_deleted == 2


def test_a_pass_removes_exactly_what_it_should_while_jobs_are_claimed(engine, history):
    old_event, busy_event = history.event(), history.event()
    old = [history.job(old_event, 60) for _ in range(60)]
    newest_old = history.job(old_event, 59)
    settings = cleaner_settings(CRONIUM_RETENTION_BATCH=4)
    stop = threading.Event()
    claimed: list[str] = []
    failures: list[BaseException] = []

    def claim_and_finish() -> None:
        ref_worker = "retention-claimer"
        try:
            while not stop.is_set():
                with write_session(engine) as session:
                    insert_job(session, user_id=history.user_id, workspace_id=history.workspace_id, event=busy_event)
                with write_session(engine) as session:
                    jobs = queue.claim(session, settings, ref_worker, 5)
                for job in jobs:
                    with write_session(engine) as session:
                        queue.complete(session, settings, job["id"], queue.WorkerRef(ref_worker, job["attempt"]),
                                       status="completed", exit_code=0, output=None, error=None, metrics=None)
                    claimed.append(job["id"])
        except BaseException as exc:  # reported by the test
            failures.append(exc)

    claimer = threading.Thread(target=claim_and_finish)
    claimer.start()
    try:
        report = retention.run_pass(engine, settings, now=NOW)
    finally:
        stop.set()
        claimer.join(timeout=60)
    assert not failures, failures
    assert claimed, "the claimer took no job during the pass"
    jobs, _, lines = history.remaining()
    assert not jobs & set(old)
    assert {newest_old, *claimed} <= jobs
    assert report.jobs_deleted == len(old) and report.lines_deleted == len(old) * LINES_PER_JOB
    assert all(lines[job_id] == LINES_PER_JOB for job_id in jobs if job_id not in claimed)

"""History retention: a background cleaner deletes old jobs and their log
lines, in small batches, each its own short transaction.

What is removed, on each pass:
- a finished job (not part of a workflow run) older than its event's
  `retention_days`, or the instance's `CRONIUM_RETENTION_DAYS` when the event
  has none (0: keep forever);
- a finished job beyond its event's last `retention_runs` runs;
- a finished workflow run, as a whole (its jobs, their lines, the run),
  older than the instance's days.
- an audit log entry older than CRONIUM_AUDIT_RETENTION_DAYS (the log's
  own cleaner, cronium_app/audit/retention.py).
Never a job that is not finished, never the newest run of an event or of a
workflow. A job's lines go first, in chunks, so that no statement holds a
lock for long; the job row goes last, checked to be finished again.

Several app processes may run the cleaner: deletes of rows already gone
delete nothing, and on PostgreSQL an advisory lock lets one pass run at a
time. On SQLite a database created with incremental auto-vacuum gives the
freed pages back to the file system after each pass."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session

from cronium_app.audit import retention as audit_retention
from cronium_app.db import is_sqlite, read_session, write_session
from cronium_app.jobs.run_state import RunStatus
from cronium_app.jobs.status import TERMINAL
from cronium_app.models import Event, ExecutionLog, Job, RetentionPass, WorkflowRun
from cronium_app.settings import Settings
from cronium_app.timeutil import utcnow

logger = logging.getLogger(__name__)

_PASS_LOCK = 0x43524E10
PASSES_KEPT = 50
# SQLite pages handed back to the file system per step of a vacuum, and per
# pass at most (moving pages is slow on a large file: what is left is given
# back by the next passes, and stays reusable by new rows meanwhile).
_VACUUM_PAGES = 2000
_VACUUM_PAGES_PER_PASS = 25_000
# Log lines deleted per transaction: SQLite has one writer at a time, so its
# chunks are smaller, and after each the cleaner waits as long as it held the
# lock (at most _MAX_YIELD_S): claims and log batches waiting to write get in
# between, at the cost of a slower pass.
_LINE_CHUNK = {"sqlite": 1000, "postgresql": 5000}
_MAX_YIELD_S = 0.25


@dataclass
class PassReport:
    started_at: datetime
    finished_at: datetime | None = None
    jobs_deleted: int = 0
    runs_deleted: int = 0
    lines_deleted: int = 0
    audit_entries_deleted: int = 0
    error: str | None = None
    skipped: bool = False
    batches: int = field(default=0, repr=False)


def run_pass(engine: Engine, settings: Settings, now: datetime | None = None) -> PassReport:
    """One pass of the cleaner, to the end (or until a step fails: what was
    deleted until then stays deleted and is reported)."""
    report = PassReport(started_at=utcnow())
    now = now or report.started_at
    with engine.connect() as lock_conn:
        if not _take_pass_lock(lock_conn):
            report.skipped = True
            return report
        try:
            _clean(engine, settings, now, report)
            report.audit_entries_deleted = audit_retention.delete_expired(engine, settings, now)
        except Exception as exc:  # reported, and the next pass starts over
            logger.exception("retention pass failed")
            report.error = f"{type(exc).__name__}: {exc}"[:500]
        finally:
            _release_pass_lock(lock_conn)
    report.finished_at = utcnow()
    _record(engine, report)
    if is_sqlite(engine):
        try:
            _incremental_vacuum(engine)
        except Exception:  # the space stays reusable; the next pass tries again
            logger.exception("incremental vacuum failed")
    logger.info("retention pass: %d jobs, %d workflow runs, %d log lines, %d audit entries deleted",
                report.jobs_deleted, report.runs_deleted, report.lines_deleted, report.audit_entries_deleted)
    return report


def _clean(engine: Engine, settings: Settings, now: datetime, report: PassReport) -> None:
    batch = settings.retention_batch
    with read_session(engine) as session:
        day_overrides = [d for (d,) in session.execute(
            sa.select(Event.retention_days).where(Event.retention_days.is_not(None)).distinct()
        )]
        run_limits = session.execute(
            sa.select(Event.id, Event.retention_runs).where(Event.retention_runs.is_not(None))
        ).all()
    # (days, which events' jobs, whether jobs of deleted events too)
    groups = [(days, Event.retention_days == days, False) for days in day_overrides]
    if settings.retention_days:
        groups.append((settings.retention_days, Event.retention_days.is_(None), True))
    for days, events_of_group, orphans in groups:
        cutoff = now - timedelta(days=days)
        _delete_all(engine, report, batch, lambda s, e=events_of_group, o=orphans, c=cutoff: _expired(s, e, o, c, batch))
    for event_id, keep in run_limits:
        _delete_all(engine, report, batch, lambda s, e=event_id, k=keep: _beyond_last_runs(s, e, k, batch))
    if settings.retention_days:
        cutoff = now - timedelta(days=settings.retention_days)
        while True:
            with read_session(engine) as session:
                run_ids = _expired_runs(session, cutoff, max(1, batch // 10))
            if not run_ids:
                break
            _delete_runs(engine, report, run_ids)


def _delete_all(engine: Engine, report: PassReport, batch: int, pick) -> None:
    while True:
        with read_session(engine) as session:
            job_ids = pick(session)
        if not job_ids:
            return
        report.lines_deleted += _delete_lines(engine, job_ids)
        report.jobs_deleted += _write(engine, lambda session, ids=job_ids: session.execute(
            sa.delete(Job).where(Job.id.in_(ids), Job.status.in_(TERMINAL), Job.workflow_run_id.is_(None))
            .execution_options(synchronize_session=False)
        ).rowcount)
        report.batches += 1
        if len(job_ids) < batch:
            return


def _not_newest_of_its_event():
    """Not the newest job of its event. Ids grow with time, so the newest is
    the greatest id; a plain (not correlated) subquery, which the databases
    work out once per statement."""
    newest = sa.select(sa.func.max(Job.id)).where(Job.event_id.is_not(None)).group_by(Job.event_id)
    return Job.id.not_in(newest)


def _expired(session: Session, events_of_group, orphans: bool, cutoff: datetime, batch: int) -> list[str]:
    """Finished standalone jobs created before `cutoff` whose event's days
    rule is this group's (with `orphans`, jobs of deleted events too)."""
    of_group = Job.event_id.in_(sa.select(Event.id).where(events_of_group))
    if orphans:
        of_group = sa.or_(Job.event_id.is_(None), of_group)
    return list(session.scalars(
        sa.select(Job.id)
        .where(of_group, Job.workflow_run_id.is_(None), Job.status.in_(TERMINAL), Job.created_at < cutoff,
               _not_newest_of_its_event())
        .order_by(Job.id).limit(batch)
    ))


def _beyond_last_runs(session: Session, event_id: int, keep: int, batch: int) -> list[str]:
    """Finished standalone jobs of the event beyond its newest `keep`."""
    older = (
        sa.select(Job.id).where(Job.event_id == event_id, Job.workflow_run_id.is_(None))
        .order_by(Job.id.desc()).offset(keep).limit(batch).subquery()
    )
    return list(session.scalars(
        sa.select(Job.id).where(Job.id.in_(sa.select(older.c.id)), Job.status.in_(TERMINAL))
    ))


def _expired_runs(session: Session, cutoff: datetime, batch: int) -> list[str]:
    unfinished_job = aliased(Job)
    return list(session.scalars(
        sa.select(WorkflowRun.id)
        .where(
            WorkflowRun.status != RunStatus.running,
            sa.func.coalesce(WorkflowRun.completed_at, WorkflowRun.created_at) < cutoff,
            WorkflowRun.id.not_in(  # not the newest run of its workflow (see _not_newest_of_its_event)
                sa.select(sa.func.max(WorkflowRun.id)).where(WorkflowRun.workflow_id.is_not(None))
                .group_by(WorkflowRun.workflow_id)),
            ~sa.exists().where(unfinished_job.workflow_run_id == WorkflowRun.id, unfinished_job.status.not_in(TERMINAL)),
        )
        .order_by(WorkflowRun.id).limit(batch)
    ))


def _delete_runs(engine: Engine, report: PassReport, run_ids: list[str]) -> None:
    with read_session(engine) as session:
        job_ids = list(session.scalars(sa.select(Job.id).where(Job.workflow_run_id.in_(run_ids))))
    if job_ids:
        report.lines_deleted += _delete_lines(engine, job_ids)
    with write_session(engine) as session:
        # Checked again in the deleting transaction: a run still going keeps all of it.
        finished = list(session.scalars(
            sa.select(WorkflowRun.id).where(WorkflowRun.id.in_(run_ids), WorkflowRun.status != RunStatus.running)
        ))
        report.jobs_deleted += session.execute(
            sa.delete(Job).where(Job.workflow_run_id.in_(finished), Job.status.in_(TERMINAL))
            .execution_options(synchronize_session=False)
        ).rowcount
        report.runs_deleted += session.execute(
            sa.delete(WorkflowRun).where(
                WorkflowRun.id.in_(finished),
                ~sa.exists().where(Job.workflow_run_id == WorkflowRun.id),
            ).execution_options(synchronize_session=False)
        ).rowcount


def _delete_lines(engine: Engine, job_ids: list[str]) -> int:
    """The jobs' log lines, a chunk per transaction."""
    deleted = 0
    chunk = _LINE_CHUNK.get(engine.dialect.name, 5000)
    ids = sa.select(ExecutionLog.id).where(ExecutionLog.job_id.in_(job_ids)).limit(chunk).scalar_subquery()
    delete = sa.delete(ExecutionLog).where(ExecutionLog.id.in_(ids)).execution_options(synchronize_session=False)
    while True:
        count = _write(engine, lambda session: session.execute(delete).rowcount)
        deleted += count
        if count < chunk:
            return deleted


def _write(engine: Engine, step):
    """`step(session)` in a write transaction of its own; on SQLite, then a
    pause as long as the transaction held the write lock (see _LINE_CHUNK)."""
    began = time.monotonic()
    with write_session(engine) as session:
        result = step(session)
    if is_sqlite(engine):
        time.sleep(min(time.monotonic() - began, _MAX_YIELD_S))
    return result


def _record(engine: Engine, report: PassReport) -> None:
    with write_session(engine) as session:
        session.add(RetentionPass(
            started_at=report.started_at, finished_at=report.finished_at, jobs_deleted=report.jobs_deleted,
            runs_deleted=report.runs_deleted, lines_deleted=report.lines_deleted, error=report.error,
        ))
        session.flush()
        kept = sa.select(RetentionPass.id).order_by(RetentionPass.id.desc()).limit(PASSES_KEPT).scalar_subquery()
        session.execute(sa.delete(RetentionPass).where(RetentionPass.id.not_in(kept)))


def latest_passes(session: Session, count: int = 5) -> list[RetentionPass]:
    return list(session.scalars(sa.select(RetentionPass).order_by(RetentionPass.id.desc()).limit(count)))


def policy_text(settings: Settings) -> str:
    kept = f"{settings.retention_days} days" if settings.retention_days else "forever"
    hours = settings.retention_interval_s / 3600
    if hours == 1:
        every = "hour"
    else:
        every = f"{hours:g} hours" if hours > 1 else f"{settings.retention_interval_s / 60:g} minutes"
    return (f"Finished runs are kept {kept} unless an event says otherwise; the newest run of each event "
            f"always stays. The cleaner runs every {every}.")


def _take_pass_lock(conn: Connection) -> bool:
    if is_sqlite(conn.engine):
        return True
    taken = conn.execute(sa.select(sa.func.pg_try_advisory_lock(_PASS_LOCK))).scalar_one()
    conn.commit()
    return bool(taken)


def _release_pass_lock(conn: Connection) -> None:
    if not is_sqlite(conn.engine):
        conn.execute(sa.select(sa.func.pg_advisory_unlock(_PASS_LOCK)))
        conn.commit()


def _incremental_vacuum(engine: Engine) -> None:
    """Give freed pages back, a few at a time, each step a write transaction
    of its own followed by a pause (see _write), up to _VACUUM_PAGES_PER_PASS
    per pass. A database created without
    incremental auto-vacuum keeps them for reuse instead (see README)."""
    with engine.connect() as conn:
        if conn.exec_driver_sql("PRAGMA auto_vacuum").scalar_one() != 2:
            return
    writer = engine.execution_options(sqlite_begin="IMMEDIATE")
    for _ in range(_VACUUM_PAGES_PER_PASS // _VACUUM_PAGES):
        began = time.monotonic()
        with writer.begin() as conn:
            if conn.exec_driver_sql("PRAGMA freelist_count").scalar_one() == 0:
                return
            conn.exec_driver_sql(f"PRAGMA incremental_vacuum({_VACUUM_PAGES})")
        time.sleep(min(time.monotonic() - began, _MAX_YIELD_S))

"""Jobs as a user sees them: read, list, stats, logs, cancel.

Every query here is scoped to the job's owner. Jobs are created in
`create.py`; the worker's side of the queue (claim, leases, completion)
lives in `queue.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from cronium_app import audit
from cronium_app.auth.access import Ability, Access
from cronium_app.errors import Conflict, NotFound
from cronium_app.jobs import workflow_runs
from cronium_app.jobs.cancel import cancel_where
from cronium_app.jobs.status import FAILED_LIKE, HELD, PENDING, TERMINAL, JobStatus
from cronium_app.jobs.views import job_to_dict, log_to_dict
from cronium_app.models import Event, ExecutionLog, Job
from cronium_app.pagination import Page, escape_like
from cronium_app.timeutil import as_utc, utcnow

JOB_COLUMNS = Job.__table__.c


def get_job(session: Session, access: Access, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if not access.owns(job):
        raise NotFound(f"job {job_id} not found")
    return job


def get_job_dict(session: Session, access: Access, job_id: str) -> dict[str, Any]:
    return job_to_dict(get_job(session, access, job_id).model_dump())


@dataclass(frozen=True)
class JobFilter:
    status: tuple[str, ...] = ()
    event_id: int | None = None
    workflow_id: int | None = None
    workflow_run_id: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    q: str | None = None


def _filtered(query, access: Access, flt: JobFilter):
    query = query.where(access.scope(Job))
    if flt.status:
        query = query.where(Job.status.in_(flt.status))
    if flt.event_id is not None:
        query = query.where(Job.event_id == flt.event_id)
    if flt.workflow_id is not None:
        query = query.where(Job.workflow_id == flt.workflow_id)
    if flt.workflow_run_id is not None:
        query = query.where(Job.workflow_run_id == flt.workflow_run_id)
    if flt.created_from is not None:
        query = query.where(Job.created_at >= flt.created_from)
    if flt.created_to is not None:
        query = query.where(Job.created_at < flt.created_to)
    if flt.q:
        pattern = f"%{escape_like(flt.q)}%"
        event_names = select(Event.id).where(access.scope(Event), Event.name.ilike(pattern, escape="\\"))
        query = query.where(
            sa.or_(
                Job.id.ilike(pattern, escape="\\"),
                Job.error.ilike(pattern, escape="\\"),
                Job.event_id.in_(event_names),
            )
        )
    return query


def list_jobs(
    session: Session, access: Access, flt: JobFilter, *, limit: int, cursor: str | None = None, with_total: bool = True
) -> Page:
    """Newest first. Job ids sort by creation time, so the id alone is the
    keyset cursor: page N costs the same as page 1, even with 100k jobs."""
    query = _filtered(select(*JOB_COLUMNS), access, flt)
    total = None
    if with_total:
        total = session.exec(_filtered(select(sa.func.count()).select_from(Job), access, flt)).one()
    if cursor:
        query = query.where(Job.id < cursor)
    rows = session.exec(query.order_by(Job.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [job_to_dict(row._mapping, include_execution=False) for row in rows]
    return Page(items=items, total=total, limit=limit, next_cursor=items[-1]["id"] if more and items else None)


def _count(session: Session, access: Access, *conditions) -> int:
    return session.exec(select(sa.func.count()).select_from(Job).where(access.scope(Job), *conditions)).one()


def _trend(now_value: int, before_value: int) -> float | None:
    """Percent change against the same moment yesterday; None when yesterday was 0."""
    if before_value == 0:
        return None
    return round((now_value - before_value) * 100.0 / before_value, 1)


def job_stats(session: Session, access: Access, now: datetime | None = None) -> dict[str, Any]:
    """Counts for the dashboard, each next to its value at the same moment
    yesterday (reconstructed from the transition timestamps)."""
    now = now or utcnow()
    yesterday = now - timedelta(days=1)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    y_midnight = midnight - timedelta(days=1)

    def pending_at(t: datetime):
        return (
            Job.created_at <= t,
            sa.or_(Job.acknowledged_at.is_(None), Job.acknowledged_at > t),
            sa.or_(Job.completed_at.is_(None), Job.completed_at > t),
        )

    def running_at(t: datetime):
        return (Job.acknowledged_at <= t, sa.or_(Job.completed_at.is_(None), Job.completed_at > t))

    pending = _count(session, access, Job.status == PENDING)
    running = _count(session, access, Job.status.in_(HELD))
    completed_today = _count(session, access, Job.status == JobStatus.completed.value, Job.completed_at >= midnight)
    failed_today = _count(session, access, Job.status.in_(FAILED_LIKE), Job.completed_at >= midnight)
    partial_today = _count(session, access, Job.status == JobStatus.partial.value, Job.completed_at >= midnight)
    previous = {
        "pending": _count(session, access, *pending_at(yesterday)),
        "running": _count(session, access, *running_at(yesterday)),
        "completedToday": _count(
            session, access, Job.status == JobStatus.completed.value,
            Job.completed_at >= y_midnight, Job.completed_at <= yesterday,
        ),
        "failedToday": _count(
            session, access, Job.status.in_(FAILED_LIKE),
            Job.completed_at >= y_midnight, Job.completed_at <= yesterday,
        ),
        "partialToday": _count(
            session, access, Job.status == JobStatus.partial.value,
            Job.completed_at >= y_midnight, Job.completed_at <= yesterday,
        ),
    }
    current = {
        "pending": pending, "running": running, "completedToday": completed_today,
        "failedToday": failed_today, "partialToday": partial_today,
    }
    body: dict[str, Any] = dict(current)
    for key, value in current.items():
        trend_key = key.removesuffix("Today") + "Trend"
        body[trend_key] = _trend(value, previous[key])
    body["previous"] = previous
    return body


def cancel_job(session: Session, access: Access, job_id: str) -> Job:
    """Pending jobs end at once (and their workflow run moves on). Held jobs
    get a cancel request that the worker picks up (heartbeat reply) and
    confirms by completing the job as cancelled; if the worker is gone, the
    sweeper ends it."""
    access.require(Ability.run, "cancel jobs")
    job = get_job(session, access, job_id)
    done = cancel_where(session, Job.id == job_id)
    session.refresh(job)
    if not done:
        raise Conflict(f"job {job_id} is already {job.status}; it cannot be cancelled")
    label = ((job.execution or {}).get("event") or {}).get("name")
    audit.record(session, audit.Action.job_cancel, audit.Target("job", job.id, label), details={"eventId": job.event_id},
                 workspace_id=job.workspace_id)
    if job.status == JobStatus.cancelled.value:
        workflow_runs.advance_after_job(session, job_id)
    return job


def get_logs(
    session: Session, access: Access, job_id: str, *, after_seq: int = 0, limit: int = 1000
) -> dict[str, Any]:
    job = get_job(session, access, job_id)
    rows = session.exec(
        select(ExecutionLog.seq, ExecutionLog.stream, ExecutionLog.line, ExecutionLog.timestamp)
        .where(ExecutionLog.job_id == job_id, ExecutionLog.seq > after_seq)
        .order_by(ExecutionLog.seq)
        .limit(limit)
    ).all()
    lines = [log_to_dict(row._mapping) for row in rows]
    return {
        "jobId": job_id,
        "status": job.status,
        "lines": lines,
        "lastSeq": lines[-1]["seq"] if lines else after_seq,
        "complete": job.status in TERMINAL and len(lines) < limit,
    }


def tail_logs(session: Session, access: Access, job_id: str, *, lines: int) -> dict[str, Any]:
    """The last `lines` lines of a job's log (oldest first), and how many
    lines it has in all."""
    job = get_job(session, access, job_id)
    rows = session.exec(
        select(ExecutionLog.seq, ExecutionLog.stream, ExecutionLog.line, ExecutionLog.timestamp)
        .where(ExecutionLog.job_id == job_id)
        .order_by(ExecutionLog.seq.desc())
        .limit(lines)
    ).all()
    total = session.exec(select(sa.func.count()).select_from(ExecutionLog).where(ExecutionLog.job_id == job_id)).one()
    return {"jobId": job_id, "status": job.status, "lines": [log_to_dict(row._mapping) for row in reversed(rows)],
            "totalLines": total}


# -- for the web UI -------------------------------------------------------------

HOURLY_OUTCOMES = ("completed", "failed", "partial", "other")


def _outcome(status: str) -> str:
    if status == JobStatus.completed.value:
        return "completed"
    if status in FAILED_LIKE:
        return "failed"
    if status == JobStatus.partial.value:
        return "partial"
    return "other"


def hourly_counts(session: Session, access: Access, now: datetime | None = None, *, hours: int = 24) -> list[dict[str, Any]]:
    """Jobs created in each of the last `hours` whole hours (the last one is
    the current, partial hour), split into completed / failed / other.

    One grouped query over (workspace_id, created_at): the hour bucket is a CASE
    over the bucket boundaries, which every database evaluates the same way
    (no dialect-specific date truncation)."""
    now = now or utcnow()
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=hours)
    bounds = [start + timedelta(hours=i + 1) for i in range(hours)]
    bucket = sa.case(*[(Job.created_at < bound, index) for index, bound in enumerate(bounds)], else_=hours - 1)
    rows = session.exec(
        select(bucket.label("bucket"), Job.status, sa.func.count().label("n"))
        .where(access.scope(Job), Job.created_at >= start, Job.created_at < end)
        .group_by(bucket, Job.status)
    ).all()
    points = [
        {"hour": start + timedelta(hours=i), **{outcome: 0 for outcome in HOURLY_OUTCOMES}} for i in range(hours)
    ]
    for index, status, count in rows:
        points[int(index)][_outcome(status)] += count
    return points


def _page_cursor(created_at: datetime, job_id: str) -> str:
    return f"{as_utc(created_at).isoformat()}|{job_id}"


def _parse_page_cursor(cursor: str) -> tuple[datetime, str] | None:
    created, _, job_id = cursor.partition("|")
    try:
        return as_utc(datetime.fromisoformat(created)), job_id
    except ValueError:
        return None


def list_jobs_ordered(
    session: Session,
    access: Access,
    flt: JobFilter,
    *,
    limit: int,
    cursor: str | None = None,
    oldest_first: bool = False,
) -> Page:
    """A page of jobs in either creation order, keyset-paginated on
    (created_at, id): the order of the (workspace_id, created_at, id) index, so a
    page is an index range scan whatever its position, even among 100k jobs.
    The cursor is opaque (see `_page_cursor`). No total: see count_jobs."""
    query = _filtered(select(*JOB_COLUMNS), access, flt)
    after = _parse_page_cursor(cursor) if cursor else None
    if after is not None:
        key = sa.tuple_(Job.created_at, Job.id)
        query = query.where(key > after if oldest_first else key < after)
    if oldest_first:
        query = query.order_by(Job.created_at.asc(), Job.id.asc())
    else:
        query = query.order_by(Job.created_at.desc(), Job.id.desc())
    rows = session.exec(query.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [job_to_dict(row._mapping, include_execution=False) for row in rows]
    next_cursor = _page_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    return Page(items=items, total=None, limit=limit, next_cursor=next_cursor)


def count_jobs(session: Session, access: Access, flt: JobFilter) -> int:
    return session.exec(_filtered(select(sa.func.count()).select_from(Job), access, flt)).one()

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query

from cronium_app.api.errors import errors
from cronium_app.api.v1 import replies
from cronium_app.api.v1.common import MAX_PAGE, UserDep
from cronium_app.bounds import INT32_MAX
from cronium_app.db import read_session, write_session
from cronium_app.errors import Invalid
from cronium_app.jobs import service
from cronium_app.jobs.status import JobStatus
from cronium_app.jobs.views import job_to_dict
from cronium_app.timeutil import given_as_utc

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"], responses=errors(401, 404, 422))


@router.get("", response_model=replies.JobPage, responses=errors(422))
def list_jobs(
    user: UserDep,
    status: list[JobStatus] | None = Query(default=None),
    event_id: int | None = Query(default=None, alias="eventId", ge=1, le=INT32_MAX),
    workflow_id: int | None = Query(default=None, alias="workflowId", ge=1, le=INT32_MAX),
    created_from: datetime | None = Query(default=None, alias="from"),
    created_to: datetime | None = Query(default=None, alias="to"),
    q: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=MAX_PAGE),
    cursor: str | None = Query(default=None, max_length=40),
) -> dict[str, Any]:
    """Your jobs, newest first, optionally filtered (several `status`
    values match any of them; `q` searches job ids, errors and event names).
    Pass `nextCursor` back as `cursor` for the next page."""
    created_from, created_to = given_as_utc(created_from, "from"), given_as_utc(created_to, "to")
    if created_from and created_to and created_from >= created_to:
        raise Invalid("'from' must be before 'to'")
    flt = service.JobFilter(
        status=tuple(s.value for s in status or ()),
        event_id=event_id,
        workflow_id=workflow_id,
        created_from=created_from,
        created_to=created_to,
        q=q,
    )
    with read_session() as session:
        return service.list_jobs(session, user.access, flt, limit=limit, cursor=cursor).to_dict()


@router.get("/stats", response_model=replies.JobStats)
def job_stats(user: UserDep) -> dict[str, Any]:
    """Jobs waiting and running now, and those that ended today (UTC), each
    with its change against the same moment yesterday."""
    with read_session() as session:
        return service.job_stats(session, user.access)


@router.get("/{job_id}", response_model=replies.Job, responses=errors(404, 422))
def get_job(job_id: str, user: UserDep) -> dict[str, Any]:
    """A job: its status, times, exit code, input and output, and what it
    runs. A job has ended when its status is completed, failed, timed_out,
    cancelled or partial."""
    with read_session() as session:
        return service.get_job_dict(session, user.access, job_id)


@router.get("/{job_id}/logs", response_model=replies.JobLogs, responses=errors(404, 422))
def get_logs(
    job_id: str,
    user: UserDep,
    after_seq: int = Query(default=0, ge=0, le=INT32_MAX),
    limit: int = Query(default=1000, ge=1, le=10_000),
) -> dict[str, Any]:
    """The job's log lines with `seq` > `after_seq`, in order. To follow a
    job, ask again with `after_seq` = the reply's `lastSeq` until `complete`
    is true: no line is missed or repeated, even after a dropped connection."""
    with read_session() as session:
        return service.get_logs(session, user.access, job_id, after_seq=after_seq, limit=limit)


@router.post("/{job_id}/cancel", response_model=replies.Job, responses=errors(404, 409, 422))
def cancel_job(job_id: str, user: UserDep) -> dict[str, Any]:
    """A waiting job is cancelled at once; a running one is stopped by its
    worker shortly after (`cancelRequested` is true until then). 409 when it
    has already ended."""
    with write_session() as session:
        return job_to_dict(service.cancel_job(session, user.access, job_id).model_dump())

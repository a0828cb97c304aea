"""What a running script may do, checked against its execution token: read
its input, write its output and condition, read and write its workspace's
variables, and read its event's public description."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from cronium_app.auth.access import Access
from cronium_app.errors import CroniumError, Forbidden
from cronium_app.payloads import check_io_size
from cronium_app.jobs.status import HELD
from cronium_app.models import Event, Job
from cronium_app.auth.execution_tokens import ExecutionClaims
from cronium_app.settings import Settings
from cronium_app.timeutil import isoformat


class TooManyRequests(CroniumError):
    status_code = 429
    code = "too_many_requests"


def authorize(session: Session, claims: ExecutionClaims, path_job_id: str) -> Job:
    """The job the token speaks for, if it may act now. A token is good only
    for its own job, while that job runs, for the attempt it was issued to."""
    if claims.job_id != path_job_id:
        raise Forbidden("this execution token belongs to another job")
    job = session.get(Job, path_job_id)
    if job is None or job.user_id != claims.user_id:
        raise Forbidden("this execution token belongs to another job")
    if job.status not in HELD:
        raise Forbidden(f"job {job.id} is {job.status}; its execution token is no longer valid")
    if job.attempt != claims.attempt:
        raise Forbidden(f"this execution token was issued to attempt {claims.attempt}; the job is on attempt {job.attempt}")
    return job


def job_access(job: Job) -> Access:
    """What a job's script may do in its workspace: the app acting for the
    job (its variables, read and written by the helpers)."""
    return Access.on_behalf_of(job)


def _update_held(session: Session, job: Job, **values: Any) -> None:
    changed = session.execute(
        sa.update(Job)
        .where(Job.id == job.id, Job.attempt == job.attempt, Job.status.in_(HELD))
        .values(**values)
    ).rowcount
    if not changed:
        raise Forbidden(f"job {job.id} is no longer running")


def set_output(session: Session, settings: Settings, job: Job, data: Any) -> None:
    check_io_size(data, settings, "output")
    _update_held(session, job, output=data)


def set_condition(session: Session, job: Job, value: bool) -> None:
    _update_held(session, job, condition=value)


def event_info(session: Session, job: Job) -> dict[str, Any]:
    """The event's public description: no script, no env values."""
    execution = job.execution or {}
    event = session.get(Event, job.event_id) if job.event_id is not None else None
    return {
        "id": job.event_id,
        "name": event.name if event else (execution.get("event") or {}).get("name"),
        "type": job.type,
        "description": event.description if event else None,
        "tags": list(event.tags or []) if event else [],
        "job": {
            "id": job.id,
            "attempt": job.attempt,
            "createdAt": isoformat(job.created_at),
            "startedAt": isoformat(job.started_at),
            "workflowId": job.workflow_id,
            "workflowRunId": job.workflow_run_id,
            "timeoutSeconds": execution.get("timeoutSeconds"),
        },
    }


class RateLimiter:
    """A token bucket per key (job id), in this process."""

    def __init__(self, rate_per_s: float, burst: int):
        self.rate = rate_per_s
        self.burst = burst
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = defaultdict(lambda: (float(burst), time.monotonic()))

    def check(self, key: str) -> None:
        with self._lock:
            tokens, last = self._buckets[key]
            now = time.monotonic()
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                raise TooManyRequests(f"too many runtime API calls: at most {self.rate:g} per second per job")
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > 10_000:
                self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        idle = [key for key, (_, last) in self._buckets.items() if now - last > 60]
        for key in idle:
            del self._buckets[key]

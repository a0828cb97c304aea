"""Retries: a job that ends failed or timed_out is run again, up to its
event's `retries` times, with exponential backoff and jitter.

A retry is a new job (terminal jobs never change): it re-runs the failed
job's own execution snapshot and input, names the job it retries
(`retry_of`), carries its number (`retry_number`: 1, 2, ...; the API shows
`retryNumber`), and waits in `pending` until `scheduled_for`, which the
claim query already honours. Its idempotency key, `retry:{failed job id}`,
gives each failed job at most one retry, whoever reports the failure and
however often. The retry is created in the transaction that records the
failure, so a crash cannot separate them.

Backoff for retry n: d = min(max, base * 2^(n-1)) seconds
(`CRONIUM_RETRY_BACKOFF_BASE`, 10; `CRONIUM_RETRY_BACKOFF_MAX`, 3600), of
which the second half is random ("equal jitter"): the wait is d/2 + U(0, d/2).

Not retried: cancelled jobs; jobs whose event is gone or archived; steps of
a workflow run (the run derives each step's state from its one job; a
workflow's own failure handling is its on_failure edges).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlmodel import Session

from cronium_app.jobs.create import insert_job
from cronium_app.jobs.status import FAILED_LIKE
from cronium_app.models import Event, EventStatus, Job
from cronium_app.settings import Settings

logger = logging.getLogger(__name__)


def backoff_seconds(settings: Settings, retry_number: int, rng: random.Random | None = None) -> float:
    ceiling = min(settings.retry_backoff_max_s, settings.retry_backoff_base_s * 2 ** (retry_number - 1))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def retry_key(job_id: str) -> str:
    return f"retry:{job_id}"


def retry_failed(
    session: Session, settings: Settings, job_ids: Iterable[str], now: datetime, rng: random.Random | None = None
) -> list[str]:
    """Queue the retries these just-failed jobs are due; returns the new job ids.

    Each in a savepoint: a retry that cannot be created is logged and never
    stops the failure itself from being recorded."""
    created: list[str] = []
    for job_id in job_ids:
        try:
            with session.begin_nested():
                retry_id = _retry_one(session, settings, job_id, now, rng)
        except Exception:
            logger.exception("could not queue a retry of job %s", job_id, extra={"job_id": job_id})
            continue
        if retry_id is not None:
            created.append(retry_id)
    return created


def _retry_one(session: Session, settings: Settings, job_id: str, now: datetime, rng: random.Random | None) -> str | None:
    job = session.get(Job, job_id)
    if job is None or job.status not in FAILED_LIKE or job.workflow_run_id is not None or job.event_id is None:
        return None
    event = session.get(Event, job.event_id)
    if event is None or event.status == EventStatus.archived.value or job.retry_number >= event.retries:
        return None
    number = job.retry_number + 1
    delay = backoff_seconds(settings, number, rng)
    retry, was_created = insert_job(
        session, user_id=job.user_id, workspace_id=job.workspace_id, event=event, input=job.input, idempotency_key=retry_key(job.id),
        priority=job.priority, scheduled_for=now + timedelta(seconds=delay), execution=job.execution,
        retry_of=job.id, retry_number=number,
    )
    if not was_created:
        return None
    logger.info(
        "job %s %s: retry %d of %d in %.1fs", job.id, job.status, number, event.retries, delay,
        extra={"job_id": job.id, "retry_id": retry.id},
    )
    return retry.id

"""Cancelling jobs: a pending job ends at once; a held one gets a cancel
request that its worker picks up from the heartbeat reply (or the sweeper,
if the worker is gone)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from cronium_app.jobs.status import HELD, PENDING, JobStatus
from cronium_app.models import Job
from cronium_app.timeutil import utcnow

CANCELLED_BY_USER = "cancelled by user"


def cancel_where(session: Session, *where) -> int:
    """Cancel the jobs matching `where` that have not ended; returns how many
    were ended or asked to stop. Terminal jobs are left as they are."""
    now = utcnow()
    ended = session.execute(
        sa.update(Job)
        .where(*where, Job.status == PENDING)
        .values(status=JobStatus.cancelled.value, completed_at=now, updated_at=now, error=CANCELLED_BY_USER)
        .execution_options(synchronize_session=False)
    ).rowcount
    asked = session.execute(
        sa.update(Job)
        .where(*where, Job.status.in_(HELD))
        .values(cancel_requested_at=sa.func.coalesce(Job.cancel_requested_at, now), updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return ended + asked

"""Which due jobs a claim may take: priority order (FIFO within one), and no
more held jobs at once than an event's `max_concurrent` or the instance's
per-user limit allow. A job over a limit stays pending, untouched, and is
taken by a later claim once a slot frees.

No race lets two claimers exceed a limit. Candidates come from one query
that already skips events and users at their limit. Then, for the limited
events and users among them, a claimer takes a transaction-scoped lock
(PostgreSQL advisory locks, always in the same order, so claimers never
deadlock, and unlike a row lock on `events` nothing else waits on them)
and counts the held jobs again: a claimer that waited sees what the one
before it committed. On SQLite, a claim's `BEGIN IMMEDIATE` already runs
claims one at a time."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from cronium_app.db import is_sqlite
from cronium_app.jobs.status import HELD, PENDING
from cronium_app.models import Event, Job

# Advisory lock namespaces (the first of pg_advisory_xact_lock's two keys).
_EVENT_LOCKS = 0x43524E01
_USER_LOCKS = 0x43524E02
# How many more candidates than wanted one query reads, so that the jobs of a
# limited event a claim cannot take do not leave others' jobs behind.
_OVERFETCH = 4


@dataclass(frozen=True)
class _Candidate:
    id: str
    event_id: int | None
    user_id: int
    event_cap: int


def admit(session: Session, now: datetime, limit: int, user_cap: int) -> list[str]:
    """Ids of up to `limit` due pending jobs this claim may take, best first."""
    candidates = _candidates(session, now, limit * _OVERFETCH, user_cap)
    limited_events = sorted({c.event_id for c in candidates if c.event_cap and c.event_id is not None})
    limited_users = sorted({c.user_id for c in candidates}) if user_cap else []
    if not limited_events and not limited_users:
        return [c.id for c in candidates[:limit]]
    if not is_sqlite(session.get_bind()):
        for key in limited_events:
            session.execute(sa.select(sa.func.pg_advisory_xact_lock(_EVENT_LOCKS, key)))
        for key in limited_users:
            session.execute(sa.select(sa.func.pg_advisory_xact_lock(_USER_LOCKS, key)))
    held_by_event = _held(session, Job.event_id, limited_events)
    held_by_user = _held(session, Job.user_id, limited_users)
    chosen: list[str] = []
    for candidate in candidates:
        if len(chosen) == limit:
            break
        if candidate.event_cap and held_by_event[candidate.event_id] >= candidate.event_cap:
            continue
        if user_cap and held_by_user[candidate.user_id] >= user_cap:
            continue
        held_by_event[candidate.event_id] += 1
        held_by_user[candidate.user_id] += 1
        chosen.append(candidate.id)
    return chosen


def frees_a_limited_slot(session: Session, user_cap: int, ended_job_ids: list[str]) -> bool:
    """Whether jobs that just ended held a slot under a limit (their event's
    or, when there is one, their user's): a waiting job may now be taken."""
    if user_cap:
        return True
    return session.execute(
        sa.select(sa.func.count()).select_from(Job).join(Event, Event.id == Job.event_id)
        .where(Job.id.in_(ended_job_ids), Event.max_concurrent > 0)
    ).scalar_one() > 0


def _candidates(session: Session, now: datetime, count: int, user_cap: int) -> list[_Candidate]:
    held = sa.orm.aliased(Job)
    event_cap = sa.func.coalesce(Event.max_concurrent, 0)
    held_of_event = (
        sa.select(sa.func.count()).select_from(held)
        .where(held.event_id == Job.event_id, held.status.in_(HELD)).scalar_subquery()
    )
    query = (
        sa.select(Job.id, Job.event_id, Job.user_id, event_cap)
        .select_from(Job)
        .outerjoin(Event, Event.id == Job.event_id)
        .where(
            Job.status == PENDING,
            sa.or_(Job.scheduled_for.is_(None), Job.scheduled_for <= now),
            sa.or_(event_cap == 0, held_of_event < event_cap),
        )
        .order_by(Job.priority.desc(), Job.created_at, Job.id)
        .limit(count)
    )
    if user_cap:
        held_of_user = (
            sa.select(sa.func.count()).select_from(held)
            .where(held.user_id == Job.user_id, held.status.in_(HELD)).scalar_subquery()
        )
        query = query.where(held_of_user < user_cap)
    if not is_sqlite(session.get_bind()):
        # Concurrent claimers skip job rows another claim is taking.
        query = query.with_for_update(of=Job, skip_locked=True)
    return [_Candidate(*row) for row in session.execute(query).all()]


def _held(session: Session, column, keys: list[int]) -> Counter:
    if not keys:
        return Counter()
    rows = session.execute(
        sa.select(column, sa.func.count()).where(column.in_(keys), Job.status.in_(HELD)).group_by(column)
    ).all()
    return Counter(dict(rows))

"""The workers the app has heard from: what their heartbeats say about them
(`record`, from `queue.heartbeat`), the list an administrator sees (the
Workers page, `GET /api/v1/workers`), and forgetting the long gone.

A worker's status is derived when it is read: `stopped` when it said so
as it stopped, `gone` when no heartbeat came for CRONIUM_WORKER_GONE_AFTER
(it crashed, or lost the app), `draining` while it stops, else `online`.
Its running jobs are counted from the jobs it holds, not taken from it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from cronium_app.jobs.status import HELD
from cronium_app.models import Job, Worker
from cronium_app.settings import Settings
from cronium_app.timeutil import as_utc, isoformat, utcnow

# The order the list shows them in.
STATUSES = ("online", "draining", "stopped", "gone")
# What a heartbeat may say, and the column each goes to.
_REPORTED = {
    "host": "host", "engineVersion": "engine_version", "engineHost": "engine_host",
    "concurrency": "concurrency", "state": "state", "pool": "pool",
}


def record(session: Session, worker_id: str, info: dict[str, Any] | None, now: datetime | None = None) -> None:
    """This worker is alive now, and (when it says) this is what it is.
    One statement: the first heartbeat inserts the row, later ones update it."""
    now = now or utcnow()
    values = {column: (info or {})[key] for key, column in _REPORTED.items() if key in (info or {})}
    table = Worker.__table__
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    statement = insert.values(id=worker_id, first_seen_at=now, last_seen_at=now, **values).on_conflict_do_update(
        index_elements=[table.c.id], set_={"last_seen_at": now, **values}
    )
    session.execute(statement)


def status_of(worker: Worker, settings: Settings, now: datetime) -> str:
    if worker.state == "stopped":
        return "stopped"
    if now - as_utc(worker.last_seen_at) > timedelta(seconds=settings.worker_gone_after_s):
        return "gone"
    return "draining" if worker.state == "draining" else "online"


def _held_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        sa.select(Job.worker_id, sa.func.count())
        .where(Job.status.in_(HELD), Job.worker_id.is_not(None))
        .group_by(Job.worker_id)
    ).all()
    return {worker_id: count for worker_id, count in rows}


def worker_view(worker: Worker, running_jobs: int, settings: Settings, now: datetime) -> dict[str, Any]:
    last_seen = as_utc(worker.last_seen_at)
    return {
        "id": worker.id,
        "status": status_of(worker, settings, now),
        "host": worker.host,
        "engineVersion": worker.engine_version,
        "engineHost": worker.engine_host,
        "concurrency": worker.concurrency,
        "runningJobs": running_jobs,
        "pool": worker.pool,
        "lastHeartbeatAt": isoformat(last_seen),
        "secondsSinceHeartbeat": max(0, int((now - last_seen).total_seconds())),
        "firstSeenAt": isoformat(worker.first_seen_at),
    }


def list_workers(session: Session, settings: Settings, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every worker the app remembers: online ones first, then by id."""
    now = now or utcnow()
    held = _held_counts(session)
    views = [worker_view(worker, held.get(worker.id, 0), settings, now) for worker in session.exec(select(Worker))]
    return sorted(views, key=lambda view: (STATUSES.index(view["status"]), view["id"]))


def forget_gone(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Delete the workers not heard from for CRONIUM_WORKER_FORGET_AFTER
    (a worker in a container gets a new id each time it is recreated)."""
    cutoff = (now or utcnow()) - settings.worker_forget_after
    return session.execute(sa.delete(Worker).where(Worker.last_seen_at < cutoff)).rowcount

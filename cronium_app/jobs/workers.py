"""The workers the app has heard from: what their heartbeats say about them
(`record`, from `queue.heartbeat`), the list an administrator sees (the
Workers page, `GET /api/v1/workers`), and forgetting the long gone.

A worker's status is derived when it is read: `stopped` when it said so
as it stopped, `gone` when no heartbeat came for CRONIUM_WORKER_GONE_AFTER
(it crashed, or lost the app), `draining` while it stops, else `online`.
Its running jobs are counted from the jobs it holds, not taken from it.

Job slots (the metrics' workers online and slots used/free, `online_slots`).
Each claim and heartbeat carries `X-Worker-Slots: used/total`. A heartbeat
writes its worker's row anyway, slots included (`with_slots`). A worker also
claims every few seconds (a long poll): writing each time would add a write
to every claim, so a replica writes a claim's slots at most every
SLOTS_WRITE_EVERY_S (and at once when its total changes: `record_slots`).
A worker not heard from for ONLINE_WITHIN_S is not counted online.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from cronium_app.db import write_session
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
    # From the X-Worker-Slots header (`with_slots`), not from the body.
    "slotsUsed": "slots_used", "slotsTotal": "slots_total",
}


SLOTS_WRITE_EVERY_S = 5.0
# Longer than the longest claim long poll (CRONIUM_CLAIM_MAX_WAIT, 30 s by
# default), so that an idle worker waiting on one stays online.
ONLINE_WITHIN_S = 60.0
SLOTS_RE = re.compile(r"^(\d{1,6})/(\d{1,6})$")

_slots_lock = threading.Lock()
_slots_written: dict[str, tuple[float, int]] = {}  # worker -> (monotonic time, total) of our last write


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


def parse_slots(header: str | None) -> tuple[int, int] | None:
    """`used/total` as (used, total); None when absent or malformed (a
    worker of an earlier release sends none: it just is not counted)."""
    match = SLOTS_RE.match(header or "")
    if not match:
        return None
    used, total = int(match[1]), int(match[2])
    return (min(used, total), total) if total > 0 else None


def slots_due_for_write(worker_id: str, total: int) -> bool:
    """Claim this worker's next slots write if it is due (see the module's docstring)."""
    now = time.monotonic()
    with _slots_lock:
        last = _slots_written.get(worker_id)
        if last is not None and now - last[0] < SLOTS_WRITE_EVERY_S and last[1] == total:
            return False
        _slots_written[worker_id] = (now, total)
        return True


def with_slots(info: dict[str, Any] | None, header: str | None) -> dict[str, Any] | None:
    """A heartbeat's details plus the slots its header says (a heartbeat
    writes the row anyway: its slots go in the same statement)."""
    slots = parse_slots(header)
    if slots is None:
        return info
    return {**(info or {}), "slotsUsed": slots[0], "slotsTotal": slots[1]}


def record_slots(worker_id: str, header: str | None, now: datetime) -> None:
    """Keep the slots a claiming worker says it has, if a write is due; its
    own short transaction (a claim's long poll holds none). Only a worker
    whose heartbeat made its row is updated: until then it is not listed,
    nor counted online, rather than shown without its details."""
    slots = parse_slots(header)
    if slots is None or not slots_due_for_write(worker_id, slots[1]):
        return
    used, total = slots
    with write_session() as session:
        session.execute(
            sa.update(Worker).where(Worker.id == worker_id).values(slots_used=used, slots_total=total, last_seen_at=now)
        )


def online_slots(session: Session, now: datetime) -> tuple[int, int, int]:
    """(workers online, their slots in use, their slots free): those that
    said their slots within ONLINE_WITHIN_S and did not say they stopped."""
    row = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(Worker.slots_used), 0),
            sa.func.coalesce(sa.func.sum(Worker.slots_total - Worker.slots_used), 0),
        ).where(
            Worker.last_seen_at >= now - timedelta(seconds=ONLINE_WITHIN_S),
            Worker.slots_total.is_not(None),
            sa.or_(Worker.state.is_(None), Worker.state != "stopped"),
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


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

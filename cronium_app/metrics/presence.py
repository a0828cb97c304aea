"""Which workers are online, and their job slots, as they last told any app
replica: each claim and heartbeat carries `X-Worker-Slots: used/total`, and
the replica that gets it keeps a row per worker.

A worker claims every few seconds (a long poll) and, while it holds jobs,
heartbeats every second: writing each time would add a write to every
claim. A replica writes a worker's row at most every WRITE_EVERY_S (and at
once when its total changes), so the slot figures are at most that old. A
worker not heard from for ONLINE_WITHIN_S is offline; its row stays for
when it comes back (a handful of rows per worker host, ever).
"""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from cronium_app.db import is_sqlite, write_session
from cronium_app.models import WorkerPresence

WRITE_EVERY_S = 5.0
# Longer than the longest claim long poll (CRONIUM_CLAIM_MAX_WAIT, 30 s by
# default), so that an idle worker waiting on one stays online.
ONLINE_WITHIN_S = 60.0
SLOTS_RE = re.compile(r"^(\d{1,6})/(\d{1,6})$")

_lock = threading.Lock()
_written: dict[str, tuple[float, int]] = {}  # worker -> (monotonic time, total) of our last write


def parse_slots(header: str | None) -> tuple[int, int] | None:
    """`used/total` as (used, total); None when absent or malformed (a
    worker of the previous release sends none: it just is not counted)."""
    match = SLOTS_RE.match(header or "")
    if not match:
        return None
    used, total = int(match[1]), int(match[2])
    return (min(used, total), total) if total > 0 else None


def due_for_write(worker_id: str, total: int) -> bool:
    """Claim this worker's next write if it is due (see the module's docstring)."""
    now = time.monotonic()
    with _lock:
        last = _written.get(worker_id)
        if last is not None and now - last[0] < WRITE_EVERY_S and last[1] == total:
            return False
        _written[worker_id] = (now, total)
        return True


def record(worker_id: str, header: str | None, now: datetime) -> None:
    """Keep what the worker said, if a write is due; its own short transaction."""
    slots = parse_slots(header)
    if slots is None or not due_for_write(worker_id, slots[1]):
        return
    used, total = slots
    with write_session() as session:
        upsert(session, worker_id, used, total, now)


def upsert(session: Session, worker_id: str, used: int, total: int, now: datetime) -> None:
    insert = sqlite.insert if is_sqlite(session.get_bind()) else postgresql.insert
    values = {"worker_id": worker_id, "slots_used": used, "slots_total": total, "last_seen_at": now}
    stmt = insert(WorkerPresence).values(**values)
    session.execute(stmt.on_conflict_do_update(index_elements=["worker_id"], set_=values))


def online(session: Session, now: datetime) -> tuple[int, int, int]:
    """(workers online, their slots in use, their slots free)."""
    row = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(WorkerPresence.slots_used), 0),
            sa.func.coalesce(sa.func.sum(WorkerPresence.slots_total - WorkerPresence.slots_used), 0),
        ).where(WorkerPresence.last_seen_at >= now - timedelta(seconds=ONLINE_WITHIN_S))
    ).one()
    return int(row[0]), int(row[1]), int(row[2])
